"""Eyedropper: click a pixel to make its class the current class (like the class keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap

from fashionseg_gui.core.project import IGNORE
from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent


@register
class EyedropperTool(CanvasTool):
    name = "eyedropper"
    order = 80
    label = "Pick class"
    shortcut = "I"
    hint = "Click a labelled pixel to make its class the current class"
    # It changes no pixel, but the current class only matters for editing: like the edit
    # tools it is disabled in a read-only project.
    edits = True

    @classmethod
    def icon(cls) -> QIcon:
        app = QGuiApplication.instance()
        color = (
            app.palette().windowText().color()
            if isinstance(app, QGuiApplication)
            else QColor("#303030")
        )
        out = QIcon()
        for size in (16, 24, 32, 48):
            pm = QPixmap(size, size)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.scale(size / 24.0, size / 24.0)
            pen = QPen(color, 2.2)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(QPointF(4.5, 19.5), QPointF(14.5, 9.5))  # the glass tube
            p.setBrush(QBrush(color))
            p.drawEllipse(QRectF(14, 3, 7, 7))  # the bulb
            p.setBrush(QBrush(QColor("#409eff")))
            p.setPen(QPen(color, 1.0))
            p.drawEllipse(QPointF(4.5, 19.5), 2.2, 2.2)  # the drop
            p.end()
            out.addPixmap(pm)
        return out

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if event.button() != Qt.MouseButton.LeftButton or c.doc is None:
            return
        x, y = c.pixel(scene)
        h, w = c.doc.mask.shape
        if not (0 <= x < w and 0 <= y < h):
            return
        value = int(c.doc.mask[y, x])
        if value == IGNORE:
            c.sigMessage.emit("this pixel is unlabelled: no class to pick")
            return
        # The same path as the digit keys: the editor makes it the current class.
        c.sigClassKey.emit(value)
