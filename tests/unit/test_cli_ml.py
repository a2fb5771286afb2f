"""``fashionseg train/predict/export-model``: which run, worded refusals, resume paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic import CLASSES, TINY_TRAIN_ARGS, synthetic_samples

from fashionseg_gui.cli import main
from fashionseg_gui.core.project import Project


def _project(root: Path, n: int = 6) -> Path:
    project = Project.create(root / "p", [(c, "#123456") for c in CLASSES])
    for k, s in enumerate(synthetic_samples(n, seed=2)):
        path = root / f"shot{k}.png"
        Image.fromarray(s.load_image()).save(path)
        image_id = project.add_image_file(path).image_id
        if k < n - 1:
            project.write_mask(image_id, s.load_mask())
    project.save()
    project.close()
    return root / "p"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_ml")
    proj = _project(root)
    assert main(["train", str(proj), *TINY_TRAIN_ARGS]) == 0
    return proj


def _copy(proj: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(proj, out, ignore=shutil.ignore_patterns(".fashionseg.lock"))
    return out


def test_predict_uses_the_newest_run_by_creation_time_and_says_so(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _copy(trained, tmp_path)
    (mine,) = [p for p in (proj / "runs").iterdir()]
    shipped = proj / "runs" / "zz-shipped"
    shutil.copytree(mine, shipped)
    config = json.loads((shipped / "config.json").read_text())
    config["created"] = "2020-01-01T00:00:00+00:00"
    (shipped / "config.json").write_text(json.dumps(config))
    metrics = json.loads((shipped / "metrics.json").read_text())
    metrics["created"] = "2020-01-01T00:00:00+00:00"
    (shipped / "metrics.json").write_text(json.dumps(metrics))
    capsys.readouterr()
    assert main(["predict", str(proj)]) == 0
    out = capsys.readouterr().out
    assert f"using run {mine.name} (the newest run with a model), guided upsampling" in out
    assert "predicting shot" in out  # the progress names the photo's file, not its id
    assert main(["predict", str(proj), "--run", "zz-shipped"]) == 0
    assert "using run zz-shipped (--run)" in capsys.readouterr().out


def _malicious_run(proj: Path) -> str:
    import keras

    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda x: keras.ops.softmax(x[..., :3] * 0.0))(inputs)
    (mine,) = [p for p in (proj / "runs").iterdir()]
    bad = proj / "runs" / "crafted"
    shutil.copytree(mine, bad)
    keras.Model(inputs, outputs).save(bad / "checkpoints" / "best.keras")
    return bad.name


def test_a_model_file_with_code_is_refused_with_a_worded_message(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _copy(trained, tmp_path)
    bad = _malicious_run(proj)
    capsys.readouterr()
    for args in (
        ["predict", str(proj), "--run", bad],
        ["export-model", str(proj), "--run", bad, "--out", str(tmp_path / "sm")],
    ):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "this model file contains code and was not loaded" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_resume_from_in_project_json_only_loads_runs_of_the_project(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _copy(trained, tmp_path)
    (mine,) = [p for p in (proj / "runs").iterdir()]
    outside = tmp_path / "elsewhere"
    shutil.copytree(mine, outside)  # a valid checkpoint, but outside the project
    project = Project.open(proj)
    project.set_setting("train", {"resume_from": str(outside)})
    project.close()
    capsys.readouterr()
    assert main(["train", str(proj), *TINY_TRAIN_ARGS]) == 0
    assert "ignoring settings.train.resume_from" in capsys.readouterr().err
    newest = max((p for p in (proj / "runs").iterdir()), key=lambda p: p.stat().st_mtime)
    assert json.loads((newest / "config.json").read_text())["resume_from"] is None
    # an explicit --resume with a path is the user's choice and is honoured
    assert main(["train", str(proj), *TINY_TRAIN_ARGS, "--resume", str(outside)]) == 0
    runs = sorted((p for p in (proj / "runs").iterdir()), key=lambda p: p.stat().st_mtime)
    assert json.loads((runs[-1] / "config.json").read_text())["resume_from"] == str(outside)
    # a run of the project named in project.json is still resumed
    project = Project.open(proj)
    project.set_setting("train", {"resume_from": mine.name})
    project.close()
    assert main(["train", str(proj), *TINY_TRAIN_ARGS]) == 0
    runs = sorted((p for p in (proj / "runs").iterdir()), key=lambda p: p.stat().st_mtime)
    assert json.loads((runs[-1] / "config.json").read_text())["resume_from"] == str(
        proj / "runs" / mine.name
    )


def test_exported_saved_model_names_its_classes(trained: Path, tmp_path: Path) -> None:
    (run,) = [p for p in (trained / "runs").iterdir()]
    out = tmp_path / "sm"
    assert main(["export-model", str(trained), "--run", run.name, "--out", str(out)]) == 0
    meta = json.loads((out / "fashionseg.json").read_text())
    assert meta["class_names"] == CLASSES and meta["num_classes"] == 3
    import tensorflow as tf

    loaded = tf.saved_model.load(str(out))  # keep it referenced while calling it
    got = loaded.serve(tf.constant(np.zeros((1, 20, 30, 3), np.uint8)))
    assert got["class_ids"].shape == (1, 20, 30)


def test_train_predict_and_export_take_the_upsampling(tmp_path: Path, capsys) -> None:
    """``train --upsampling bilinear`` records it in the run; ``predict`` and
    ``export-model`` use the run's unless ``--upsampling`` says otherwise; a predict with
    the other head does not skip the photo as already predicted."""
    from fashionseg_gui.core import scores as S

    proj = _project(tmp_path, n=4)
    assert main(["train", str(proj), *TINY_TRAIN_ARGS, "--upsampling", "bilinear"]) == 0
    (run,) = [p for p in (proj / "runs").iterdir()]
    assert json.loads((run / "config.json").read_text())["upsampling"] == "bilinear"
    opened = Project.open(proj, read_only=True)
    unlabelled = [i for i in opened.images if not opened.has_mask(i)]
    prediction = opened.prediction_path(unlabelled[0])
    opened.close()
    capsys.readouterr()
    assert main(["predict", str(proj), "--unlabelled"]) == 0
    assert "bilinear upsampling" in capsys.readouterr().out
    assert main(["predict", str(proj), "--unlabelled", "--upsampling", "guided"]) == 0
    out = capsys.readouterr().out
    assert "guided upsampling" in out and "predicted 1 images" in out
    meta, _ = S.read_meta(prediction)
    assert meta["upsampling"] == "guided"
    for head in ("guided", "bilinear"):
        out_dir = tmp_path / f"sm-{head}"
        args = ["export-model", str(proj), "--run", run.name, "--out", str(out_dir)]
        assert main([*args, *(["--upsampling", head] if head == "guided" else [])]) == 0
        assert json.loads((out_dir / "fashionseg.json").read_text())["upsampling"] == head
