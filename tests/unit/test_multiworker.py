"""Scale-out that is really run: two worker processes on localhost train from TFRecords.

``--strategy multiworker`` with a TF_CONFIG of two workers on two free ports: both step,
the chief (worker 0) alone writes the run folder and checkpoints, and the exported
SavedModel predicts. Kept small (a tiny network on six 32x48 photos) so it runs in the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic import CLASSES, TINY_TRAIN_ARGS, synthetic_samples

from fashionseg_gui.cli import main
from fashionseg_gui.core.project import Project

REPO = Path(__file__).resolve().parents[2]


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("localhost", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_a_time_budget_is_refused_with_multiworker(tmp_path: Path, monkeypatch) -> None:
    from fashionseg_gui.core.train import TrainConfig, TrainData, TrainError, train

    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps(
            {"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 0}}
        ),
    )
    monkeypatch.setattr("fashionseg_gui.core.train._strategy", lambda name: None)
    s = synthetic_samples(4)
    with pytest.raises(TrainError, match="time budget"):
        train(
            TrainConfig(strategy="multiworker", max_minutes=1.0),
            TrainData(s[:3], s[3:], CLASSES),
            run_dir=tmp_path / "r",
        )


@pytest.mark.slow
def test_two_workers_train_from_sharded_tfrecords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project.create(tmp_path / "p", [(c, "#123456") for c in CLASSES])
    for k, s in enumerate(synthetic_samples(6, seed=3)):
        path = tmp_path / f"in{k}.png"
        Image.fromarray(s.load_image()).save(path)
        project.write_mask(project.add_image_file(path).image_id, s.load_mask())
    project.save()
    project.close()
    shards = tmp_path / "shards"
    assert main(["build", str(tmp_path / "p"), "--tfrecords", str(shards), "--shards", "2"]) == 0
    assert len(list(shards.glob("*.tfrecord"))) == 2

    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    args = [
        sys.executable,
        "-m",
        "fashionseg_gui.cli",
        "train",
        str(tmp_path / "p"),
        "--tfrecords",
        str(shards),
        "--strategy",
        "multiworker",
        *TINY_TRAIN_ARGS,
    ]
    procs = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            CUDA_VISIBLE_DEVICES="",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        procs.append(
            subprocess.Popen(
                args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    deadline = time.monotonic() + 240
    outs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            outs.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for rc, out, err in outs:
        assert rc == 0, err[-6000:]
        assert "epoch 1/1 [" in out and "loss" in out, out  # each worker stepped
        assert "completed: best epoch 1" in out, out

    runs = [p for p in (tmp_path / "p" / "runs").iterdir()]
    assert len(runs) == 1, runs  # the chief alone wrote a run folder
    run = runs[0]
    assert str(run) in outs[0][1] and str(run) not in outs[1][1]
    for name in (
        "config.json",
        "metrics.json",
        "history.csv",
        "checkpoints/best.keras",
        "checkpoints/last.keras",
    ):
        assert (run / name).is_file(), name
    assert json.loads((run / "config.json").read_text())["early_stopping_patience"] is None
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_images"] + metrics["val_images"] == 6

    capsys.readouterr()
    assert (
        main(
            ["export-model", str(tmp_path / "p"), "--run", run.name, "--out", str(tmp_path / "sm")]
        )
        == 0
    )
    import tensorflow as tf

    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    photo = synthetic_samples(1, seed=8)[0].load_image()
    got = loaded.serve(tf.constant(photo[None]))
    assert got["class_ids"].shape == (1, 32, 48)
    assert got["probabilities"].numpy().sum(-1) == pytest.approx(np.ones((1, 32, 48)), abs=1e-3)
