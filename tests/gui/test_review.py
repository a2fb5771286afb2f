"""Review mode: a prediction drawn distinctly, heat-map, low-confidence outlines, accept
(provenance recorded, next photo) and reject, stale predictions refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, Qt  # noqa: E402
from tiny_project import TINY, make_tiny_project  # noqa: E402

from fashionseg_gui.core import provenance as P  # noqa: E402
from fashionseg_gui.core.atomic import atomic_save_npz  # noqa: E402
from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views.editor import EditorWidget  # noqa: E402

# Under load, a prediction job of these window tests has produced Qt's "QBasicTimer::start:
# Timers cannot be started from another thread" (seen in full-suite runs only, never alone;
# the source is not found yet and no test result depended on it). Ignored here only, so a
# real warning of any other kind still fails these tests.
pytestmark = pytest.mark.qt_log_ignore(
    r"^QBasicTimer::start: Timers cannot be started from another thread$"
)


def _predict_by_hand(
    project: Project, image_id: str, run: str = "run-a", classes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Write a prediction as ``core.predict`` does: class 1 on the left half, unsure (0.3)
    in a 6x6 square, confident (0.95) elsewhere."""
    rec = project.images[image_id]
    ids = np.zeros((rec.height, rec.width), np.uint8)
    ids[:, : rec.width // 2] = 1
    conf = np.full(ids.shape, 0.95, np.float32)
    conf[2:8, 2:8] = 0.3
    names = classes if classes is not None else [c.name for c in project.classes]
    atomic_save_npz(
        project.prediction_path(image_id),
        class_ids=ids,
        confidence=conf.astype(np.float16),
        **P.prediction_meta(run, names, rec.sha256),
    )
    project.set_status(image_id, "predicted")
    return ids, conf


@pytest.fixture
def predicted(tmp_path: Path):
    project = make_tiny_project(tmp_path, n=5, labelled=2)
    todo = [i for i, r in project.images.items() if r.status == "unlabelled"]
    for image_id in todo:
        _predict_by_hand(project, image_id)
    yield project, todo
    project.close()


@pytest.fixture
def editor(qtbot):
    widget = EditorWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    yield widget
    widget.shutdown()


def _click(qtbot, editor: EditorWidget, x: float, y: float) -> None:
    canvas = editor.canvas
    qtbot.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.mapFromScene(QPointF(x, y)),
    )


def test_review_mode_shows_the_prediction_hatched_with_heatmap_and_outlines(
    qtbot, editor, predicted
):
    project, todo = predicted
    editor.set_project(project)
    editor.open_image(todo[0])
    assert editor.review is not None and editor.review.run == "run-a"
    assert editor.review_bar.isVisible()
    assert "Prediction of run run-a" in editor.review_bar.title.text()
    assert "3 predicted photos left to review" in editor.review_bar.left_label.text()
    assert "Prediction of run run-a" in editor.hint_label.text()
    # hatched: pixels of one class alternate between the class colour and a faint one
    rgba = editor.canvas.overlay_rgba()
    full = editor.canvas.class_rgba(1)
    row = rgba[0, :8, 3]
    assert full[3] in row and (row < full[3]).any()
    # the unsure square is outlined (cv2 contours), no heat-map until H
    assert editor.canvas.low_confidence_count() == 1
    assert editor.canvas.heatmap_rgba() is None
    qtbot.keyClick(editor.canvas, Qt.Key.Key_H)
    heat = editor.canvas.heatmap_rgba()
    assert heat is not None
    assert heat[4, 4, 3] > heat[20, 20, 3]  # unsure pixels are more opaque
    assert heat[4, 4, 0] > heat[4, 4, 2]  # and red, confident ones blue
    assert not editor.canvas.overlay_item.isVisible()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_H)
    assert editor.canvas.heatmap_rgba() is None and editor.canvas.overlay_item.isVisible()
    # a labelled photo is not in review mode
    editor.open_image(project.labelled_ids()[0])
    assert editor.review is None and not editor.review_bar.isVisible()
    assert not editor.canvas.prediction_style


def test_accept_with_enter_records_provenance_and_opens_the_next(qtbot, editor, predicted):
    project, todo = predicted
    editor.set_project(project)
    clock = iter([100.0, 101.0, 103.0, 200.0, 201.5] + [202.0] * 50)
    editor._clock = lambda: next(clock)
    editor.open_image(todo[0])
    predicted_ids, _ = project.read_prediction(todo[0])
    editor.set_tool("brush")
    editor.set_current_class(2)
    editor.brush_spin.setValue(1)
    _click(qtbot, editor, 20.5, 5.5)  # a pixel the prediction says is background
    assert editor.doc.mask[5, 20] == 2
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert project.images[todo[0]].status == "corrected"
    entry = P.get(project, todo[0])
    assert entry["accepted"] is True and entry["run"] == "run-a"
    changed = int((project.read_mask(todo[0]) != predicted_ids).sum())
    assert changed >= 1 and entry["pixels_changed"] == changed
    assert entry["changed_share"] == pytest.approx(changed / predicted_ids.size, abs=1e-6)
    # active time: gaps of 1 s, 2 s and 1.5 s count; the 97 s pause does not
    assert 0 < entry["active_seconds"] <= 5.0
    assert not P.review_pending(project, todo[0])
    # the next photo waiting for review is open
    assert editor.current_image_id() == todo[1]
    assert editor.review is not None
    assert "2 predicted photos left to review" in editor.review_bar.left_label.text()
    # saved: a reopened project has the status and provenance
    again = Project.open(project.root, read_only=True)
    assert again.images[todo[0]].status == "corrected"
    assert again.images[todo[0]].provenance["accepted"] is True
    totals = P.totals(again)
    assert totals["photos_corrected"] == 1 and totals["pending_review"] == 2


def test_a_review_left_half_done_is_found_again(qtbot, editor, predicted):
    """An autosaved correction is `corrected` on disk but still waits for Accept."""
    project, todo = predicted
    editor.set_project(project)
    editor.open_image(todo[0])
    editor.set_tool("brush")
    editor.set_current_class(2)
    _click(qtbot, editor, 20.5, 5.5)
    assert editor.save_now()
    assert project.images[todo[0]].status == "corrected"
    assert P.get(project, todo[0])["accepted"] is False
    editor.set_project(None)
    editor.set_project(project)
    editor.open_image(todo[0])
    assert editor.review is not None  # still under review after a reopen
    assert editor.accept_prediction()
    assert P.get(project, todo[0])["accepted"] is True


def test_reject_restores_the_previous_state_and_keeps_the_rest(qtbot, editor, predicted):
    project, todo = predicted
    editor.set_project(project)
    other_mask = project.read_mask(project.labelled_ids()[0]).copy()
    editor.open_image(todo[0])
    editor.set_tool("brush")
    editor.set_current_class(2)
    _click(qtbot, editor, 20.5, 5.5)
    assert editor.save_now()  # a correction autosaved, then the user rejects
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert project.images[todo[0]].status == "unlabelled"
    assert not project.prediction_path(todo[0]).exists()
    assert (project.prediction_path(todo[0]).parent / "rejected" / f"{todo[0]}.npz").exists()
    assert not project.has_mask(todo[0]) and P.get(project, todo[0]) is None
    assert editor.review is None and (editor.doc.mask == 255).all()
    # nothing else changed
    assert np.array_equal(project.read_mask(project.labelled_ids()[0]), other_mask)
    assert all(project.images[i].status == "predicted" for i in todo[1:])
    assert P.restore_rejected(project, todo[0])
    assert project.images[todo[0]].status == "predicted"


@pytest.mark.parametrize("problem", ["classes", "photo"])
def test_a_stale_prediction_is_refused_and_loses_nothing(qtbot, editor, predicted, problem):
    project, todo = predicted
    image_id = todo[0]
    if problem == "classes":
        _predict_by_hand(project, image_id, classes=["background", "red", "green"])
    else:  # written for another photo (another hash)
        rec = project.images[image_id]
        ids, conf = _predict_by_hand(project, image_id)
        atomic_save_npz(
            project.prediction_path(image_id),
            class_ids=ids,
            confidence=conf.astype(np.float16),
            **P.prediction_meta("run-a", [c.name for c in project.classes], "0" * 64),
        )
        assert rec.sha256
    before = project.prediction_path(image_id).read_bytes()
    editor.set_project(project)
    editor.open_image(image_id)
    assert editor.review is not None and editor.review.stale
    word = "classes" if problem == "classes" else "photo changed"
    assert word in editor.review_bar.title.text()
    assert not editor.review_bar.accept_button.isEnabled()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert "cannot accept" in editor.hint_label.text()
    assert project.images[image_id].status == "predicted"
    assert not project.has_mask(image_id)
    assert project.prediction_path(image_id).read_bytes() == before


def test_enter_still_finishes_a_polygon_in_review_mode(qtbot, editor, predicted):
    project, todo = predicted
    editor.set_project(project)
    editor.open_image(todo[0])
    editor.set_tool("polygon")
    for x, y in ((2.5, 2.5), (12.5, 2.5), (12.5, 12.5)):
        _click(qtbot, editor, x, y)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert len(editor.doc.shapes) == 1
    assert project.images[todo[0]].status == "predicted"  # not accepted by that Enter
    assert editor.review is not None


def test_predict_review_correct_accept_through_the_window(qtbot, tmp_path):
    """The loop through the real window: predict with a trained run, review, correct with
    the brush, accept with Enter: the photo is corrected, its provenance names the run,
    the next predicted photo opens, and the photo is in the next dataset build."""
    from PySide6.QtCore import QSettings

    from fashionseg_gui.core import data as D
    from fashionseg_gui.core.train import TrainConfig, train
    from fashionseg_gui.views.main_window import MainWindow

    project = make_tiny_project(tmp_path, n=6, labelled=4)
    run = train(TrainConfig.from_dict(TINY), project).run_dir
    root = project.root
    project.close()
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    w.show()
    assert w.open_project(root)
    panel = w.ensure_train_panel()
    unlabelled = [i for i, r in w.project.images.items() if r.status == "unlabelled"]
    with qtbot.waitSignal(panel.sigPredictionsReady, timeout=180_000):
        assert panel.predict_unlabelled()
    target = unlabelled[0]
    assert w.browser.select_image(target)
    qtbot.waitUntil(lambda: w.editor.current_image_id() == target, timeout=10_000)
    editor = w.editor
    assert editor.review is not None and editor.review.run == run.name
    assert f"Prediction of run {run.name}" in editor.review_bar.title.text()
    predicted_ids, _ = w.project.read_prediction(target)
    editor.set_tool("brush")
    editor.set_current_class(2)
    editor.brush_spin.setValue(2)
    _click(qtbot, editor, 6.5, 6.5)
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    rec = w.project.images[target]
    assert rec.status == "corrected"
    assert rec.provenance["run"] == run.name and rec.provenance["accepted"]
    assert rec.provenance["pixels_changed"] == int(
        (w.project.read_mask(target) != predicted_ids).sum()
    )
    assert editor.current_image_id() != target  # the next photo opened
    assert target in [s.id for s in D.samples_from_project(w.project)]

    # Round 2 from the round history: one click fine-tunes the best run; the new run
    # records what it trained on and the history shows the effort spent since round 1.
    history = panel.round_history
    assert len(history.rounds) == 1 and history.best_run() == str(run)
    assert history.rounds[0].labelled == 4 and history.rounds[0].corrected == 0
    panel.set_config(TINY)
    with qtbot.waitSignal(panel.sigRunFinished, timeout=180_000) as done:
        qtbot.mouseClick(history.finetune_button, Qt.MouseButton.LeftButton)
    second = Path(done.args[0])
    config = json.loads((second / "config.json").read_text())
    assert config["resume_from"] == str(run)
    assert config["labelled_images"] == 5 and config["corrected_images"] == 1
    history.refresh(w.project)
    assert [r.name for r in history.rounds] == [run.name, second.name]
    assert history.rounds[1].corrected == 1 and history.rounds[1].effort_photos == 1
    assert history.rounds[1].effort_pixels == rec.provenance["pixels_changed"]
    assert history.table.rowCount() == 2
    xs, _ys = history.curve.getData()
    assert list(xs) == [4, 5]
    w.close()


def test_changes_overlay_shows_the_pixels_changed_against_the_prediction(qtbot, editor, predicted):
    project, todo = predicted
    editor.set_project(project)
    editor.open_image(todo[0])
    editor.review_bar.diff_box.setChecked(True)
    diff = editor.canvas.diff_rgba()
    assert diff is not None and not diff[..., 3].any()  # nothing changed yet
    editor.set_tool("brush")
    editor.set_current_class(2)
    editor.brush_spin.setValue(1)
    _click(qtbot, editor, 20.5, 5.5)
    diff = editor.canvas.diff_rgba()
    assert diff[5, 20, 3] > 0 and diff[20, 20, 3] == 0
    editor.review_bar.diff_box.setChecked(False)
    assert editor.canvas.diff_rgba() is None
