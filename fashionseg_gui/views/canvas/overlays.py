"""The canvas's review overlays (a predicted photo), mixed into :class:`CanvasView`.

:meth:`~ReviewOverlays.set_prediction_style` hatches the label overlay so that a prediction
never looks like a human label; :meth:`~ReviewOverlays.set_heatmap` shows the per-pixel
confidence (red = unsure; the class overlay is hidden meanwhile);
:meth:`~ReviewOverlays.set_low_confidence` outlines the unsure regions;
:meth:`~ReviewOverlays.set_diff` shows a disagreement map (float in [0, 1], 0 = agree) in
magenta. The overlay items are scene items of the view, made by
:meth:`~ReviewOverlays._init_review_overlays`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from fashionseg_gui.views.canvas.items import ImageItem, numpy_qimage

if TYPE_CHECKING:
    from fashionseg_gui.core.annotation import AnnotationDocument, Region


class ReviewOverlays:
    """Confidence heat-map, disagreement map, low-confidence outlines, prediction hatching.

    A mixin of :class:`~fashionseg_gui.views.canvas.view.CanvasView`: it uses the view's
    ``doc``, ``overlay_item`` and ``refresh()``.
    """

    doc: AnnotationDocument | None
    overlay_item: ImageItem

    if TYPE_CHECKING:

        def refresh(self, region: Region | None = None) -> None: ...

    def _init_review_overlays(self) -> list[ImageItem | QGraphicsPathItem]:
        """Make the overlay items; returns them for the view to add to its scene."""
        # review overlays (a predicted photo): confidence heat-map, disagreement map and the
        # outlines of the low-confidence regions
        self.prediction_style = False
        self._heat_buf: np.ndarray | None = None
        self._diff_buf: np.ndarray | None = None
        self.heat_item = ImageItem()
        self.heat_item.setZValue(1.5)
        self.diff_item = ImageItem()
        self.diff_item.setZValue(1.6)
        self.lowconf_item = QGraphicsPathItem()
        self.lowconf_item.setZValue(3.5)
        lowconf_pen = QPen(QColor(255, 235, 59), 1.6, Qt.PenStyle.DashLine)
        lowconf_pen.setCosmetic(True)
        self.lowconf_item.setPen(lowconf_pen)
        return [self.heat_item, self.diff_item, self.lowconf_item]

    def clear_review(self) -> None:
        """Remove every review overlay (the label overlay is drawn plainly again)."""
        self.prediction_style = False
        self.set_heatmap(None)
        self.set_diff(None)
        self.set_low_confidence(None)

    def set_prediction_style(self, on: bool) -> None:
        """Draw the label overlay hatched (True: it is a prediction, not a human label)."""
        if bool(on) != self.prediction_style:
            self.prediction_style = bool(on)
            self.refresh()

    def set_heatmap(self, confidence: np.ndarray | None) -> None:
        """Show ``confidence`` (H, W floats in [0, 1]) as a heat-map; None hides it.

        Confident pixels are a faint blue, unsure ones yellow to red and more opaque; the
        class overlay is hidden while the heat-map shows.
        """
        if confidence is None or self.doc is None or np.shape(confidence) != self.doc.mask.shape:
            self._heat_buf = None
            self.heat_item.set_image(None)
            self.overlay_item.setVisible(True)
            return
        u = 1.0 - np.clip(np.asarray(confidence, np.float32), 0.0, 1.0)
        t = np.clip(u * 2.0, 0.0, 1.0)[..., None]
        low = np.array((255, 214, 0), np.float32)  # unsure: yellow ... red
        high = np.array((230, 30, 30), np.float32)
        blue = np.array((40, 120, 255), np.float32)
        rgb = np.where(t < 0.2, blue, low * (1 - t) + high * t)
        alpha = np.where(t[..., 0] < 0.2, 0.2, 0.3 + 0.4 * t[..., 0])[..., None]
        buf = np.empty((*u.shape, 4), np.uint8)
        buf[..., :3] = np.rint(rgb * alpha)
        buf[..., 3] = np.rint(255 * alpha[..., 0])
        self._heat_buf = np.ascontiguousarray(buf)
        self.heat_item.set_image(
            numpy_qimage(self._heat_buf, QImage.Format.Format_RGBA8888_Premultiplied)
        )
        self.overlay_item.setVisible(False)

    def heatmap_rgba(self) -> np.ndarray | None:
        """The heat-map as shown (premultiplied RGBA), None when hidden."""
        return None if self._heat_buf is None else self._heat_buf.copy()

    def set_diff(self, disagreement: np.ndarray | None) -> None:
        """Show a disagreement map (H, W floats in [0, 1], 0 = agree) in magenta; None hides."""
        if (
            disagreement is None
            or self.doc is None
            or np.shape(disagreement) != self.doc.mask.shape
        ):
            self._diff_buf = None
            self.diff_item.set_image(None)
            return
        d = np.clip(np.asarray(disagreement, np.float32), 0.0, 1.0)
        alpha = np.where(d > 0, 0.35 + 0.6 * d, 0.0)
        buf = np.zeros((*d.shape, 4), np.uint8)
        buf[..., 0] = np.rint(255 * alpha)
        buf[..., 2] = np.rint(220 * alpha)
        buf[..., 3] = np.rint(255 * alpha)
        self._diff_buf = buf
        self.diff_item.set_image(
            numpy_qimage(self._diff_buf, QImage.Format.Format_RGBA8888_Premultiplied)
        )

    def diff_rgba(self) -> np.ndarray | None:
        """The disagreement overlay as shown (premultiplied RGBA), None when hidden."""
        return None if self._diff_buf is None else self._diff_buf.copy()

    def set_low_confidence(self, contours: list[np.ndarray] | None) -> None:
        """Outline these ``(N, 2)`` ``(x, y)`` polygons (pixel corners); None or [] hides."""
        path = QPainterPath()
        for pts in contours or []:
            if len(pts) < 2:
                continue
            path.moveTo(float(pts[0][0]), float(pts[0][1]))
            for x, y in pts[1:]:
                path.lineTo(float(x), float(y))
            path.closeSubpath()
        self.lowconf_item.setPath(path)

    def low_confidence_count(self) -> int:
        """How many low-confidence regions are outlined now."""
        path = self.lowconf_item.path()
        return sum(1 for i in range(path.elementCount()) if path.elementAt(i).isMoveTo())
