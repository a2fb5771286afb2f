"""Prediction from the Train panel: writes predictions, statuses, sigPredictionsReady; export."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tiny_project import TINY, make_tiny_project  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views.train_panel import TrainPanel  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project with one trained run (trained once for the module)."""
    from fashionseg_gui.core.train import TrainConfig, train

    root = tmp_path_factory.mktemp("trained")
    project = make_tiny_project(root)
    train(TrainConfig.from_dict(TINY), project)
    project.close()
    return project.root


@pytest.fixture
def project(trained: Path, tmp_path: Path):
    dest = tmp_path / "copy"
    shutil.copytree(trained, dest, ignore=shutil.ignore_patterns(".fashionseg.lock"))
    opened = Project.open(dest)
    assert not opened.read_only
    yield opened
    opened.close()


@pytest.fixture
def panel(qtbot):
    widget = TrainPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_predict_unlabelled_writes_predictions_and_signals(qtbot, panel, project):
    unlabelled = [i for i, r in project.images.items() if r.status == "unlabelled"]
    labelled = project.labelled_ids()
    assert len(unlabelled) == 2
    panel.set_project(project)
    assert panel.runs.rowCount() == 1 and panel.predict_button.isEnabled()
    with qtbot.waitSignal(panel.sigPredictionsReady, timeout=180_000) as blocker:
        qtbot.mouseClick(panel.predict_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    assert blocker.args[0] == unlabelled
    for image_id in unlabelled:
        rec = project.images[image_id]
        assert rec.status == "predicted"
        class_ids, confidence = project.read_prediction(image_id)
        assert class_ids.shape == (rec.height, rec.width) and class_ids.dtype == np.uint8
        assert confidence.dtype == np.float16 and class_ids.max() < 3
    for image_id in labelled:
        assert project.images[image_id].status == "labelled"
        assert not project.prediction_path(image_id).exists()
    # The statuses were saved: a reopened project sees them.
    reopened = Project.open(project.root, read_only=True)
    assert all(reopened.images[i].status == "predicted" for i in unlabelled)
    assert not panel.is_busy() and "Predicted 2 images" in panel.progress.format()


def test_predicting_again_after_correction_skips_corrected_images(qtbot, panel, project):
    first = next(i for i, r in project.images.items() if r.status == "unlabelled")
    rec = project.images[first]
    project.write_mask(first, np.zeros((rec.height, rec.width), np.uint8), status="corrected")
    panel.set_project(project)
    with qtbot.waitSignal(panel.sigPredictionsReady, timeout=180_000) as blocker:
        assert panel.predict_unlabelled()
    assert first not in blocker.args[0] and len(blocker.args[0]) == 1
    assert project.images[first].status == "corrected"


def test_prediction_without_a_model_explains_why(panel, tmp_path):
    fresh = make_tiny_project(tmp_path / "fresh")
    panel.set_project(fresh)
    assert not panel.predict_button.isEnabled()
    assert not panel.predict_unlabelled()
    assert "train first" in panel.message.text().lower()
    fresh.close()


def test_prediction_failure_is_shown(qtbot, panel, project):
    project.add_class("green", "#00ff00")  # the model now predicts one class too few
    panel.set_project(project)
    assert panel.predict_unlabelled()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=180_000)
    assert panel.message.text().startswith("Prediction failed:")
    assert "retrain" in panel.message.text()


def test_export_saved_model(qtbot, panel, project, tmp_path):
    panel.set_project(project)
    out = tmp_path / "exported"
    assert panel.export_saved_model(out_dir=out)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=180_000)
    assert panel.message.isHidden(), panel.message.text()
    assert (out / "saved_model.pb").is_file()


def test_fine_tune_from_selected_run_resumes_its_weights(qtbot, panel, project):
    import json

    panel.set_project(project)
    panel.set_config(TINY)
    first = panel.runs.item(0, 0).text()
    panel.runs.selectRow(0)
    assert panel.finetune_button.isEnabled()
    qtbot.mouseClick(panel.finetune_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=180_000)
    assert panel.message.isHidden(), panel.message.text()
    assert panel.runs.rowCount() == 2
    runs = {panel.runs.item(r, 0).text() for r in range(2)}
    new = (runs - {first}).pop()
    config = json.loads((project.runs_dir / new / "config.json").read_text())
    assert config["resume_from"] == str(project.runs_dir / first)
    # The one-off resume path is not remembered as a setting.
    assert "resume_from" not in project.settings["train"]


def test_closing_the_project_cancels_a_running_job(qtbot, panel, project):
    panel.set_project(project)
    panel.set_config(dict(TINY, epochs=500, batch_size=1))
    assert panel.start_training()
    qtbot.waitUntil(lambda: panel.curves.curve_data("batch_loss")[0].size > 0, timeout=180_000)
    panel.set_project(None)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60_000)
    assert not panel.train_button.isEnabled()  # no project now
