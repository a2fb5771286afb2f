"""Brush: paint the current class with a round brush (one undo step per stroke)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt

from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView


@register
class BrushTool(CanvasTool):
    name = "brush"
    order = 40
    label = "Brush"
    shortcut = "B"
    hint = "Paint the current class; [ and ] change the size"
    brush_cursor = True
    cursor = Qt.CursorShape.BlankCursor
    undo_label = "brush"

    def __init__(self, canvas: CanvasView) -> None:
        super().__init__(canvas)
        self._painting = False
        self._last_px: tuple[int, int] | None = None

    def value(self) -> int:
        """The label this tool writes."""
        return int(self.canvas.current_class)

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if event.button() != Qt.MouseButton.LeftButton or not c.editable():
            return
        assert c.doc is not None
        c.doc.begin_edit()
        self._painting = True
        x, y = c.pixel(scene)
        self._last_px = (x, y)
        c.refresh(c.doc.paint_disk(x, y, c.brush_size / 2, self.value()))

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if not self._painting or c.doc is None or self._last_px is None:
            return
        x, y = c.pixel(scene)
        region = c.doc.paint_stroke(
            self._last_px[0], self._last_px[1], x, y, c.brush_size / 2, self.value()
        )
        self._last_px = (x, y)
        c.refresh(region)

    def release(self, event: QMouseEvent, scene: QPointF) -> None:
        self._finish()

    def _finish(self) -> bool:
        c = self.canvas
        if not self._painting:
            return False
        self._painting = False
        self._last_px = None
        if c.doc is not None:
            c.doc.end_edit(self.undo_label)
            c.sigEdited.emit()
        return True

    def cancel(self) -> bool:
        # A stroke in progress is kept (closed as one undo step), as the user painted it.
        self._finish()
        return False

    def busy(self) -> bool:
        return self._painting
