"""Polygon: click vertices, close on the first vertex or with Enter."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath

from fashionseg_gui.views.canvas.items import HANDLE_PX
from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent, QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView


@register
class PolygonTool(CanvasTool):
    name = "polygon"
    order = 20
    label = "Polygon"
    shortcut = "P"
    hint = (
        "Click vertices; click the first vertex or press Enter to close; "
        "Backspace removes the last vertex; Esc cancels"
    )
    shows_shapes = True

    def __init__(self, canvas: CanvasView) -> None:
        super().__init__(canvas)
        self.points: list[tuple[int, int]] = []

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if event.button() == Qt.MouseButton.RightButton:
            if self.points:
                self.points.pop()
                self._draw(scene)
            return
        if event.button() != Qt.MouseButton.LeftButton or not c.editable():
            return
        x, y = c.pixel(scene)
        if len(self.points) >= 3:
            fx, fy = self.points[0]
            if math.hypot(scene.x() - fx - 0.5, scene.y() - fy - 0.5) <= c.pick_px():
                self.commit()
                return
        if not self.points or self.points[-1] != (x, y):
            self.points.append((x, y))
        self._draw(scene)

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        if self.points:
            self._draw(scene)

    def key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self.points:
                self.points.pop()
                self._draw(self.canvas.last_scene)
            return True
        return False

    def cancel(self) -> bool:
        had = bool(self.points)
        self.points = []
        return had

    def _draw(self, scene: QPointF) -> None:
        c = self.canvas
        if not self.points:
            c.clear_draft()
            return
        path = QPainterPath(QPointF(self.points[0][0] + 0.5, self.points[0][1] + 0.5))
        for x, y in self.points[1:]:
            path.lineTo(x + 0.5, y + 0.5)
        path.lineTo(scene)
        r = HANDLE_PX / 2 / max(c.zoom, 1e-6)
        fx, fy = self.points[0]
        path.addEllipse(QPointF(fx + 0.5, fy + 0.5), r, r)
        c.draft(path)

    def commit(self) -> bool:
        """Close the polygon being drawn into a shape (needs 3 vertices); True if committed."""
        c = self.canvas
        if len(self.points) < 3 or c.doc is None:
            if self.points:
                c.sigMessage.emit("a polygon needs at least 3 vertices")
            return False
        shape = {
            "kind": "polygon",
            "points": [[x, y] for x, y in self.points],
            "class_id": int(c.current_class),
        }
        self.points = []
        c.clear_draft()
        return c.add_shape(shape)
