"""EditorWidget driven with simulated mouse and keys: tools, undo, autosave, failed saves."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from fashionseg_gui.core.atomic import atomic_save_npz
from fashionseg_gui.core.project import Project
from fashionseg_gui.core.shapes import rasterize
from fashionseg_gui.views.editor import EditorWidget

H, W = 120, 160
OBJ = (slice(35, 85), slice(55, 110))  # the coloured rectangle of the synthetic photo


def _photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), (70, 140, 90), np.int16) + rng.integers(-8, 8, (H, W, 3))
    img[OBJ] = (230, 60, 150)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project.create(tmp_path / "p")
    for k in range(2):
        Image.fromarray(_photo(k)).save(tmp_path / f"photo{k}.png")
        assert proj.add_image_file(tmp_path / f"photo{k}.png").ok
    proj.save()
    yield proj
    proj.close()


@pytest.fixture
def editor(qtbot, project: Project) -> EditorWidget:
    ed = EditorWidget()
    qtbot.addWidget(ed)
    ed.resize(900, 640)
    ed.set_project(project)
    ed.open_image(next(iter(project.images)))
    ed.show()
    qtbot.waitExposed(ed)
    yield ed
    ed.shutdown()


def _vp(ed: EditorWidget, x: float, y: float) -> QPoint:
    """Viewport position of the centre of pixel (x, y)."""
    return ed.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def _click(
    qtbot,
    ed: EditorWidget,
    x: float,
    y: float,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    qtbot.mouseClick(ed.canvas.viewport(), button, mods, _vp(ed, x, y))


def _drag(
    qtbot,
    ed: EditorWidget,
    points: list[tuple[float, float]],
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
) -> None:
    vp = ed.canvas.viewport()
    qtbot.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, _vp(ed, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(vp, _vp(ed, *p))
    qtbot.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, _vp(ed, *points[-1]))


def test_polygon_clicks_set_exact_pixels(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("polygon")
    editor.set_current_class(2)
    verts = [(20, 15), (90, 22), (120, 80), (40, 100)]
    for x, y in verts:
        _click(qtbot, editor, x, y)
    _click(qtbot, editor, *verts[0])  # closing on the first vertex
    expected = np.full((H, W), 255, np.uint8)
    cv2.fillPoly(expected, [np.array(verts, np.int32).reshape(-1, 1, 2)], 2)
    assert np.array_equal(editor.doc.mask, expected)
    assert editor.doc.shapes == [
        {"kind": "polygon", "points": [list(v) for v in verts], "class_id": 2}
    ]


def test_polygon_enter_closes_and_escape_cancels(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("polygon")
    for x, y in [(10, 10), (30, 10), (20, 30)]:
        _click(qtbot, editor, x, y)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)
    assert (editor.doc.mask == 255).all() and editor.doc.shapes == []
    for x, y in [(10, 10), (30, 10), (20, 30)]:
        _click(qtbot, editor, x, y)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert len(editor.doc.shapes) == 1 and editor.doc.mask[15, 20] == 1
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)  # nothing to cancel: select tool
    assert editor.tool() == "select"


def test_rect_tool(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("rect")
    editor.set_current_class(3)
    _drag(qtbot, editor, [(30, 20), (50, 30), (70, 40)])
    shape = {"kind": "rect", "x": 30, "y": 20, "w": 41, "h": 21, "class_id": 3}
    assert editor.doc.shapes == [shape]
    assert np.array_equal(editor.doc.mask, rasterize([shape], H, W)[0])


def test_brush_eraser_fill(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("brush")
    editor.set_current_class(1)
    editor.canvas.set_brush_size(10)
    _click(qtbot, editor, 50, 50)
    yy, xx = np.mgrid[0:H, 0:W]
    disk = (xx - 50) ** 2 + (yy - 50) ** 2 <= 25
    assert ((editor.doc.mask == 1) == disk).all()
    _drag(qtbot, editor, [(20, 100), (60, 100), (100, 100)])
    assert (editor.doc.mask[100, 20:101] == 1).all()
    editor.set_tool("eraser")
    _click(qtbot, editor, 50, 50)
    assert (editor.doc.mask[disk] == 255).all()
    editor.set_tool("fill")
    editor.set_current_class(0)
    _click(qtbot, editor, 5, 5)
    assert (editor.doc.mask[editor.doc.mask != 1] == 0).all()
    assert editor.doc.undo_depth == 4


def test_brush_size_keys(qtbot, editor: EditorWidget) -> None:
    editor.canvas.setFocus()
    size = editor.canvas.brush_size
    qtbot.keyClick(editor.canvas, Qt.Key.Key_BracketRight)
    assert editor.canvas.brush_size > size
    assert editor.brush_spin.value() == editor.canvas.brush_size
    qtbot.keyClick(editor.canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_BracketLeft)
    assert editor.canvas.brush_size < size


def test_tool_shortcuts_and_tooltips(qtbot, editor: EditorWidget) -> None:
    editor.canvas.setFocus()
    for key, tool in [
        (Qt.Key.Key_P, "polygon"),
        (Qt.Key.Key_R, "rect"),
        (Qt.Key.Key_B, "brush"),
        (Qt.Key.Key_E, "eraser"),
        (Qt.Key.Key_F, "fill"),
        (Qt.Key.Key_G, "grabcut"),
        (Qt.Key.Key_V, "select"),
    ]:
        qtbot.keyClick(editor.canvas, key)
        assert editor.tool() == tool
    for act in editor.tool_actions():
        assert not act.icon().isNull()
        assert f"({act.shortcut().toString()})" in act.toolTip()


def test_undo_redo_byte_identical_250_steps(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("brush")
    editor.canvas.set_brush_size(6)
    rng = np.random.default_rng(3)
    states = [editor.doc.mask.copy()]
    k = 0
    while editor.doc.undo_depth < 250 and k < 400:
        editor.set_current_class(k % 3 + 1)
        _click(qtbot, editor, int(rng.integers(0, W)), int(rng.integers(0, H)))
        if editor.doc.undo_depth == len(states):  # the click changed pixels
            states.append(editor.doc.mask.copy())
        k += 1
    assert editor.doc.undo_depth == 250 and len(states) == 251
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(editor.doc.mask, states[-2])
    for _ in range(249):
        editor.undo_action.trigger()
    assert np.array_equal(editor.doc.mask, states[0])
    assert not editor.undo_action.isEnabled()
    for k in range(1, 251):
        editor.redo_action.trigger()
        assert np.array_equal(editor.doc.mask, states[k])
    # the overlay buffer follows the mask
    lut = editor.canvas.colour_table()
    assert np.array_equal(editor.canvas.overlay_rgba(), lut[editor.doc.mask])


def test_class_change_keys_and_signal(qtbot, editor: EditorWidget) -> None:
    with qtbot.waitSignal(editor.sigCurrentClassChanged) as blocker:
        editor.set_current_class(3)
    assert blocker.args == [3] and editor.current_class() == 3
    assert editor.class_combo.currentData() == 3
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_2)
    assert editor.current_class() == 2
    editor.set_tool("brush")
    _click(qtbot, editor, 80, 60)
    assert editor.doc.mask[60, 80] == 2


def test_cursor_info(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("fill")
    editor.set_current_class(2)
    _click(qtbot, editor, 3, 3)
    # Move somewhere else first: a move to where the (shared) cursor already is sends no event.
    qtbot.mouseMove(editor.canvas.viewport(), _vp(editor, 10, 10))
    with qtbot.waitSignal(
        editor.sigCursorInfo, check_params_cb=lambda text: text.startswith("x 120,")
    ) as blocker:
        qtbot.mouseMove(editor.canvas.viewport(), _vp(editor, 120, 45))
    assert blocker.args == ["x 120, y 45 \u2014 preppy"]


def test_grabcut_accept(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("grabcut")
    editor.set_current_class(1)
    _drag(qtbot, editor, [(45, 25), (80, 60), (119, 94)])
    qtbot.waitUntil(lambda: editor.canvas.grabcut_state == "proposal", timeout=10000)
    assert editor.canvas.preview_item.image is not None
    assert (editor.doc.mask == 255).all()  # only a preview so far
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    got = editor.doc.mask == 1
    truth = np.zeros((H, W), bool)
    truth[OBJ] = True
    assert (got & truth).sum() / (got | truth).sum() > 0.95
    assert editor.canvas.preview_item.image is None
    editor.undo_action.trigger()
    assert (editor.doc.mask == 255).all()


def test_grabcut_refine_and_reject(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("grabcut")
    _drag(qtbot, editor, [(45, 25), (119, 94)])
    qtbot.waitUntil(lambda: editor.canvas.grabcut_state == "proposal", timeout=10000)
    first = editor._gc_result.mask.copy()
    editor.canvas.set_brush_size(8)
    _drag(qtbot, editor, [(60, 40), (100, 40)], button=Qt.MouseButton.RightButton)
    qtbot.waitUntil(
        lambda: (
            editor.canvas.grabcut_state == "proposal"
            and editor._gc_result is not None
            and not np.array_equal(editor._gc_result.mask, first)
        ),
        timeout=10000,
    )
    assert not editor._gc_result.mask[40, 80]
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)
    assert editor.canvas.grabcut_state == "idle" and (editor.doc.mask == 255).all()


def test_select_edit_vertices(qtbot, editor: EditorWidget) -> None:
    poly = {"kind": "polygon", "points": [[20, 20], [80, 20], [80, 80], [20, 80]], "class_id": 1}
    editor.canvas.refresh(editor.doc.add_shape(poly))
    editor.set_tool("select")
    _click(qtbot, editor, 50, 50)
    assert editor.canvas.shapes_item.selected == 0
    _drag(qtbot, editor, [(80, 80), (90, 95), (100, 100)])  # drag a vertex
    pts = [[20, 20], [80, 20], [100, 100], [20, 80]]
    assert editor.doc.shapes[0]["points"] == pts
    assert np.array_equal(editor.doc.mask, rasterize(editor.doc.shapes, H, W)[0])
    _click(qtbot, editor, 50, 20, mods=Qt.KeyboardModifier.ControlModifier)  # insert
    assert editor.doc.shapes[0]["points"] == [[20, 20], [50, 20], [80, 20], [100, 100], [20, 80]]
    _click(qtbot, editor, 50, 20, button=Qt.MouseButton.RightButton)  # delete it again
    assert editor.doc.shapes[0]["points"] == pts
    qtbot.mouseMove(editor.canvas.viewport(), _vp(editor, 40, 40))
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Delete)  # no vertex hovered: the shape goes
    assert editor.doc.shapes == [] and (editor.doc.mask == 255).all()
    for _ in range(4):
        editor.undo_action.trigger()
    assert editor.doc.shapes == [poly]


def test_autosave_after_edit(qtbot, editor: EditorWidget, project: Project) -> None:
    iid = editor.current_image_id()
    editor.set_tool("brush")
    with qtbot.waitSignal(editor.sigDirtyChanged) as blocker:
        _click(qtbot, editor, 30, 30)
    assert blocker.args == [True] and editor.has_unsaved()
    qtbot.waitUntil(lambda: project.mask_path(iid).exists(), timeout=5000)
    qtbot.waitUntil(lambda: not editor.has_unsaved(), timeout=2000)
    assert project.images[iid].status == "labelled"
    assert np.array_equal(project.read_mask(iid), editor.doc.mask)
    assert project.shapes_path(iid).exists()


def test_failed_save_keeps_edit(
    qtbot, editor: EditorWidget, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = list(project.images)

    def disk_full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project, "write_mask", disk_full)
    editor.set_tool("brush")
    _click(qtbot, editor, 30, 30)
    with qtbot.waitSignal(editor.sigSaveFailed) as blocker:
        assert editor.save_now() is False
    assert blocker.args[0] == first and "No space left on device" in blocker.args[1]
    assert editor.has_unsaved()
    with qtbot.waitSignal(editor.sigSaveFailed):
        editor.open_image(second)  # switching tries to save and keeps the edit in memory
    assert editor.unsaved_ids() == [first]
    editor.open_image(first)
    assert editor.doc.mask[30, 30] == editor.current_class() and editor.doc.can_undo
    monkeypatch.undo()
    with qtbot.waitSignal(editor.sigImageSaved):
        assert editor.save_now() is True
    assert not editor.has_unsaved() and project.read_mask(first)[30, 30] == 1


def test_prediction_edit_becomes_corrected(qtbot, editor: EditorWidget, project: Project) -> None:
    second = list(project.images)[1]
    ids = np.zeros((H, W), np.uint8)
    ids[OBJ] = 2
    atomic_save_npz(
        project.prediction_path(second), class_ids=ids, confidence=np.ones((H, W), np.float16)
    )
    editor.open_image(second)
    assert editor.doc.from_prediction and editor.doc.mask[50, 70] == 2
    editor.set_tool("brush")
    _click(qtbot, editor, 5, 5)
    assert editor.save_now()
    assert project.images[second].status == "corrected"


def test_classes_changed_refreshes_colours(qtbot, editor: EditorWidget, project: Project) -> None:
    editor.set_tool("fill")
    _click(qtbot, editor, 3, 3)
    project.recolor_class(1, "#00ff00")
    qtbot.waitUntil(
        lambda: (
            tuple(editor.canvas.overlay_rgba()[3, 3, :3]) == editor.canvas.class_rgba(1)[:3]
            and editor.canvas.class_rgba(1)[1] > 0
            and editor.canvas.class_rgba(1)[0] == 0
        ),
        timeout=2000,
    )
    project.add_class("denim", "#112233")
    qtbot.waitUntil(lambda: editor.class_combo.count() == 5, timeout=2000)


def test_visibility_opacity_outline(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("fill")
    editor.set_current_class(2)
    _click(qtbot, editor, 3, 3)
    c = editor.canvas
    assert c.overlay_rgba()[3, 3, 3] == round(255 * 0.5)
    editor.opacity_slider.setValue(100)
    assert c.overlay_rgba()[3, 3, 3] == 255
    editor.set_class_visible(2, False)
    assert c.overlay_rgba()[..., 3].max() == 0
    editor.set_class_visible(2, True)
    editor.set_tool("brush")
    editor.set_current_class(1)
    _click(qtbot, editor, 60, 60)
    editor.outline_action.trigger()
    alpha = c.overlay_rgba()[..., 3] > 0
    assert not alpha[60, 60] and alpha[60, 60 - c.brush_size // 2] and not alpha[3, 3]


def test_read_only_project_disables_edit_tools(qtbot, tmp_path: Path, project: Project) -> None:
    ro = Project.open(project.root, read_only=True)
    ed = EditorWidget()
    qtbot.addWidget(ed)
    ed.set_project(ro)
    ed.open_image(next(iter(ro.images)))
    ed.set_tool("brush")
    assert ed.tool() == "select"
    assert not any(a.isEnabled() for a in ed.tool_actions() if a.data() != "select")


def test_standalone_quits_after_shown(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    res = subprocess.run(
        [sys.executable, "-m", "fashionseg_gui.views.editor", "--quit-after-shown"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert "shown after" in res.stdout


def test_open_photo_reloads_a_prediction_written_meanwhile(
    qtbot, editor: EditorWidget, project: Project
) -> None:
    """A prediction written (on a worker thread) for the photo already open replaces its
    empty document; a brush stroke then keeps the prediction and saves as "corrected"."""
    import threading

    first = editor.current_image_id()
    assert not editor.doc.from_prediction and (editor.doc.mask == 255).all()
    ids = np.zeros((H, W), np.uint8)
    ids[OBJ] = 2

    def predict() -> None:  # what core.predict does for one photo
        atomic_save_npz(
            project.prediction_path(first), class_ids=ids, confidence=np.ones((H, W), np.float16)
        )
        project.set_status(first, "predicted")

    t = threading.Thread(target=predict)
    t.start()
    t.join(10)
    qtbot.waitUntil(lambda: editor.doc is not None and editor.doc.from_prediction, timeout=5000)
    assert np.array_equal(editor.doc.mask, ids)
    editor.set_tool("brush")
    editor.set_current_class(1)
    _click(qtbot, editor, 5, 5)
    assert editor.save_now()
    saved = project.read_mask(first)
    assert saved[5, 5] == 1 and saved[50, 70] == 2 and (saved != 255).all()
    assert project.images[first].status == "corrected"


def test_unsaved_edits_are_kept_when_a_prediction_arrives(
    qtbot, editor: EditorWidget, project: Project
) -> None:
    first = editor.current_image_id()
    editor.set_tool("brush")
    _click(qtbot, editor, 5, 5)
    assert editor.has_unsaved()
    atomic_save_npz(
        project.prediction_path(first),
        class_ids=np.zeros((H, W), np.uint8),
        confidence=np.ones((H, W), np.float16),
    )
    project.set_status(first, "predicted")
    assert editor.has_unsaved() and editor.doc.mask[5, 5] == editor.current_class()
    assert not editor.doc.from_prediction
    assert "unsaved edits are kept" in editor.hint_label.text()
    # Moving the split (a record change without new files) does not reload anything.
    doc = editor.doc
    project.set_split(first, "val")
    assert editor.doc is doc
