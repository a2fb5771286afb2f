"""Assisted outline (GrabCut): a box or lasso, then keep/remove strokes on the proposal.

The tool only gathers the user's input; the editor runs GrabCut off the GUI thread on
``canvas.sigGrabCutRequested`` and shows the answer with ``canvas.set_grabcut_preview``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen

from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent, QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView

_DRAFT = QColor("#ffe119")


class GrabCutState(enum.StrEnum):
    """Where the assisted outline stands (a str: ``state == "proposal"`` works)."""

    IDLE = "idle"  # nothing started
    BOX = "box"  # dragging the box
    LASSO = "lasso"  # drawing the lasso
    BUSY = "busy"  # GrabCut is computing
    PROPOSAL = "proposal"  # a proposal is shown: Enter accepts, strokes refine
    STROKE = "stroke"  # painting a refine stroke


@register
class GrabCutTool(CanvasTool):
    name = "grabcut"
    order = 70
    label = "Assisted outline"
    shortcut = "G"
    hint = (
        "Drag a box around an outfit (Shift+drag: free lasso); then paint strokes: "
        "left = keep, right = remove; Enter accepts, Esc rejects"
    )

    def __init__(self, canvas: CanvasView) -> None:
        super().__init__(canvas)
        self.state = GrabCutState.IDLE
        self._start: QPointF | None = None
        self._lasso: list[tuple[float, float]] = []
        self._stroke: list[tuple[int, int]] = []
        self._stroke_bg = False

    def wants_brush_cursor(self) -> bool:
        return self.state in (GrabCutState.PROPOSAL, GrabCutState.STROKE)

    def current_cursor(self) -> Qt.CursorShape:
        if self.state is GrabCutState.BUSY:
            return Qt.CursorShape.BusyCursor
        return Qt.CursorShape.BlankCursor if self.wants_brush_cursor() else self.cursor

    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if not c.editable() or self.state is GrabCutState.BUSY:
            return
        mods = event.modifiers()
        if self.state is GrabCutState.PROPOSAL:
            if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
                self._stroke_bg = event.button() == Qt.MouseButton.RightButton or bool(
                    mods & Qt.KeyboardModifier.ShiftModifier
                )
                self._stroke = [c.pixel(scene)]
                self.state = GrabCutState.STROKE
                self.move(event, scene)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier):
            self.state = GrabCutState.LASSO
            self._lasso = [(scene.x() - 0.5, scene.y() - 0.5)]
        else:
            self.state = GrabCutState.BOX
            self._start = scene

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if self.state is GrabCutState.BOX and self._start is not None:
            x, y, w, h = c.rect_px(self._start, scene)
            path = QPainterPath()
            path.addRect(QRectF(x, y, w, h))
            c.draft(path, _DRAFT, 2.0)
        elif self.state is GrabCutState.LASSO:
            self._lasso.append((scene.x() - 0.5, scene.y() - 0.5))
            path = QPainterPath(QPointF(self._lasso[0][0] + 0.5, self._lasso[0][1] + 0.5))
            for x, y in self._lasso[1:]:
                path.lineTo(x + 0.5, y + 0.5)
            c.draft(path, _DRAFT, 2.0)
        elif self.state is GrabCutState.STROKE:
            self._stroke.append(c.pixel(scene))
            path = QPainterPath(QPointF(self._stroke[0][0] + 0.5, self._stroke[0][1] + 0.5))
            for x, y in self._stroke[1:]:
                path.lineTo(x + 0.5, y + 0.5)
            pen = QPen(
                QColor(255, 60, 60, 200) if self._stroke_bg else QColor(60, 220, 90, 200),
                float(c.brush_size),
            )
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            c.draft_item.setPen(pen)
            c.draft_item.setPath(path)

    def release(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        if self.state is GrabCutState.BOX and self._start is not None:
            x, y, w, h = c.rect_px(self._start, scene)
            self._start = None
            c.clear_draft()
            self.state = GrabCutState.IDLE
            if w < 4 or h < 4:
                c.sigMessage.emit("drag a box around the outfit (Shift+drag: free lasso)")
                return
            c.sigGrabCutRequested.emit({"mode": "rect", "rect": (x, y, w, h)})
        elif self.state is GrabCutState.LASSO:
            pts, self._lasso = self._lasso, []
            c.clear_draft()
            self.state = GrabCutState.IDLE
            c.sigGrabCutRequested.emit({"mode": "lasso", "points": pts})
        elif self.state is GrabCutState.STROKE and c.doc is not None:
            import cv2

            pts, self._stroke = self._stroke, []
            c.clear_draft()
            marks = np.zeros(c.doc.mask.shape, np.uint8)
            arr = np.asarray(pts, np.int32).reshape(-1, 1, 2)
            cv2.polylines(
                marks, [arr], False, 1, thickness=max(1, c.brush_size), lineType=cv2.LINE_8
            )
            for x, y in pts:  # round ends: a click without a drag still marks a dot
                cv2.circle(marks, (x, y), max(0, c.brush_size // 2), 1, -1)
            on = marks.astype(bool)
            self.state = GrabCutState.PROPOSAL
            c.sigGrabCutRequested.emit(
                {
                    "mode": "refine",
                    "fg": None if self._stroke_bg else on,
                    "bg": on if self._stroke_bg else None,
                }
            )

    def key(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.state is GrabCutState.PROPOSAL:
                self.canvas.sigGrabCutAccepted.emit()
            return True
        return False

    def cancel(self) -> bool:
        had = bool(
            self._start is not None
            or self._stroke
            or self._lasso
            or self.state is not GrabCutState.IDLE
        )
        self._start, self._stroke, self._lasso = None, [], []
        if self.state is not GrabCutState.IDLE:
            self.canvas.sigGrabCutRejected.emit()
            self.canvas.set_grabcut_preview(None)
            self.state = GrabCutState.IDLE
        return had
