"""Fill: flood-fill the 4-connected region of equal label with the current class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt

from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent


@register
class FillTool(CanvasTool):
    name = "fill"
    order = 60
    label = "Fill"
    shortcut = "F"
    hint = "Click a region to fill it with the current class"

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if event.button() != Qt.MouseButton.LeftButton or not c.editable():
            return
        assert c.doc is not None
        x, y = c.pixel(scene)
        region = c.doc.fill(x, y, c.current_class)
        if region is not None:
            c.refresh(region)
            c.sigEdited.emit()
