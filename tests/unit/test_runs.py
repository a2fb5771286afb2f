"""core.runs and core.train_config: run layout, the one "latest run" rule, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fashionseg_gui.core import runs as R


def _run(
    base: Path, name: str, created: str | None, model: bool = True, metrics: dict | None = None
) -> Path:
    run = base / name
    (run / "checkpoints").mkdir(parents=True)
    config = {"epochs": 1}
    if created is not None:
        config["created"] = created
    (run / "config.json").write_text(json.dumps(config))
    if metrics is not None:
        (run / "metrics.json").write_text(json.dumps(metrics))
    if model:
        (run / "checkpoints" / "best.keras").write_bytes(b"x")
    return run


def test_latest_run_is_by_recorded_creation_time_not_by_name(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    mine = _run(runs, "20260101-120000-000", "2026-01-01T12:00:00+00:00")
    _run(runs, "zz-shipped", "2025-06-01T08:00:00+00:00")  # sorts last by name, but older
    _run(runs, "zzz-no-time", None)  # an older version's run: never outranks recorded ones
    _run(runs, "20260102-000000-000", "2026-01-02T00:00:00+00:00", model=False)  # no model
    assert R.latest_run(runs) == mine
    names = [r.name for r in R.list_runs(runs)]
    assert names == ["20260102-000000-000", "20260101-120000-000", "zz-shipped", "zzz-no-time"]
    assert [r.has_model for r in R.list_runs(runs)] == [False, True, True, True]


def test_latest_run_without_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(R.RunError, match="no trained model"):
        R.latest_run(tmp_path / "runs")
    _run(tmp_path / "runs", "a", "2026-01-01T00:00:00+00:00", model=False)
    with pytest.raises(R.RunError, match="no trained model"):
        R.latest_run(tmp_path / "runs")


def test_creation_time_from_metrics_and_bad_values(tmp_path: Path) -> None:
    run = _run(tmp_path, "r", None, metrics={"created": "2026-03-01T10:00:00+00:00"})
    assert R.created(run) == pytest.approx(1772359200.0)
    bad = _run(tmp_path, "b", "yesterday")
    assert R.created(bad) is None
    assert R.read_run(bad) == {"state": "incomplete"}
    assert R.read_run(tmp_path / "nothing") is None


def test_read_history_counts_epochs_from_one(tmp_path: Path) -> None:
    run = _run(tmp_path, "r", None)
    (run / "history.csv").write_text("epoch,loss,val_miou\n1,0.9,0.2\n2,0.5,\n")
    rows = R.read_history(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["loss"] == pytest.approx(0.9) and "val_miou" not in rows[1]
    assert R.read_history(tmp_path / "none") == []


def test_resolve_run_by_id_or_path(tmp_path: Path) -> None:
    run = _run(tmp_path / "runs", "abc", None)
    assert R.resolve_run(tmp_path / "runs", "abc") == run
    assert R.resolve_run(tmp_path / "runs", str(run)) == run
    with pytest.raises(R.RunError, match="no run 'x'"):
        R.resolve_run(tmp_path / "runs", "x")
    assert R.is_inside(run, tmp_path / "runs")
    assert not R.is_inside(tmp_path, tmp_path / "runs")


def test_train_config_and_runs_import_neither_tensorflow_nor_qt() -> None:
    code = (
        "import sys; import fashionseg_gui.core.train_config as c, fashionseg_gui.core.runs;"
        "c.TrainConfig(); c.defaults();"
        "print([m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_config_constants_match_the_model() -> None:
    from fashionseg_gui.core import model as M
    from fashionseg_gui.core import train_config as C

    assert C.LOSS_KINDS == M.LOSS_KINDS and C.DECODERS == M.DECODERS
