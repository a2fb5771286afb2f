"""Scene items of the canvas and the Qt geometry of shapes (outlines, handles, edges).

Coordinates: pixel ``(col, row)`` covers the scene square ``[col, col+1) x [row, row+1)``.
Polygon vertices are pixel indices (the clicked pixel), drawn at the pixel centre.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

HANDLE_PX = 7.0  # vertex handle size on screen


def cosmetic_pen(color: QColor, width: float) -> QPen:
    """A cosmetic pen (its width is in screen pixels, whatever the zoom)."""
    pen = QPen(color, width)
    pen.setCosmetic(True)
    return pen


def numpy_qimage(buf: np.ndarray, fmt: QImage.Format) -> QImage:
    """A QImage viewing ``buf``'s memory (the caller keeps ``buf`` alive)."""
    h, w = buf.shape[:2]
    return QImage(buf.data, w, h, buf.strides[0], fmt)


class ImageItem(QGraphicsItem):
    """Draws a QImage (nearest neighbour), repainting only the exposed part."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        # Without an image the view never calls paint() (the review overlays are empty on
        # most photos; each empty paint still cost a Python call per brush-dab repaint).
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)

    def set_image(self, image: QImage | None) -> None:
        self.prepareGeometryChange()
        self.image = image
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, image is None)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        if self.image is None:
            return QRectF()
        return QRectF(0, 0, self.image.width(), self.image.height())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.image is None:
            return
        r = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
        if r.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(r), self.image, QRectF(r))


class ShapesItem(QGraphicsItem):
    """Outlines of the vector shapes, the selected one with vertex handles."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[dict[str, Any]] = []
        self.colors: dict[int, QColor] = {}
        self.selected: int | None = None
        self.override: dict[str, Any] | None = None  # geometry being dragged
        self.size = QRectF()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self.size.adjusted(-50, -50, 50, 50)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        scale = max(painter.worldTransform().m11(), 1e-6)
        for i, shape in enumerate(self.shapes):
            if i == self.selected and self.override is not None:
                shape = self.override
            path = shape_path(shape)
            if path is None:
                continue
            color = QColor(self.colors.get(int(shape.get("class_id", 0)), QColor("white")))
            if i == self.selected:
                painter.setPen(cosmetic_pen(QColor(0, 0, 0, 160), 4.5))
                painter.drawPath(path)
            painter.setPen(cosmetic_pen(color, 2.5 if i == self.selected else 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            if i == self.selected:
                half = HANDLE_PX / 2 / scale
                painter.setPen(cosmetic_pen(QColor("black"), 1.0))
                painter.setBrush(QBrush(QColor("white")))
                for p in shape_handles(shape):
                    painter.drawRect(QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half))


def shape_path(shape: dict[str, Any]) -> QPainterPath | None:
    """The outline of a shape in scene coordinates (None for kinds without an outline)."""
    kind = shape.get("kind")
    path = QPainterPath()
    try:
        if kind in ("polygon", "polyline"):
            pts = [QPointF(float(x) + 0.5, float(y) + 0.5) for x, y in shape["points"]]
            if len(pts) < 2:
                return None
            poly = QPolygonF(pts)
            if kind == "polygon":
                poly.append(pts[0])
            path.addPolygon(poly)
        elif kind == "rect":
            path.addRect(
                QRectF(
                    float(shape["x"]), float(shape["y"]), float(shape["w"]), float(shape["h"])
                ).normalized()
            )
        elif kind == "circle":
            r = float(shape["r"])
            path.addEllipse(QPointF(float(shape["cx"]), float(shape["cy"])), r, r)
        elif kind == "ellipse":
            sub = QPainterPath()
            sub.addEllipse(QPointF(0, 0), float(shape["rx"]), float(shape["ry"]))
            t = QTransform()
            t.translate(float(shape["cx"]), float(shape["cy"]))
            t.rotateRadians(float(shape.get("theta", 0.0)))
            path = t.map(sub)
        else:
            return None
    except (KeyError, TypeError, ValueError):
        return None
    return path


def shape_handles(shape: dict[str, Any]) -> list[QPointF]:
    """The draggable points of a shape: polygon vertices (pixel centres) or rect corners."""
    kind = shape.get("kind")
    if kind == "polygon":
        return [QPointF(float(x) + 0.5, float(y) + 0.5) for x, y in shape["points"]]
    if kind == "rect":
        r = QRectF(float(shape["x"]), float(shape["y"]), float(shape["w"]), float(shape["h"]))
        r = r.normalized()
        return [r.topLeft(), r.topRight(), r.bottomRight(), r.bottomLeft()]
    return []


def seg_dist(p: QPointF, a: QPointF, b: QPointF) -> tuple[float, QPointF]:
    """Distance from ``p`` to the segment ``a``-``b`` and the nearest point on it."""
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((p.x() - ax) * dx + (p.y() - ay) * dy) / n))
    q = QPointF(ax + t * dx, ay + t * dy)
    return math.hypot(p.x() - q.x(), p.y() - q.y()), q


def shape_edges(shape: dict[str, Any]) -> list[tuple[QPointF, QPointF]]:
    """The edges between consecutive handles (closed)."""
    pts = shape_handles(shape)
    if len(pts) < 2:
        return []
    return [(pts[k], pts[(k + 1) % len(pts)]) for k in range(len(pts))]
