"""The annotation canvas: the photo, the label overlay, and the current tool's events.

The overlay is a QImage that shares memory with a persistent premultiplied RGBA numpy buffer;
an edit re-colours only its dirty box through a 256-entry colour table (class colour, opacity,
visibility) and repaints that box. Labels are written into the numpy mask by
:class:`~fashionseg_gui.core.annotation.AnnotationDocument`, never painted with QPainter, so
mask pixels stay exact class ids.

The view owns the scene, zoom, pan (space+drag, middle button) and the overlay; everything a
tool does lives in :mod:`fashionseg_gui.views.canvas.tools` (one module per tool, one
:class:`~fashionseg_gui.views.canvas.tools.CanvasTool` interface). The view routes the mouse
and the keys it does not handle itself to the current tool.

Coordinates: pixel ``(col, row)`` covers the scene square ``[col, col+1) x [row, row+1)``.
Polygon vertices are pixel indices (the clicked pixel), drawn at the pixel centre.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from fashionseg_gui.core.project import IGNORE, ProjectError
from fashionseg_gui.views.canvas.grabcut_preview import GrabCutPreview
from fashionseg_gui.views.canvas.items import ImageItem, ShapesItem, numpy_qimage
from fashionseg_gui.views.canvas.overlays import ReviewOverlays
from fashionseg_gui.views.canvas.tools import (
    CanvasTool,
    GrabCutState,
    Tool,
    registered,
    tool_class,
)
from fashionseg_gui.views.canvas.tools.polygon import PolygonTool
from fashionseg_gui.views.canvas.tools.select import SelectTool
from fashionseg_gui.views.canvas.zoom import MAX_ZOOM, MIN_ZOOM, ZoomMixin  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from fashionseg_gui.core.annotation import AnnotationDocument, Region
    from fashionseg_gui.core.project import ClassInfo


HATCH_PX = 4  # width of the bands of a prediction's hatched overlay (image pixels)
PICK_PX = 8.0  # how close (screen pixels) a click must be to a vertex or an edge
_TOOL_VALUES = frozenset(t.value for t in Tool)


class CanvasView(GrabCutPreview, ReviewOverlays, ZoomMixin, QGraphicsView):
    """Photo + label overlay + the current tool. Driven by the editor; edits go to the document.

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
        A class chosen on the canvas: a digit key not taken by a shortcut (class 1..9,
        0 = background) or the class picked by the eyedropper.
    sigMessage(str)
        A hint or a refusal worded for the user (status bar).
    sigZoomChanged(float), sigBrushSizeChanged(int)
    sigAcceptKey()
        Enter that no tool took (the editor accepts a reviewed prediction with it).

    Review overlays (a predicted photo): :meth:`set_prediction_style` hatches the label
    overlay so that a prediction never looks like a human label; :meth:`set_heatmap` shows
    the per-pixel confidence (red = unsure; the class overlay is hidden meanwhile);
    :meth:`set_low_confidence` outlines the unsure regions; :meth:`set_diff` shows a
    disagreement map (float in [0, 1], 0 = agree) in magenta.
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
    sigAcceptKey = Signal()

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
        pen = QPen(QColor(0, 0, 0, 200), 3.0)
        pen.setCosmetic(True)
        self.cursor_item.setPen(pen)
        self._cursor_inner = QGraphicsEllipseItem(self.cursor_item)
        inner = QPen(QColor("white"), 1.2)
        inner.setCosmetic(True)
        self._cursor_inner.setPen(inner)
        self.cursor_item.setVisible(False)
        review_items = self._init_review_overlays()
        for item in (
            self.photo_item,
            self.overlay_item,
            self.preview_item,
            self.shapes_item,
            self.draft_item,
            self.cursor_item,
            *review_items,
        ):
            self.scene().addItem(item)
        self.sigZoomChanged.connect(self._on_zoom)

        self._preview_buf: np.ndarray | None = None
        self._pan_from: QPoint | None = None
        self._space = False
        self.last_scene = QPointF(-1, -1)  # where the mouse was last seen (scene coordinates)
        self._auto_fit = True  # keep fitting on resize until the user zooms
        # One instance per registered tool; a tool keeps its state while another is current.
        self._tools: dict[str, CanvasTool] = {cls.name: cls(self) for cls in registered()}
        self._tool: str = Tool.SELECT

    # --- tools ---------------------------------------------------------------------------
    @property
    def tool(self) -> str:
        """The current tool's name (a :class:`Tool` member for the tools built in; a ``str``
        enum, so ``canvas.tool == "brush"`` holds too)."""
        return self._tool

    @property
    def active_tool(self) -> CanvasTool:
        """The current tool's object."""
        return self._tools[self._tool]

    def tool_object(self, name: str) -> CanvasTool:
        """The object of tool ``name`` (ValueError if no such tool is registered)."""
        return self._tools[tool_class(name).name]

    def set_tool(self, name: str) -> None:
        """Make ``name`` (a :class:`Tool` or any registered tool's name) the current tool."""
        new = tool_class(name).name
        new = Tool(new) if new in _TOOL_VALUES else new
        if new != self._tool:
            self.cancel_tool()
        self._tool = new
        if new != Tool.SELECT:
            self.shapes_item.selected = None
        self.shapes_item.setVisible(self.active_tool.shows_shapes)
        self.update_cursor()

    def busy_drawing(self) -> bool:
        """Whether a gesture is in progress (a brush stroke, a vertex drag): undo waits."""
        return any(t.busy() for t in self._tools.values())

    def cancel_tool(self) -> bool:
        """Drop whatever is being drawn (a brush stroke in progress is kept); True if any."""
        had = False
        for t in self._tools.values():
            had = t.cancel() or had
        self.clear_draft()
        return had

    def commit_polygon(self) -> bool:
        """Close the polygon being drawn into a shape (needs 3 vertices); True if committed."""
        tool = self._tools["polygon"]
        assert isinstance(tool, PolygonTool)
        return tool.commit()

    def delete_selected(self) -> None:
        """Delete the hovered vertex of the selected shape, else the selected shape."""
        tool = self._tools["select"]
        assert isinstance(tool, SelectTool)
        tool.delete_selected()

    def delete_vertex(self, k: int) -> None:
        """Delete vertex ``k`` of the selected polygon (it keeps at least 3)."""
        tool = self._tools["select"]
        assert isinstance(tool, SelectTool)
        tool.delete_vertex(k)

    def set_brush_size(self, size: int) -> None:
        size = int(min(500, max(1, size)))
        if size != self.brush_size:
            self.brush_size = size
            self.sigBrushSizeChanged.emit(size)
        self.update_cursor()

    # --- content -------------------------------------------------------------------------
    def set_document(self, doc: AnnotationDocument | None, photo: np.ndarray | None) -> None:
        """Show ``photo`` (uint8 RGB) with the mask of ``doc``; None clears the canvas."""
        self.cancel_tool()
        self.doc = doc
        self.shapes_item.selected = None
        self.set_grabcut_preview(None)
        self.clear_review()
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
        self.photo_item.setPixmap(
            QPixmap.fromImage(numpy_qimage(photo, QImage.Format.Format_RGB888).copy())
        )
        self._rgba = np.zeros((h, w, 4), np.uint8)
        self.overlay_item.set_image(
            numpy_qimage(self._rgba, QImage.Format.Format_RGBA8888_Premultiplied)
        )
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

    # --- what is shown (read-only views for tests and tools) -----------------------------
    def overlay_rgba(self) -> np.ndarray:
        """The overlay as shown: (H, W, 4) premultiplied RGBA uint8 (a read-only view)."""
        view = self._rgba.view()
        view.setflags(write=False)
        return view

    def class_rgba(self, class_id: int) -> tuple[int, int, int, int]:
        """The premultiplied RGBA a pixel of ``class_id`` gets in the filled overlay."""
        r, g, b, a = (int(v) for v in self._lut[int(class_id)])
        return r, g, b, a

    def colour_table(self) -> np.ndarray:
        """The 256-entry premultiplied RGBA table mapping labels to overlay colours (a copy)."""
        return self._lut.copy()

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
            edge = (
                (core != m[:-2, 1:-1])
                | (core != m[2:, 1:-1])
                | (core != m[1:-1, :-2])
                | (core != m[1:-1, 2:])
            )
            edge = edge[r0 - pr0 : r1 - pr0, c0 - pc0 : c1 - pc0]
            colors = self._lut[mask[r0:r1, c0:c1]]
            colors[~edge] = 0
            self._rgba[r0:r1, c0:c1] = colors
        else:
            self._rgba[r0:r1, c0:c1] = self._lut[mask[r0:r1, c0:c1]]
        if self.prediction_style:  # hatched: every other diagonal band is faint
            rows = np.arange(r0, r1)[:, None]
            cols = np.arange(c0, c1)[None, :]
            faint = ((rows + cols) // HATCH_PX) % 2 == 1
            block = self._rgba[r0:r1, c0:c1]
            block[faint] = (block[faint].astype(np.uint16) * 3 // 10).astype(np.uint8)
        self.overlay_item.update(QRectF(c0, r0, c1 - c0, r1 - r0))
        self.shapes_item.shapes = self.doc.shapes
        sel = self.shapes_item.selected
        if sel is not None and not 0 <= sel < len(self.doc.shapes):
            self.shapes_item.selected = None  # an undo removed the selected shape
        self.shapes_item.update()

    # --- services for the tools ----------------------------------------------------------
    def editable(self) -> bool:
        """Whether the document may be edited now (says why not on sigMessage)."""
        if self.doc is None:
            return False
        if self.read_only:
            self.sigMessage.emit("the project is read-only: edits are disabled")
            return False
        return True

    @staticmethod
    def pixel(scene: QPointF) -> tuple[int, int]:
        """The pixel ``(col, row)`` under a scene point."""
        return math.floor(scene.x()), math.floor(scene.y())

    def rect_px(self, a: QPointF, b: QPointF) -> tuple[int, int, int, int]:
        """The pixel box ``(x, y, w, h)`` spanned by two scene points (both pixels included)."""
        (ax, ay), (bx, by) = self.pixel(a), self.pixel(b)
        return min(ax, bx), min(ay, by), abs(bx - ax) + 1, abs(by - ay) + 1

    def pick_px(self) -> float:
        """How close (scene units) a click must be to a vertex or an edge to hit it."""
        return PICK_PX / max(self.zoom, 1e-6)

    def draft(self, path: QPainterPath, color: QColor | None = None, width: float = 1.5) -> None:
        """Show ``path`` as the outline being drawn (default: in the current class colour)."""
        pen = QPen(color or self._class_color(), width)
        pen.setCosmetic(True)
        self.draft_item.setPen(pen)
        self.draft_item.setPath(path)

    def clear_draft(self) -> None:
        self.draft_item.setPath(QPainterPath())

    def add_shape(self, shape: dict[str, Any]) -> bool:
        """Add a shape to the document (one undo step); False, with a message, if refused."""
        assert self.doc is not None
        try:
            region = self.doc.add_shape(shape)
        except ProjectError as exc:
            self.sigMessage.emit(str(exc))
            return False
        self.refresh(region)
        self.sigEdited.emit()
        return True

    def update_shape(self, i: int, shape: dict[str, Any]) -> bool:
        """Replace shape ``i`` (one undo step); False, with a message, if refused."""
        assert self.doc is not None
        try:
            region = self.doc.update_shape(i, shape)
        except ProjectError as exc:
            self.sigMessage.emit(str(exc))
            self.shapes_item.update()
            return False
        self.refresh(region)
        self.sigEdited.emit()
        return True

    def update_cursor(self) -> None:
        """Set the mouse cursor and the brush outline for the current tool and state."""
        vp = self.viewport()
        tool = self.active_tool
        brushy = tool.wants_brush_cursor()
        self.cursor_item.setVisible(
            brushy and self.doc is not None and vp.rect().contains(vp.mapFromGlobal(QCursor.pos()))
        )
        if self._space or self._pan_from is not None:
            vp.setCursor(
                Qt.CursorShape.ClosedHandCursor
                if self._pan_from is not None
                else Qt.CursorShape.OpenHandCursor
            )
        elif self.grabcut_state is GrabCutState.BUSY:
            vp.setCursor(Qt.CursorShape.BusyCursor)
        else:
            vp.setCursor(tool.current_cursor())
        r = self.brush_size / 2
        rect = QRectF(-r, -r, 2 * r, 2 * r)
        self.cursor_item.setRect(rect)
        self._cursor_inner.setRect(rect)

    def _class_color(self) -> QColor:
        cls = next((c for c in self.classes if c.id == self.current_class), None)
        return QColor(cls.color if cls is not None else "#ff00ff")

    # --- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_from = event.position().toPoint()
            self.update_cursor()
            return
        self.setFocus()
        if self.doc is None:
            return
        scene = self.mapToScene(event.position().toPoint())
        self.active_tool.press(event, QPointF(scene.x(), scene.y()))

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
        self.last_scene = scene
        self.cursor_item.setPos(scene)
        if not self.cursor_item.isVisible():
            self.update_cursor()
        x, y = self.pixel(scene)
        h, w = self.doc.mask.shape
        if 0 <= x < w and 0 <= y < h:
            self.sigCursorMoved.emit(x, y, int(self.doc.mask[y, x]))
        else:
            self.sigCursorMoved.emit(-1, -1, -1)
        self.active_tool.move(event, scene)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            self.update_cursor()
            return
        if self.doc is None:
            return
        self.active_tool.release(event, self.mapToScene(event.position().toPoint()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self.doc is not None and self.active_tool.double_click(
            event, self.mapToScene(event.position().toPoint())
        ):
            return
        self.mousePressEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        self.cursor_item.setVisible(False)
        self.sigCursorMoved.emit(-1, -1, -1)
        super().leaveEvent(event)

    def enterEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        self.update_cursor()
        super().enterEvent(event)

    # --- keys ----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.update_cursor()
            return
        if key == Qt.Key.Key_Escape:
            if not self.cancel_tool() and not self.active_tool.key(event):
                self.sigToolRequested.emit("select")
            return
        if self.active_tool.key(event):
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sigAcceptKey.emit()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and not event.modifiers() & ~(
            Qt.KeyboardModifier.KeypadModifier
        ):
            self.sigClassKey.emit(int(key - Qt.Key.Key_0))
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.update_cursor()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        self._space = False
        super().focusOutEvent(event)
