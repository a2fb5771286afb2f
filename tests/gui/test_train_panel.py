"""The Train train_panel: no TensorFlow at construction, live curves, Stop, failures, runs list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tiny_project import TINY, make_tiny_project  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views.train_panel import read_history  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_project(tmp_path: Path):
    project = make_tiny_project(tmp_path, n=5, labelled=5)
    yield project
    project.close()


def test_constructing_the_panel_does_not_import_tensorflow():
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
        "from fashionseg_gui.views.train_panel import TrainPanel\n"
        "p = TrainPanel(); p.show(); app.processEvents()\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_without_a_project_nothing_can_start(train_panel):
    assert not train_panel.train_button.isEnabled()
    assert not train_panel.start_training()
    assert "project" in train_panel.message.text().lower()


def test_settings_round_trip_and_are_saved_with_the_project(train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    train_panel.set_config(dict(TINY, loss="weighted_ce", augment_color=False))
    cfg = train_panel.config_dict()
    assert cfg["loss"] == "weighted_ce" and cfg["augment_color"] is False
    assert cfg["input_height"] == 32 and cfg["depth"] == 2
    train_panel.set_config({"epochs": 7})
    assert train_panel.config_dict()["epochs"] == 7


def test_a_tiny_training_fills_the_curves_and_the_runs_list(qtbot, train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    train_panel.set_config(dict(TINY, epochs=2))
    finished: list[str] = []
    train_panel.sigRunFinished.connect(finished.append)
    assert train_panel.start_training()
    assert not train_panel.train_button.isEnabled() and train_panel.stop_button.isEnabled()
    assert not train_panel.settings_box.isEnabled()
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert train_panel.message.isHidden(), train_panel.message.text()
    x, y = train_panel.curves.curve_data("val_miou")
    assert list(x) == [1.0, 2.0] and np.all((y >= 0) & (y <= 1))
    assert train_panel.curves.curve_data("batch_loss")[0].size >= 2
    bx, by = train_panel.curves.curve_data("baseline_miou")
    assert by.size == 2 and by[0] == by[1]
    assert train_panel.class_metrics.iou.size == 3
    assert train_panel.class_metrics.confusion.shape == (3, 3)
    assert train_panel.runs.rowCount() == 1
    assert finished and Path(finished[0]).is_dir()
    assert train_panel.predict_button.isEnabled()
    # The settings went into the project and come back on reopen.
    assert tiny_project.settings["train"]["epochs"] == 2
    # Selecting the run shows its history.
    train_panel.curves.reset()
    train_panel.runs.selectRow(0)
    assert train_panel.curves.curve_data("loss")[0].size == 2
    assert len(read_history(Path(finished[0]))) == 2


def test_stop_button_stops_the_training(qtbot, train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    train_panel.set_config(dict(TINY, epochs=500, batch_size=1))
    assert train_panel.start_training()
    qtbot.waitUntil(
        lambda: train_panel.curves.curve_data("batch_loss")[0].size > 0, timeout=180_000
    )
    qtbot.mouseClick(
        train_panel.stop_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=60_000)
    assert "stopped" in train_panel.progress.format().lower()
    assert train_panel.curves.curve_data("loss")[0].size < 500
    assert train_panel.train_button.isEnabled()


def test_a_failing_training_shows_the_message_and_the_panel_survives(qtbot, train_panel, tmp_path):
    project = make_tiny_project(tmp_path, n=2, labelled=0)
    train_panel.set_project(project)
    train_panel.set_config(TINY)
    assert train_panel.start_training()
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert not train_panel.message.isHidden()
    assert train_panel.message.text().startswith("Training failed:")
    assert "labelled" in train_panel.message.text()
    assert train_panel.train_button.isEnabled()  # ready for another try
    project.close()


def test_read_only_project_cannot_train(qtbot, train_panel, tiny_project):
    other = Project.open(tiny_project.root)  # the lock is held: read-only
    assert other.read_only
    train_panel.set_project(other)
    assert not train_panel.train_button.isEnabled()
    assert not train_panel.start_training()
    assert "read-only" in train_panel.message.text()


def test_runs_list_reads_metrics_json(train_panel, tiny_project):
    run = tiny_project.runs_dir / "20260101-000000"
    (run / "checkpoints").mkdir(parents=True)
    (run / "metrics.json").write_text(
        json.dumps(
            {"best_val_miou": 0.61, "baseline_miou": 0.2, "epochs_run": 3, "stopped": "completed"}
        )
    )
    (run / "history.csv").write_text(
        "epoch,loss,val_loss,val_miou\n1,1.0,1.1,0.3\n2,0.8,0.9,0.5\n3,0.7,0.8,0.61\n"
    )
    train_panel.set_project(tiny_project)
    assert train_panel.runs.rowCount() == 1
    texts = [train_panel.runs.item(0, c).text() for c in range(train_panel.runs.columnCount())]
    assert texts[0] == run.name and "0.610" in texts and "0.200" in texts
    assert texts[2] == "3" and texts[-1] == "completed (no model)"
    assert not train_panel.predict_button.isEnabled()
    train_panel.runs.selectRow(0)
    assert list(train_panel.curves.curve_data("val_miou")[0]) == [1.0, 2.0, 3.0]


def test_curves_smooth_batch_losses_and_draw_the_baseline(qtbot):
    from fashionseg_gui.views.plots import TrainingCurves, ema_alpha

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    losses = [(b / 40, 1.0 if b % 2 else 3.0) for b in range(1, 41)]  # noisy: 1, 3, 1, 3...
    curves.add_batch_losses(losses[:5], batches_per_epoch=40)
    curves.add_batch_losses(losses[5:], batches_per_epoch=40)  # arrives in two chunks
    x, raw = curves.curve_data("batch_loss_raw")
    _, ema = curves.curve_data("batch_loss")
    assert x.size == 40 and list(raw[:2]) == [1.0, 3.0]
    assert abs(ema[-1] - 2.0) < 0.3 and np.ptp(ema[20:]) < 0.5  # smoothed around the mean
    assert ema_alpha(3) == 1.0  # tiny epochs: no smoothing
    curves.add_epoch({"epoch": 1, "loss": 2.0, "val_miou": float("nan"), "baseline_miou": 0.25})
    _, base = curves.curve_data("baseline_miou")
    assert list(base) == [0.25, 0.25]
    assert np.isnan(curves.curve_data("val_miou")[1][0])  # a missing value stays a gap


def test_curves_follow_training_by_whole_epochs_and_coalesce_batch_redraws(qtbot):
    from fashionseg_gui.views.plots import BATCH_REFRESH_MS, TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    view_x = lambda: curves.loss_plot.getViewBox().viewRange()[0]  # noqa: E731
    curves.add_batch_losses([(0.25, 2.0), (0.5, 1.8)], batches_per_epoch=4)
    x0, x1 = view_x()
    assert x0 <= 0.0 and 1.0 <= x1 < 1.1  # the first epoch, not the data's extent
    raw = curves.items["batch_loss_raw"]
    assert raw.getData()[0] is None or len(raw.getData()[0]) == 0  # not redrawn per batch
    qtbot.waitUntil(
        lambda: raw.getData()[0] is not None and len(raw.getData()[0]) == 2,
        timeout=BATCH_REFRESH_MS * 8,
    )
    curves.add_batch_losses([(1.25, 1.5)], batches_per_epoch=4)
    assert 2.0 <= view_x()[1] < 2.1  # grown by one whole epoch
    curves.add_epoch({"epoch": 2, "loss": 1.5, "val_miou": 0.4})
    assert 2.0 <= view_x()[1] < 2.1
    # a user who zooms keeps the view
    curves.loss_plot.getViewBox().sigRangeChangedManually.emit([True, True])
    curves.loss_plot.setXRange(0.5, 1.0, padding=0)
    curves.add_batch_losses([(3.5, 1.2)], batches_per_epoch=4)
    assert view_x()[1] < 1.1
    curves.reset()  # a new run follows again
    curves.add_batch_losses([(0.5, 1.0)], batches_per_epoch=4)
    assert 1.0 <= view_x()[1] < 1.1


def test_panel_defaults_come_from_core_and_train_for_a_time_budget(train_panel):
    from fashionseg_gui.core.train_config import GUI_TIME_BUDGET_MIN, TrainConfig

    core = TrainConfig().to_dict()
    cfg = train_panel.config_dict()
    for key, value in cfg.items():
        if key not in ("max_minutes", "recipe"):
            assert (
                value == pytest.approx(core[key])
                if isinstance(value, float)
                else value == core[key]
            ), key
    assert cfg["max_minutes"] == GUI_TIME_BUDGET_MIN and cfg["recipe"] == "auto"
    assert TrainConfig.from_dict(cfg).max_minutes == GUI_TIME_BUDGET_MIN


def test_time_budget_and_recipe_fields(train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    assert train_panel.fitted() and not train_panel.input_height.isEnabled()
    assert not train_panel.base_width.isEnabled() and train_panel.epochs.isEnabled()
    assert "chosen for this machine" in train_panel.recipe_text.text()
    train_panel.set_config({"recipe": "manual", "max_minutes": 3.0})
    assert not train_panel.fitted() and train_panel.input_height.isEnabled()
    assert train_panel.config_dict()["recipe"] == "manual"
    assert train_panel.config_dict()["max_minutes"] == 3.0
    train_panel.set_config({"max_minutes": None, "recipe": "auto"})
    assert train_panel.time_budget.text() == "no limit"
    assert train_panel.config_dict()["max_minutes"] is None and not train_panel.fitted()
    # saved settings of the project come back
    tiny_project.set_setting("train", {"max_minutes": 7.5, "recipe": "manual"})
    train_panel.set_project(tiny_project)
    assert train_panel.config_dict()["max_minutes"] == 7.5 and not train_panel.fitted()


def test_the_chosen_recipe_is_shown(train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    train_panel._job = train_panel  # a signal of the running job (what _current() accepts)
    try:
        train_panel.sender = lambda: train_panel  # type: ignore[method-assign]
        train_panel._on_train_metrics(
            {"event": "recipe", "text": "AVX2, 2 threads: 256x176, width 24, expect ~12 epochs"}
        )
    finally:
        train_panel._job = None
        del train_panel.sender
    assert "256x176, width 24, expect ~12 epochs" in train_panel.recipe_text.text()


def test_panel_fits_a_small_screen(train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    hint = train_panel.minimumSizeHint()
    assert hint.width() <= 420 and hint.height() <= 400, hint
    assert train_panel.minimumWidth() <= 420 or train_panel.scroll.minimumWidth() <= 420


def test_a_long_result_stays_on_one_line_of_the_progress_bar(qtbot, train_panel):
    """A finished job's message is cut to the bar's width (styles wrap it onto two clipped
    lines otherwise); the status line below and the bar's tooltip keep it whole."""
    train_panel.resize(360, 700)
    train_panel.show()
    qtbot.waitExposed(train_panel)
    bar = train_panel.progress
    text = "Training stopped early (validation mIoU no longer improved): best val mIoU 0.496"
    train_panel._t_start = 0.0
    train_panel._done(text)
    assert bar.format() == text and bar.toolTip() == text
    assert text in train_panel.status.text()
    shown = bar.text()
    assert shown != text and shown.endswith("…")
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.contentsRect().width()
    bar.resize(2000, bar.height())  # room enough: the whole text
    assert bar.text() == text


def test_runs_list_is_newest_first_by_recorded_time_and_says_stop_kept_the_model(
    train_panel, tiny_project
):
    def run(name, created, stopped, model):
        d = tiny_project.runs_dir / name
        (d / "checkpoints").mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"created": created}))
        (d / "metrics.json").write_text(
            json.dumps(
                {"stopped": stopped, "created": created, "recipe": "AVX2, 2 threads: 256x176"}
            )
        )
        if model:
            (d / "checkpoints" / "best.keras").write_bytes(b"x")
        return d

    mine = run("20260105-000000-000", "2026-01-05T00:00:00+00:00", "cancelled", True)
    run("zz-shipped", "2025-01-01T00:00:00+00:00", "completed", True)
    run("20260106-000000-000", "2026-01-06T00:00:00+00:00", "cancelled", False)
    train_panel.set_project(tiny_project)
    names = [train_panel.runs.item(r, 0).text() for r in range(train_panel.runs.rowCount())]
    assert names == ["20260106-000000-000", "20260105-000000-000", "zz-shipped"]
    states = [train_panel.runs.item(r, 5).text() for r in range(3)]
    assert states == ["stopped (no model)", "stopped, model kept", "completed"]
    assert train_panel._model_run() == mine  # predict/export default: the newest with a model
    assert "256x176" in train_panel.runs.item(1, 0).toolTip()


def test_settings_with_an_explicit_recipe_and_no_recipe_key_train_manually(
    train_panel, tiny_project
):
    tiny_project.set_setting("train", {"input_height": 64, "input_width": 64, "depth": 2})
    train_panel.set_project(tiny_project)  # saved before the time budget existed
    assert not train_panel.fitted() and train_panel.config_dict()["input_height"] == 64
    train_panel.set_config({"epochs": 3})
    assert train_panel.fitted()


def test_stop_in_the_first_epoch_keeps_the_model_and_says_so(qtbot, train_panel, tiny_project):
    train_panel.set_project(tiny_project)
    train_panel.set_config(dict(TINY, epochs=500, batch_size=1))
    assert train_panel.start_training()
    qtbot.waitUntil(
        lambda: train_panel.curves.curve_data("batch_loss")[0].size > 0, timeout=180_000
    )
    train_panel.stop()
    qtbot.waitUntil(lambda: "model kept" in train_panel.progress.format(), timeout=60_000)
    assert train_panel.runs.rowCount() == 1
    assert train_panel.runs.item(0, 5).text() == "stopped, model kept"
    assert train_panel.predict_button.isEnabled()  # the kept model can predict
