"""Canvas tools driven through the real editor: eyedropper, selection after undo, the
layering of paint and vector shapes, and the tool registry."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from fashionseg_gui.core.project import Project
from fashionseg_gui.views.canvas import (
    TOOLS,
    CanvasTool,
    CanvasView,
    GrabCutState,
    Tool,
    register,
    registered,
)
from fashionseg_gui.views.canvas.tools.base import unregister
from fashionseg_gui.views.editor import EditorWidget

H, W = 120, 160


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project.create(tmp_path / "p")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    assert proj.add_image_file(tmp_path / "a.png").ok
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
    return ed.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def _click(
    qtbot, ed: EditorWidget, x: float, y: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    qtbot.mouseClick(ed.canvas.viewport(), button, Qt.KeyboardModifier.NoModifier, _vp(ed, x, y))


def _drag(qtbot, ed: EditorWidget, points: list[tuple[float, float]]) -> None:
    vp = ed.canvas.viewport()
    qtbot.mousePress(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _vp(ed, *points[0])
    )
    for p in points[1:]:
        qtbot.mouseMove(vp, _vp(ed, *p))
    qtbot.mouseRelease(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _vp(ed, *points[-1])
    )


def test_eyedropper_key_i_picks_the_class_under_the_cursor(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("fill")
    editor.set_current_class(3)
    _click(qtbot, editor, 10, 10)  # the whole photo becomes class 3
    editor.set_tool("brush")
    editor.set_current_class(2)
    _click(qtbot, editor, 60, 60)  # a dab of class 2
    editor.set_tool("eraser")
    _click(qtbot, editor, 140, 100)  # an unlabelled spot
    editor.set_current_class(1)
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_I)
    assert editor.tool() == Tool.EYEDROPPER == "eyedropper"
    assert editor._tool_actions["eyedropper"].isChecked()
    with qtbot.waitSignal(editor.sigCurrentClassChanged) as blocker:
        _click(qtbot, editor, 60, 60)
    assert blocker.args == [2] and editor.current_class() == 2
    assert editor.class_combo.currentData() == 2  # the same path as the class keys
    assert editor.doc.undo_depth == 3  # picking edits nothing
    _click(qtbot, editor, 10, 10)
    assert editor.current_class() == 3
    with qtbot.assertNotEmitted(editor.sigCurrentClassChanged):
        _click(qtbot, editor, 140, 100)
    assert editor.current_class() == 3 and "unlabelled" in editor.hint_label.text()
    editor.set_tool("brush")
    _click(qtbot, editor, 100, 20)
    assert editor.doc.mask[20, 100] == 3  # the brush paints the picked class


def test_delete_after_undoing_the_selected_polygon(qtbot, editor: EditorWidget) -> None:
    editor.set_tool("polygon")
    for x, y in ((20, 20), (80, 20), (80, 80), (20, 80)):
        _click(qtbot, editor, x, y)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert len(editor.doc.shapes) == 1
    editor.set_tool("select")
    _click(qtbot, editor, 50, 50)
    assert editor.canvas.shapes_item.selected == 0
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.doc.shapes == [] and (editor.doc.mask == 255).all()
    before = editor.doc.undo_depth
    qtbot.mouseMove(editor.canvas.viewport(), _vp(editor, 50, 50))
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Delete)  # raised IndexError before
    assert editor.canvas.shapes_item.selected is None
    assert editor.doc.undo_depth == before and editor.doc.can_redo
    qtbot.keyClick(
        editor.canvas,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert len(editor.doc.shapes) == 1  # redo still brings the polygon back


def test_vertex_drag_keeps_paint_made_after_the_polygon(qtbot, editor: EditorWidget) -> None:
    editor.set_current_class(1)
    editor.set_tool("polygon")
    for x, y in ((20, 20), (80, 20), (80, 80), (20, 80)):
        _click(qtbot, editor, x, y)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    before_paint = editor.doc.mask.copy()
    editor.set_tool("brush")
    editor.canvas.set_brush_size(10)
    editor.set_current_class(2)
    _click(qtbot, editor, 50, 50)  # paint inside the polygon, away from the moved corner
    _click(qtbot, editor, 76, 76)  # paint in the corner the polygon will lose
    editor.set_tool("eraser")
    _click(qtbot, editor, 30, 30)  # erase a hole inside the polygon
    painted = editor.doc.mask != before_paint
    assert painted.sum() > 150
    old_mask = editor.doc.mask.copy()
    old_fp = editor.doc.mask.copy()
    old_fp[:] = 0
    old_fp[20:81, 20:81] = 1

    editor.set_tool("select")
    _click(qtbot, editor, 50, 40)
    assert editor.canvas.shapes_item.selected == 0
    _drag(qtbot, editor, [(80, 80), (90, 70), (100, 66)])  # move the corner out and up
    assert editor.doc.shapes[0]["points"] == [[20, 20], [80, 20], [100, 66], [20, 80]]
    from fashionseg_gui.core.shapes import rasterize

    new_fp = rasterize(editor.doc.shapes, H, W, ignore_value=0)[0] == 1
    gained = new_fp & (old_fp == 0)
    lost = (old_fp == 1) & ~new_fp
    mask = editor.doc.mask
    assert gained.any() and lost.any()
    assert (mask[gained] == 1).all()  # the shape's new area takes its class
    # every painted pixel outside the gained area survives (later edits win) ...
    keep = painted & ~gained
    assert np.array_equal(mask[keep], old_mask[keep])
    assert mask[50, 50] == 2 and mask[30, 30] == 255 and mask[76, 76] == 2
    # ... and the area it lost goes back to unlabelled where it still showed the shape
    assert (mask[lost & (old_mask == 1)] == 255).all()
    untouched = ~gained & ~lost
    assert np.array_equal(mask[untouched], old_mask[untouched])
    editor.undo()
    assert np.array_equal(editor.doc.mask, old_mask)


def test_registry_drives_the_tool_bar_and_a_new_tool_is_one_class(qtbot) -> None:
    assert [cls.name for cls in registered()] == list(TOOLS) == [t.value for t in Tool]
    assert TOOLS[:7] == ("select", "polygon", "rect", "brush", "eraser", "fill", "grabcut")
    keys = [cls.shortcut for cls in registered()]
    assert len(set(keys)) == len(keys) and "I" in keys
    ed = EditorWidget()
    qtbot.addWidget(ed)
    assert [a.data() for a in ed.tool_actions()] == list(TOOLS)
    assert all(not a.icon().isNull() for a in ed.tool_actions())

    seen: list[tuple[int, int]] = []

    @register
    class ProbeTool(CanvasTool):
        name = "probe"
        label = "Probe"
        shortcut = "Q"

        def press(self, event, scene) -> None:  # noqa: ANN001
            seen.append(self.canvas.pixel(scene))

    try:
        with pytest.raises(ValueError):
            register(ProbeTool)  # names are unique
        canvas = CanvasView()
        qtbot.addWidget(canvas)
        canvas.set_tool("probe")
        assert canvas.tool == "probe" and isinstance(canvas.active_tool, ProbeTool)
        assert canvas.grabcut_state is GrabCutState.IDLE
        with pytest.raises(ValueError):
            canvas.set_tool("no-such-tool")
    finally:
        unregister("probe")
    assert "probe" not in [cls.name for cls in registered()]


def test_select_hits_every_kind_through_the_core_hit_tests(qtbot, editor: EditorWidget) -> None:
    doc = editor.doc
    for shape in (
        {"kind": "circle", "cx": 40, "cy": 40, "r": 15, "class_id": 1},
        {"kind": "ellipse", "cx": 110, "cy": 40, "rx": 25, "ry": 8, "theta": 0.0, "class_id": 2},
        {"kind": "rect", "x": 20, "y": 80, "w": 30, "h": 20, "class_id": 3},
    ):
        editor.canvas.refresh(doc.add_shape(shape))
    editor.set_tool("select")
    for (x, y), want in (
        ((40, 40), 0),
        ((130, 40), 1),
        ((110, 45), 1),
        ((30, 90), 2),
        ((80, 100), None),
        ((110, 60), None),
    ):
        _click(qtbot, editor, x, y)
        assert editor.canvas.shapes_item.selected == want, (x, y)
