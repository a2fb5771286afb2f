"""Rectangle: drag a box; it becomes a rect shape of the current class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath

from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView


@register
class RectTool(CanvasTool):
    name = "rect"
    order = 30
    label = "Rectangle"
    shortcut = "R"
    hint = "Drag a rectangle"
    shows_shapes = True

    def __init__(self, canvas: CanvasView) -> None:
        super().__init__(canvas)
        self._start: QPointF | None = None

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.canvas.editable():
            self._start = scene

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        if self._start is None:
            return
        x, y, w, h = self.canvas.rect_px(self._start, scene)
        path = QPainterPath()
        path.addRect(QRectF(x, y, w, h))
        self.canvas.draft(path)

    def release(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if self._start is None or event.button() != Qt.MouseButton.LeftButton:
            return
        x, y, w, h = c.rect_px(self._start, scene)
        self._start = None
        c.clear_draft()
        if w < 2 and h < 2:
            return
        c.add_shape(
            {"kind": "rect", "x": x, "y": y, "w": w, "h": h, "class_id": int(c.current_class)}
        )

    def cancel(self) -> bool:
        had = self._start is not None
        self._start = None
        return had
