"""The annotation canvas: the photo, the label overlay, the tools that edit the mask.

The overlay is a QImage that shares memory with a persistent premultiplied RGBA numpy buffer;
an edit re-colours only its dirty box through a 256-entry colour table (class colour, opacity,
visibility) and repaints that box. Labels are written into the numpy mask by
:class:`~fashionseg_gui.core.annotation.AnnotationDocument`, never painted with QPainter, so
mask pixels stay exact class ids.

Coordinates: pixel ``(col, row)`` covers the scene square ``[col, col+1) x [row, row+1)``.
Polygon vertices are pixel indices (the clicked pixel), drawn at the pixel centre.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from fashionseg_gui.core.project import IGNORE, ProjectError

if TYPE_CHECKING:
    from fashionseg_gui.core.annotation import AnnotationDocument, Region
    from fashionseg_gui.core.project import ClassInfo


TOOLS = ("select", "polygon", "rect", "brush", "eraser", "fill", "grabcut")
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
HANDLE_PX = 7.0  # vertex handle size on screen
PICK_PX = 8.0  # how close (screen pixels) a click must be to a vertex or an edge


def _cpen(color: QColor, width: float) -> QPen:
    """A cosmetic pen (its width is in screen pixels, whatever the zoom)."""
    pen = QPen(color, width)
    pen.setCosmetic(True)
    return pen


def _numpy_qimage(buf: np.ndarray, fmt: QImage.Format) -> QImage:
    """A QImage viewing ``buf``'s memory (the caller keeps ``buf`` alive)."""
    h, w = buf.shape[:2]
    return QImage(buf.data, w, h, buf.strides[0], fmt)


class ImageItem(QGraphicsItem):
    """Draws a QImage (nearest neighbour), repainting only the exposed part."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_image(self, image: QImage | None) -> None:
        self.prepareGeometryChange()
        self.image = image
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        if self.image is None:
            return QRectF()
        return QRectF(0, 0, self.image.width(), self.image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
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

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
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
                painter.setPen(_cpen(QColor(0, 0, 0, 160), 4.5))
                painter.drawPath(path)
            painter.setPen(_cpen(color, 2.5 if i == self.selected else 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            if i == self.selected:
                half = HANDLE_PX / 2 / scale
                painter.setPen(_cpen(QColor("black"), 1.0))
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
            path.addRect(QRectF(float(shape["x"]), float(shape["y"]),
                                float(shape["w"]), float(shape["h"])).normalized())
        elif kind == "circle":
            r = float(shape["r"])
            path.addEllipse(QPointF(float(shape["cx"]), float(shape["cy"])), r, r)
        elif kind == "ellipse":
            sub = QPainterPath()
            sub.addEllipse(QPointF(0, 0), float(shape["rx"]), float(shape["ry"]))
            from PySide6.QtGui import QTransform

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


def _seg_dist(p: QPointF, a: QPointF, b: QPointF) -> tuple[float, QPointF]:
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((p.x() - ax) * dx + (p.y() - ay) * dy) / n))
    q = QPointF(ax + t * dx, ay + t * dy)
    return math.hypot(p.x() - q.x(), p.y() - q.y()), q


class CanvasView(QGraphicsView):
    """Photo + label overlay + tools. Driven by the editor; edits go to the document.

    Signals
    -------
    sigCursorMoved(int x, int y, int class_id)
        Pixel under the cursor and its label; ``(-1, -1, -1)`` when outside the photo.
    sigEdited()
        The document changed through a tool (mask or shapes).
    sigGrabCutRequested(dict)
        ``{"mode": "rect", "rect": (x, y, w, h)}``, ``{"mode": "lasso", "points": [...]}`` or
        ``{"mode": "refine", "fg": bool array | None, "bg": bool array | None}``.
    sigGrabCutAccepted(), sigGrabCutRejected()
    sigToolRequested(str)
        Esc with nothing to cancel asks for the select tool.
    sigClassKey(int)
        A digit key not taken by a shortcut (class 1..9, 0 = background).
    sigMessage(str)
        A hint or a refusal worded for the user (status bar).
    sigZoomChanged(float), sigBrushSizeChanged(int)
    """

    sigCursorMoved = Signal(int, int, int)
    sigEdited = Signal()
    sigGrabCutRequested = Signal(dict)
    sigGrabCutAccepted = Signal()
    sigGrabCutRejected = Signal()
    sigToolRequested = Signal(str)
    sigClassKey = Signal(int)
    sigMessage = Signal(str)
    sigZoomChanged = Signal(float)
    sigBrushSizeChanged = Signal(int)

    def _on_zoom(self) -> None:
        # Zoomed in, annotators want to see the real pixels (and nearest is cheaper to repaint);
        # zoomed out, smoothing avoids aliasing.
        mode = (Qt.TransformationMode.FastTransformation if self.zoom >= 1.0
                else Qt.TransformationMode.SmoothTransformation)
        if self.photo_item.transformationMode() != mode:
            self.photo_item.setTransformationMode(mode)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor("#2b2b2b"))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        # Pan with space+drag or the middle button; the scene has a margin around the photo
        # so that zooming at the cursor works near the edges. Scroll bars would only clutter.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.doc: AnnotationDocument | None = None
        self.classes: list[ClassInfo] = []
        self.hidden: set[int] = set()
        self.opacity = 0.5
        self.outline = False
        self.current_class = 1
        self.brush_size = 20
        self.read_only = False
        self.tool = "select"
        self._rgba = np.zeros((1, 1, 4), np.uint8)
        self._lut = np.zeros((256, 4), np.uint8)

        self.photo_item = QGraphicsPixmapItem()
        self.photo_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.overlay_item = ImageItem()
        self.overlay_item.setZValue(1)
        self.preview_item = ImageItem()  # GrabCut proposal
        self.preview_item.setZValue(2)
        self.shapes_item = ShapesItem()
        self.shapes_item.setZValue(3)
        self.draft_item = QGraphicsPathItem()  # polygon / box / lasso / stroke being drawn
        self.draft_item.setZValue(4)
        self.cursor_item = QGraphicsEllipseItem()
        self.cursor_item.setZValue(5)
        for pen_color, width in ((QColor(0, 0, 0, 200), 3.0),):
            pen = QPen(pen_color, width)
            pen.setCosmetic(True)
            self.cursor_item.setPen(pen)
        self._cursor_inner = QGraphicsEllipseItem(self.cursor_item)
        inner = QPen(QColor("white"), 1.2)
        inner.setCosmetic(True)
        self._cursor_inner.setPen(inner)
        self.cursor_item.setVisible(False)
        for item in (self.photo_item, self.overlay_item, self.preview_item, self.shapes_item,
                     self.draft_item, self.cursor_item):
            self.scene().addItem(item)
        self.sigZoomChanged.connect(self._on_zoom)

        self._preview_buf: np.ndarray | None = None
        self.grabcut_state = "idle"  # idle | box | lasso | busy | proposal | stroke
        self._poly: list[tuple[int, int]] = []
        self._drag_start: QPointF | None = None
        self._stroke: list[tuple[int, int]] = []
        self._stroke_bg = False
        self._lasso: list[tuple[float, float]] = []
        self._painting = False
        self._last_px: tuple[int, int] | None = None
        self._pan_from: QPoint | None = None
        self._space = False
        self._drag_vertex: int | None = None
        self._hover_vertex: int | None = None
        self._last_scene = QPointF(-1, -1)
        self._auto_fit = True  # keep fitting on resize until the user zooms

    # --- content -------------------------------------------------------------------------
    def set_document(self, doc: AnnotationDocument | None, photo: np.ndarray | None) -> None:
        """Show ``photo`` (uint8 RGB) with the mask of ``doc``; None clears the canvas."""
        self.cancel_tool()
        self.doc = doc
        self.set_grabcut_preview(None)
        if doc is None:
            self.photo_item.setPixmap(QPixmap())
            self.overlay_item.set_image(None)
            self.shapes_item.shapes = []
            self.scene().setSceneRect(QRectF())
            self.viewport().update()
            return
        h, w = doc.mask.shape
        if photo is None or photo.shape[:2] != (h, w):
            photo = np.full((h, w, 3), 128, np.uint8)
        photo = np.ascontiguousarray(photo[..., :3])
        self.photo_item.setPixmap(QPixmap.fromImage(
            _numpy_qimage(photo, QImage.Format.Format_RGB888).copy()))
        self._rgba = np.zeros((h, w, 4), np.uint8)
        self.overlay_item.set_image(
            _numpy_qimage(self._rgba, QImage.Format.Format_RGBA8888_Premultiplied))
        rect = QRectF(0, 0, w, h)
        self.shapes_item.size = rect
        self.scene().setSceneRect(rect.adjusted(-w, -h, w, h))
        self._update_lut()
        self.refresh()
        self.fit()

    def set_classes(self, classes: list[ClassInfo]) -> None:
        """Use these class colours (repaints everything)."""
        self.classes = list(classes)
        self.shapes_item.colors = {c.id: QColor(c.color) for c in self.classes}
        self._update_lut()
        self.refresh()

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        (self.hidden.discard if visible else self.hidden.add)(int(class_id))
        self._update_lut()
        self.refresh()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(1.0, max(0.0, float(opacity)))
        self._update_lut()
        self.refresh()

    def set_outline(self, outline: bool) -> None:
        self.outline = bool(outline)
        self.refresh()

    def _update_lut(self) -> None:
        lut = np.zeros((256, 4), np.float64)
        alpha = self.opacity
        for c in self.classes:
            if c.id == IGNORE or c.id in self.hidden:
                continue
            r, g, b = c.rgb
            a = 1.0 if self.outline else alpha
            lut[c.id] = (r * a, g * a, b * a, 255 * a)
        for cid in range(len(self.classes), 255):  # ids without a class: magenta, flagged
            if cid not in self.hidden:
                lut[cid] = (255 * alpha, 0, 255 * alpha, 255 * alpha)
        self._lut = np.rint(lut).astype(np.uint8)

    def refresh(self, region: Region | None = None) -> None:
        """Re-colour the overlay in ``region`` (everything if None) and repaint it."""
        if self.doc is None:
            return
        mask = self.doc.mask
        h, w = mask.shape
        if region is None:
            r0, c0, r1, c1 = 0, 0, h, w
        else:
            r0, c0, r1, c1 = region[0].start, region[1].start, region[0].stop, region[1].stop
        if self.outline:
            self._update_lut()
            r0, c0, r1, c1 = max(0, r0 - 1), max(0, c0 - 1), min(h, r1 + 1), min(w, c1 + 1)
            pr0, pc0, pr1, pc1 = max(0, r0 - 1), max(0, c0 - 1), min(h, r1 + 1), min(w, c1 + 1)
            m = np.pad(mask[pr0:pr1, pc0:pc1], 1, mode="edge")
            core = m[1:-1, 1:-1]
            edge = ((core != m[:-2, 1:-1]) | (core != m[2:, 1:-1])
                    | (core != m[1:-1, :-2]) | (core != m[1:-1, 2:]))
            edge = edge[r0 - pr0:r1 - pr0, c0 - pc0:c1 - pc0]
            colors = self._lut[mask[r0:r1, c0:c1]]
            colors[~edge] = 0
            self._rgba[r0:r1, c0:c1] = colors
        else:
            self._rgba[r0:r1, c0:c1] = self._lut[mask[r0:r1, c0:c1]]
        self.overlay_item.update(QRectF(c0, r0, c1 - c0, r1 - r0))
        self.shapes_item.shapes = self.doc.shapes
        self.shapes_item.update()

    def set_grabcut_preview(self, proposal: np.ndarray | None, busy: bool = False) -> None:
        """Show a GrabCut proposal (H, W bool) tinted in the current class colour."""
        if busy:
            self.grabcut_state = "busy"
            self.viewport().setCursor(Qt.CursorShape.BusyCursor)
            return
        self._update_cursor()
        if proposal is None:
            self._preview_buf = None
            self.preview_item.set_image(None)
            if self.grabcut_state in ("busy", "proposal"):
                self.grabcut_state = "idle"
            return
        cls = next((c for c in self.classes if c.id == self.current_class), None)
        r, g, b = cls.rgb if cls is not None else (255, 0, 255)
        buf = np.zeros(proposal.shape + (4,), np.uint8)
        buf[~proposal] = (0, 0, 0, 110)  # dim what is left out
        a = 0.55
        buf[proposal] = (round(r * a), round(g * a), round(b * a), round(255 * a))
        self._preview_buf = buf
        self.preview_item.set_image(
            _numpy_qimage(buf, QImage.Format.Format_RGBA8888_Premultiplied))
        self.grabcut_state = "proposal"

    # --- view ----------------------------------------------------------------------------
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
        self._update_cursor()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta, event.position().toPoint())
        event.accept()

    # --- tools ---------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        if name != self.tool:
            self.cancel_tool()
        self.tool = name
        self.shapes_item.selected = None if name != "select" else self.shapes_item.selected
        self.shapes_item.setVisible(name in ("select", "polygon", "rect"))
        self._update_cursor()

    def set_brush_size(self, size: int) -> None:
        size = int(min(500, max(1, size)))
        if size != self.brush_size:
            self.brush_size = size
            self.sigBrushSizeChanged.emit(size)
        self._update_cursor()

    def cancel_tool(self) -> bool:
        """Drop whatever is being drawn; True if there was something."""
        had = bool(self._poly or self._drag_start is not None or self._stroke or self._lasso
                   or self._drag_vertex is not None or self.grabcut_state != "idle")
        if self._painting and self.doc is not None:
            self.doc.end_edit("brush")
            self._painting = False
            self.sigEdited.emit()
        self._poly, self._stroke, self._lasso = [], [], []
        self._drag_start = None
        self._drag_vertex = None
        self.shapes_item.override = None
        self.draft_item.setPath(QPainterPath())
        if self.grabcut_state != "idle":
            if self.grabcut_state != "busy" or had:
                self.sigGrabCutRejected.emit()
            self.set_grabcut_preview(None)
            self.grabcut_state = "idle"
        return had

    def _editable(self) -> bool:
        if self.doc is None:
            return False
        if self.read_only:
            self.sigMessage.emit("the project is read-only: edits are disabled")
            return False
        return True

    def _update_cursor(self) -> None:
        vp = self.viewport()
        brushy = self.tool in ("brush", "eraser") or self.grabcut_state in ("proposal", "stroke")
        self.cursor_item.setVisible(brushy and self.doc is not None
                                    and vp.rect().contains(vp.mapFromGlobal(QCursor.pos())))
        if self._space or self._pan_from is not None:
            vp.setCursor(Qt.CursorShape.ClosedHandCursor if self._pan_from is not None
                         else Qt.CursorShape.OpenHandCursor)
        elif brushy:
            vp.setCursor(Qt.CursorShape.BlankCursor)
        elif self.tool == "select":
            vp.setCursor(Qt.CursorShape.ArrowCursor)
        else:
            vp.setCursor(Qt.CursorShape.CrossCursor)
        r = self.brush_size / 2
        rect = QRectF(-r, -r, 2 * r, 2 * r)
        self.cursor_item.setRect(rect)
        self._cursor_inner.setRect(rect)

    def _draft(self, path: QPainterPath, color: QColor | None = None, width: float = 1.5) -> None:
        pen = QPen(color or self._class_color(), width)
        pen.setCosmetic(True)
        self.draft_item.setPen(pen)
        self.draft_item.setPath(path)

    def _class_color(self) -> QColor:
        cls = next((c for c in self.classes if c.id == self.current_class), None)
        return QColor(cls.color if cls is not None else "#ff00ff")

    def _pick_px(self) -> float:
        return PICK_PX / max(self.zoom, 1e-6)

    # --- mouse ---------------------------------------------------------------------------
    def _pixel(self, scene: QPointF) -> tuple[int, int]:
        return math.floor(scene.x()), math.floor(scene.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self._update_cursor()
            return
        self.setFocus()
        if self.doc is None:
            return
        scene = self.mapToScene(event.position().toPoint())
        scene = QPointF(scene.x(), scene.y())
        handler = getattr(self, f"_press_{self.tool}", None)
        if handler is not None:
            handler(event, scene)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        pos = event.position().toPoint()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self._auto_fit = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - d.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - d.y())
            return
        if self.doc is None:
            return
        scene = self.mapToScene(pos)
        self._last_scene = scene
        self.cursor_item.setPos(scene)
        if not self.cursor_item.isVisible():
            self._update_cursor()
        x, y = self._pixel(scene)
        h, w = self.doc.mask.shape
        if 0 <= x < w and 0 <= y < h:
            self.sigCursorMoved.emit(x, y, int(self.doc.mask[y, x]))
        else:
            self.sigCursorMoved.emit(-1, -1, -1)
        handler = getattr(self, f"_move_{self.tool}", None)
        if handler is not None:
            handler(event, scene)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton,
                                                             Qt.MouseButton.LeftButton):
            self._pan_from = None
            self._update_cursor()
            return
        if self.doc is None:
            return
        scene = self.mapToScene(event.position().toPoint())
        handler = getattr(self, f"_release_{self.tool}", None)
        if handler is not None:
            handler(event, scene)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self.tool == "select" and self.doc is not None:
            self._insert_vertex(self.mapToScene(event.position().toPoint()))
            return
        self.mousePressEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        self.cursor_item.setVisible(False)
        self.sigCursorMoved.emit(-1, -1, -1)
        super().leaveEvent(event)

    def enterEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        self._update_cursor()
        super().enterEvent(event)

    # brush / eraser
    def _press_brush(self, event: QMouseEvent, scene: QPointF) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self._editable():
            return
        assert self.doc is not None
        self.doc.begin_edit()
        self._painting = True
        x, y = self._pixel(scene)
        self._last_px = (x, y)
        value = IGNORE if self.tool == "eraser" else self.current_class
        self.refresh(self.doc.paint_disk(x, y, self.brush_size / 2, value))

    def _move_brush(self, event: QMouseEvent, scene: QPointF) -> None:
        if not self._painting or self.doc is None or self._last_px is None:
            return
        x, y = self._pixel(scene)
        value = IGNORE if self.tool == "eraser" else self.current_class
        region = self.doc.paint_stroke(self._last_px[0], self._last_px[1], x, y,
                                       self.brush_size / 2, value)
        self._last_px = (x, y)
        self.refresh(region)

    def _release_brush(self, event: QMouseEvent, scene: QPointF) -> None:
        if not self._painting or self.doc is None:
            return
        self._painting = False
        self.doc.end_edit("erase" if self.tool == "eraser" else "brush")
        self.sigEdited.emit()

    _press_eraser, _move_eraser, _release_eraser = _press_brush, _move_brush, _release_brush

    # fill
    def _press_fill(self, event: QMouseEvent, scene: QPointF) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self._editable():
            return
        assert self.doc is not None
        x, y = self._pixel(scene)
        region = self.doc.fill(x, y, self.current_class)
        if region is not None:
            self.refresh(region)
            self.sigEdited.emit()

    # polygon
    def _press_polygon(self, event: QMouseEvent, scene: QPointF) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            if self._poly:
                self._poly.pop()
                self._move_polygon(event, scene)
            return
        if event.button() != Qt.MouseButton.LeftButton or not self._editable():
            return
        x, y = self._pixel(scene)
        if len(self._poly) >= 3:
            fx, fy = self._poly[0]
            if math.hypot(scene.x() - fx - 0.5, scene.y() - fy - 0.5) <= self._pick_px():
                self.commit_polygon()
                return
        if not self._poly or self._poly[-1] != (x, y):
            self._poly.append((x, y))
        self._move_polygon(event, scene)

    def _move_polygon(self, event: QMouseEvent, scene: QPointF) -> None:
        if not self._poly:
            return
        path = QPainterPath(QPointF(self._poly[0][0] + 0.5, self._poly[0][1] + 0.5))
        for x, y in self._poly[1:]:
            path.lineTo(x + 0.5, y + 0.5)
        path.lineTo(scene)
        r = HANDLE_PX / 2 / max(self.zoom, 1e-6)
        fx, fy = self._poly[0]
        path.addEllipse(QPointF(fx + 0.5, fy + 0.5), r, r)
        self._draft(path)

    def commit_polygon(self) -> bool:
        """Close the polygon being drawn into a shape (needs 3 vertices); True if committed."""
        if len(self._poly) < 3 or self.doc is None:
            if self._poly:
                self.sigMessage.emit("a polygon needs at least 3 vertices")
            return False
        shape = {"kind": "polygon", "points": [[x, y] for x, y in self._poly],
                 "class_id": int(self.current_class)}
        self._poly = []
        self.draft_item.setPath(QPainterPath())
        return self._add_shape(shape)

    def _add_shape(self, shape: dict[str, Any]) -> bool:
        assert self.doc is not None
        try:
            region = self.doc.add_shape(shape)
        except ProjectError as exc:
            self.sigMessage.emit(str(exc))
            return False
        self.refresh(region)
        self.sigEdited.emit()
        return True

    # rectangle
    def _press_rect(self, event: QMouseEvent, scene: QPointF) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._editable():
            self._drag_start = scene

    def _rect_px(self, a: QPointF, b: QPointF) -> tuple[int, int, int, int]:
        (ax, ay), (bx, by) = self._pixel(a), self._pixel(b)
        return min(ax, bx), min(ay, by), abs(bx - ax) + 1, abs(by - ay) + 1

    def _move_rect(self, event: QMouseEvent, scene: QPointF) -> None:
        if self._drag_start is None:
            return
        x, y, w, h = self._rect_px(self._drag_start, scene)
        path = QPainterPath()
        path.addRect(QRectF(x, y, w, h))
        self._draft(path)

    def _release_rect(self, event: QMouseEvent, scene: QPointF) -> None:
        if self._drag_start is None or event.button() != Qt.MouseButton.LeftButton:
            return
        x, y, w, h = self._rect_px(self._drag_start, scene)
        self._drag_start = None
        self.draft_item.setPath(QPainterPath())
        if w < 2 and h < 2:
            return
        self._add_shape({"kind": "rect", "x": x, "y": y, "w": w, "h": h,
                         "class_id": int(self.current_class)})

    # select / edit
    def _vertex_at(self, scene: QPointF) -> int | None:
        i = self.shapes_item.selected
        if i is None or self.doc is None or i >= len(self.doc.shapes):
            return None
        best, best_d = None, self._pick_px()
        for k, p in enumerate(shape_handles(self.doc.shapes[i])):
            d = math.hypot(p.x() - scene.x(), p.y() - scene.y())
            if d <= best_d:
                best, best_d = k, d
        return best

    def _shape_at(self, scene: QPointF) -> int | None:
        if self.doc is None:
            return None
        for i in range(len(self.doc.shapes) - 1, -1, -1):
            path = shape_path(self.doc.shapes[i])
            if path is None:
                continue
            path.setFillRule(Qt.FillRule.OddEvenFill)
            if path.contains(scene):
                return i
            stroker_hit = any(_seg_dist(scene, a, b)[0] <= self._pick_px() for a, b in
                              _edges(self.doc.shapes[i]))
            if stroker_hit:
                return i
        return None

    def _press_select(self, event: QMouseEvent, scene: QPointF) -> None:
        assert self.doc is not None
        mods = event.modifiers()
        vertex = self._vertex_at(scene)
        if event.button() == Qt.MouseButton.RightButton:
            if vertex is not None:
                self.delete_vertex(vertex)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if mods & Qt.KeyboardModifier.ControlModifier and self._insert_vertex(scene):
            return
        if vertex is not None and not self.read_only:
            self._drag_vertex = vertex
            return
        self.shapes_item.selected = self._shape_at(scene)
        self.shapes_item.update()

    def _moved_shape(self, shape: dict[str, Any], k: int, scene: QPointF) -> dict[str, Any]:
        shape = dict(shape)
        if shape["kind"] == "polygon":
            pts = [list(p) for p in shape["points"]]
            pts[k] = list(self._pixel(scene))
            shape["points"] = pts
        elif shape["kind"] == "rect":
            corners = shape_handles(shape)
            opposite = corners[(k + 2) % 4]
            x0, x1 = sorted((round(scene.x()), round(opposite.x())))
            y0, y1 = sorted((round(scene.y()), round(opposite.y())))
            shape.update(x=x0, y=y0, w=max(1, x1 - x0), h=max(1, y1 - y0))
        return shape

    def _move_select(self, event: QMouseEvent, scene: QPointF) -> None:
        i = self.shapes_item.selected
        if self._drag_vertex is None or i is None or self.doc is None:
            hover = self._vertex_at(scene)
            if hover != self._hover_vertex:
                self._hover_vertex = hover
                self.viewport().setCursor(Qt.CursorShape.SizeAllCursor if hover is not None
                                          else Qt.CursorShape.ArrowCursor)
            return
        self.shapes_item.override = self._moved_shape(self.doc.shapes[i], self._drag_vertex, scene)
        self.shapes_item.update()

    def _release_select(self, event: QMouseEvent, scene: QPointF) -> None:
        i, k = self.shapes_item.selected, self._drag_vertex
        self._drag_vertex = None
        new = self.shapes_item.override
        self.shapes_item.override = None
        if i is None or k is None or new is None or self.doc is None:
            return
        if new != self.doc.shapes[i]:
            self._update_shape(i, new)

    def _update_shape(self, i: int, shape: dict[str, Any]) -> None:
        assert self.doc is not None
        try:
            region = self.doc.update_shape(i, shape)
        except ProjectError as exc:
            self.sigMessage.emit(str(exc))
            self.shapes_item.update()
            return
        self.refresh(region)
        self.sigEdited.emit()

    def _insert_vertex(self, scene: QPointF) -> bool:
        i = self.shapes_item.selected
        if i is None or self.doc is None or not self._editable():
            return False
        shape = self.doc.shapes[i]
        edges = _edges(shape)
        best = min(((_seg_dist(scene, a, b), k) for k, (a, b) in enumerate(edges)),
                   key=lambda t: t[0][0], default=None)
        if best is None or best[0][0] > self._pick_px():
            return False
        (_d, q), k = best
        if shape["kind"] == "rect":  # a rect with an extra vertex becomes a polygon
            x, y, w, h = (int(shape[n]) for n in ("x", "y", "w", "h"))
            pts = [[x, y], [x + w - 1, y], [x + w - 1, y + h - 1], [x, y + h - 1]]
            new: dict[str, Any] = {"kind": "polygon", "points": pts,
                                   "class_id": shape["class_id"]}
        else:
            pts = [list(p) for p in shape["points"]]
            new = {**shape, "points": pts}
        pts.insert(k + 1, list(self._pixel(q)))
        self._update_shape(i, new)
        return True

    def delete_vertex(self, k: int) -> None:
        i = self.shapes_item.selected
        if i is None or self.doc is None or not self._editable():
            return
        shape = self.doc.shapes[i]
        if shape.get("kind") != "polygon":
            self.sigMessage.emit("only polygon vertices can be deleted; Delete removes the shape")
            return
        if len(shape["points"]) <= 3:
            self.sigMessage.emit("a polygon keeps at least 3 vertices; Delete removes the shape")
            return
        pts = [list(p) for j, p in enumerate(shape["points"]) if j != k]
        self._hover_vertex = None
        self._update_shape(i, {**shape, "points": pts})

    def delete_selected(self) -> None:
        """Delete the hovered vertex of the selected shape, else the selected shape."""
        i = self.shapes_item.selected
        if i is None or self.doc is None or not self._editable():
            return
        vertex = self._vertex_at(self._last_scene)
        if vertex is not None and self.doc.shapes[i].get("kind") == "polygon" \
                and len(self.doc.shapes[i]["points"]) > 3:
            self.delete_vertex(vertex)
            return
        region = self.doc.delete_shape(i)
        self.shapes_item.selected = None
        self.refresh(region)
        self.sigEdited.emit()

    # assisted outline (GrabCut)
    def _press_grabcut(self, event: QMouseEvent, scene: QPointF) -> None:
        if not self._editable() or self.grabcut_state == "busy":
            return
        mods = event.modifiers()
        if self.grabcut_state == "proposal":
            if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
                self._stroke_bg = (event.button() == Qt.MouseButton.RightButton
                                   or bool(mods & Qt.KeyboardModifier.ShiftModifier))
                self._stroke = [self._pixel(scene)]
                self.grabcut_state = "stroke"
                self._move_grabcut(event, scene)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier):
            self.grabcut_state = "lasso"
            self._lasso = [(scene.x() - 0.5, scene.y() - 0.5)]
        else:
            self.grabcut_state = "box"
            self._drag_start = scene

    def _move_grabcut(self, event: QMouseEvent, scene: QPointF) -> None:
        if self.grabcut_state == "box" and self._drag_start is not None:
            x, y, w, h = self._rect_px(self._drag_start, scene)
            path = QPainterPath()
            path.addRect(QRectF(x, y, w, h))
            self._draft(path, QColor("#ffe119"), 2.0)
        elif self.grabcut_state == "lasso":
            self._lasso.append((scene.x() - 0.5, scene.y() - 0.5))
            path = QPainterPath(QPointF(self._lasso[0][0] + 0.5, self._lasso[0][1] + 0.5))
            for x, y in self._lasso[1:]:
                path.lineTo(x + 0.5, y + 0.5)
            self._draft(path, QColor("#ffe119"), 2.0)
        elif self.grabcut_state == "stroke":
            self._stroke.append(self._pixel(scene))
            path = QPainterPath(QPointF(self._stroke[0][0] + 0.5, self._stroke[0][1] + 0.5))
            for x, y in self._stroke[1:]:
                path.lineTo(x + 0.5, y + 0.5)
            pen = QPen(QColor(255, 60, 60, 200) if self._stroke_bg else QColor(60, 220, 90, 200),
                       float(self.brush_size))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            self.draft_item.setPen(pen)
            self.draft_item.setPath(path)

    def _release_grabcut(self, event: QMouseEvent, scene: QPointF) -> None:
        state = self.grabcut_state
        if state == "box" and self._drag_start is not None:
            x, y, w, h = self._rect_px(self._drag_start, scene)
            self._drag_start = None
            self.draft_item.setPath(QPainterPath())
            self.grabcut_state = "idle"
            if w < 4 or h < 4:
                self.sigMessage.emit("drag a box around the outfit (Shift+drag: free lasso)")
                return
            self.sigGrabCutRequested.emit({"mode": "rect", "rect": (x, y, w, h)})
        elif state == "lasso":
            pts, self._lasso = self._lasso, []
            self.draft_item.setPath(QPainterPath())
            self.grabcut_state = "idle"
            self.sigGrabCutRequested.emit({"mode": "lasso", "points": pts})
        elif state == "stroke" and self.doc is not None:
            import cv2

            pts, self._stroke = self._stroke, []
            self.draft_item.setPath(QPainterPath())
            marks = np.zeros(self.doc.mask.shape, np.uint8)
            arr = np.asarray(pts, np.int32).reshape(-1, 1, 2)
            cv2.polylines(marks, [arr], False, 1, thickness=max(1, self.brush_size),
                          lineType=cv2.LINE_8)
            for x, y in pts:  # round ends: a click without a drag still marks a dot
                cv2.circle(marks, (x, y), max(0, self.brush_size // 2), 1, -1)
            on = marks.astype(bool)
            self.grabcut_state = "proposal"
            self.sigGrabCutRequested.emit({"mode": "refine", "fg": None if self._stroke_bg else on,
                                           "bg": on if self._stroke_bg else None})

    # --- keys ----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_cursor()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.tool == "polygon":
                self.commit_polygon()
            elif self.tool == "grabcut" and self.grabcut_state == "proposal":
                self.sigGrabCutAccepted.emit()
            return
        if key == Qt.Key.Key_Escape:
            if not self.cancel_tool():
                if self.tool == "select" and self.shapes_item.selected is not None:
                    self.shapes_item.selected = None
                    self.shapes_item.update()
                else:
                    self.sigToolRequested.emit("select")
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self.tool == "polygon" and self._poly:
                self._poly.pop()
                self._move_polygon(None, self._last_scene)  # type: ignore[arg-type]
            elif self.tool == "select":
                self.delete_selected()
            return
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and not event.modifiers() & ~(
                Qt.KeyboardModifier.KeypadModifier):
            self.sigClassKey.emit(int(key - Qt.Key.Key_0))
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        self._space = False
        super().focusOutEvent(event)


def _edges(shape: dict[str, Any]) -> list[tuple[QPointF, QPointF]]:
    pts = shape_handles(shape)
    if len(pts) < 2:
        return []
    return [(pts[k], pts[(k + 1) % len(pts)]) for k in range(len(pts))]


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.canvas [PROJECT]
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.annotation import AnnotationDocument
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.views.style import apply_style, exec_demo, open_demo_project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    project = (Project.open(sys.argv[1], read_only=True) if len(sys.argv) > 1
               else open_demo_project())
    image_id = next(iter(project.images))
    canvas = CanvasView()
    canvas.set_classes(project.classes)
    canvas.set_document(AnnotationDocument(project, image_id), project.read_image(image_id))
    canvas.resize(900, 700)
    canvas.show()
    code = exec_demo(app)
    project.close()
    raise SystemExit(code)
