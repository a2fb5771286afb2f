"""Zoom and fit of the canvas, mixed into :class:`~fashionseg_gui.views.canvas.view.CanvasView`.

The zoom is the view transform's scale, clamped to ``[MIN_ZOOM, MAX_ZOOM]``; the wheel zooms
at the cursor; until the user zooms, the view keeps fitting the photo on resize. Zoomed in to
one photo pixel per screen pixel or more, the photo is drawn with nearest-neighbour
sampling (the real pixels), zoomed out smoothed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QGraphicsView

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QGraphicsPixmapItem

    from fashionseg_gui.core.annotation import AnnotationDocument

MIN_ZOOM, MAX_ZOOM = 0.02, 64.0


class ZoomMixin:
    """Zoom, fit and wheel handling of the canvas view (uses its ``doc``, ``photo_item``,
    ``sigZoomChanged``, ``_auto_fit`` and ``update_cursor()``)."""

    doc: AnnotationDocument | None
    photo_item: QGraphicsPixmapItem
    sigZoomChanged: SignalInstance
    _auto_fit: bool

    if TYPE_CHECKING:

        def update_cursor(self) -> None: ...

    def _on_zoom(self) -> None:
        # Zoomed in, annotators want to see the real pixels (and nearest is cheaper to repaint);
        # zoomed out, smoothing avoids aliasing.
        mode = (
            Qt.TransformationMode.FastTransformation
            if self.zoom >= 1.0
            else Qt.TransformationMode.SmoothTransformation
        )
        if self.photo_item.transformationMode() != mode:
            self.photo_item.setTransformationMode(mode)

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Fit the whole photo in the view."""
        if self.doc is None:
            return
        h, w = self.doc.mask.shape
        self._auto_fit = True
        self.fitInView(QRectF(0, 0, w, h), Qt.AspectRatioMode.KeepAspectRatio)
        self.sigZoomChanged.emit(self.zoom)

    def view_state(self) -> tuple[Any, Any, bool]:
        """The zoom, the scene point at the view's centre and whether the view fits the
        photo (for :meth:`restore_view` after the document is shown again)."""
        centre = self.mapToScene(self.viewport().rect().center())
        return self.transform(), centre, self._auto_fit

    def restore_view(self, state: tuple[Any, Any, bool]) -> None:
        """Show what :meth:`view_state` saw: fitted, or the same zoom and centre."""
        transform, centre, auto_fit = state
        if auto_fit:
            self.fit()
            return
        self._auto_fit = False
        self.setTransform(transform)
        self.centerOn(centre)
        self.sigZoomChanged.emit(self.zoom)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def zoom_100(self) -> None:
        """One photo pixel per screen pixel, keeping the centre."""
        centre = self.mapToScene(self.viewport().rect().center())
        self._auto_fit = False
        self.resetTransform()
        self.centerOn(centre)
        self.sigZoomChanged.emit(self.zoom)

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by ``factor`` keeping the scene point under ``anchor`` (viewport) in place."""
        new = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        factor = new / self.zoom
        if factor == 1.0:
            return
        self._auto_fit = False
        if anchor is None:
            anchor = self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        after = self.mapToScene(anchor)
        d = after - before
        self.translate(d.x(), d.y())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.sigZoomChanged.emit(self.zoom)
        self.update_cursor()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta:
            self.zoom_by(1.0015**delta, event.position().toPoint())
        event.accept()
