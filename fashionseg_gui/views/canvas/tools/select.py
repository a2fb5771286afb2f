"""Select / edit: pick a shape, drag its vertices or corners, insert and delete vertices."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, Qt

from fashionseg_gui.views.canvas.items import seg_dist, shape_edges, shape_handles
from fashionseg_gui.views.canvas.tools.base import CanvasTool, register

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent, QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView


@register
class SelectTool(CanvasTool):
    name = "select"
    order = 10
    label = "Select / edit"
    shortcut = "V"
    hint = (
        "Click a shape to select it; drag a vertex; double-click or Ctrl+click an edge to "
        "insert a vertex; right-click or Delete removes a vertex"
    )
    edits = False  # selecting works read-only; each edit checks canvas.editable()
    shows_shapes = True
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, canvas: CanvasView) -> None:
        super().__init__(canvas)
        self._drag_vertex: int | None = None
        self._hover_vertex: int | None = None

    # --- hit tests -----------------------------------------------------------------------
    def selected_index(self) -> int | None:
        """The selected shape, or None (also when undo removed it)."""
        c = self.canvas
        i = c.shapes_item.selected
        if i is None or c.doc is None or not 0 <= i < len(c.doc.shapes):
            return None
        return i

    def vertex_at(self, scene: QPointF) -> int | None:
        c = self.canvas
        i = self.selected_index()
        if i is None or c.doc is None:
            return None
        best, best_d = None, c.pick_px()
        for k, p in enumerate(shape_handles(c.doc.shapes[i])):
            d = math.hypot(p.x() - scene.x(), p.y() - scene.y())
            if d <= best_d:
                best, best_d = k, d
        return best

    def shape_at(self, scene: QPointF) -> int | None:
        """The top-most shape under ``scene`` (inside it, or near its outline), or None."""
        from fashionseg_gui.core.shapes import Shape, ShapeError

        c = self.canvas
        if c.doc is None:
            return None
        x, y, pick = scene.x(), scene.y(), c.pick_px()
        for i in range(len(c.doc.shapes) - 1, -1, -1):
            try:
                shape = Shape.from_dict(c.doc.shapes[i], check_class=False)
            except ShapeError:
                continue
            if shape.contains(x, y) or shape.distance(x, y) <= pick:
                return i
        return None

    # --- events --------------------------------------------------------------------------
    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        vertex = self.vertex_at(scene)
        if event.button() == Qt.MouseButton.RightButton:
            if vertex is not None:
                self.delete_vertex(vertex)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and self.insert_vertex(scene):
            return
        if vertex is not None and not c.read_only:
            self._drag_vertex = vertex
            return
        c.shapes_item.selected = self.shape_at(scene)
        c.shapes_item.update()

    def _moved_shape(self, shape: dict[str, Any], k: int, scene: QPointF) -> dict[str, Any]:
        shape = dict(shape)
        if shape["kind"] == "polygon":
            pts = [list(p) for p in shape["points"]]
            pts[k] = list(self.canvas.pixel(scene))
            shape["points"] = pts
        elif shape["kind"] == "rect":
            corners = shape_handles(shape)
            opposite = corners[(k + 2) % 4]
            x0, x1 = sorted((round(scene.x()), round(opposite.x())))
            y0, y1 = sorted((round(scene.y()), round(opposite.y())))
            shape.update(x=x0, y=y0, w=max(1, x1 - x0), h=max(1, y1 - y0))
        return shape

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        i = self.selected_index()
        if self._drag_vertex is None or i is None or c.doc is None:
            hover = self.vertex_at(scene)
            if hover != self._hover_vertex:
                self._hover_vertex = hover
                c.update_cursor()
            return
        c.shapes_item.override = self._moved_shape(c.doc.shapes[i], self._drag_vertex, scene)
        c.shapes_item.update()

    def release(self, event: QMouseEvent, scene: QPointF) -> None:
        c = self.canvas
        i, k = self.selected_index(), self._drag_vertex
        self._drag_vertex = None
        new = c.shapes_item.override
        c.shapes_item.override = None
        if i is None or k is None or new is None or c.doc is None:
            return
        if new != c.doc.shapes[i]:
            c.update_shape(i, new)

    def double_click(self, event: QMouseEvent, scene: QPointF) -> bool:
        self.insert_vertex(scene)
        return True

    def key(self, event: QKeyEvent) -> bool:
        c = self.canvas
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
            return True
        if event.key() == Qt.Key.Key_Escape and c.shapes_item.selected is not None:
            c.shapes_item.selected = None
            c.shapes_item.update()
            return True
        return False

    def cancel(self) -> bool:
        had = self._drag_vertex is not None
        self._drag_vertex = None
        self.canvas.shapes_item.override = None
        return had

    def busy(self) -> bool:
        return self._drag_vertex is not None

    def current_cursor(self) -> Qt.CursorShape:
        return Qt.CursorShape.SizeAllCursor if self._hover_vertex is not None else self.cursor

    # --- edits ---------------------------------------------------------------------------
    def insert_vertex(self, scene: QPointF) -> bool:
        c = self.canvas
        i = self.selected_index()
        if i is None or c.doc is None or not c.editable():
            return False
        shape = c.doc.shapes[i]
        best = min(
            ((seg_dist(scene, a, b), k) for k, (a, b) in enumerate(shape_edges(shape))),
            key=lambda t: t[0][0],
            default=None,
        )
        if best is None or best[0][0] > c.pick_px():
            return False
        (_d, q), k = best
        if shape["kind"] == "rect":  # a rect with an extra vertex becomes a polygon
            x, y, w, h = (int(shape[n]) for n in ("x", "y", "w", "h"))
            pts = [[x, y], [x + w - 1, y], [x + w - 1, y + h - 1], [x, y + h - 1]]
            new: dict[str, Any] = {"kind": "polygon", "points": pts, "class_id": shape["class_id"]}
        else:
            pts = [list(p) for p in shape["points"]]
            new = {**shape, "points": pts}
        pts.insert(k + 1, list(c.pixel(q)))
        c.update_shape(i, new)
        return True

    def delete_vertex(self, k: int) -> None:
        c = self.canvas
        i = self.selected_index()
        if i is None or c.doc is None or not c.editable():
            return
        shape = c.doc.shapes[i]
        if shape.get("kind") != "polygon":
            c.sigMessage.emit("only polygon vertices can be deleted; Delete removes the shape")
            return
        if len(shape["points"]) <= 3:
            c.sigMessage.emit("a polygon keeps at least 3 vertices; Delete removes the shape")
            return
        pts = [list(p) for j, p in enumerate(shape["points"]) if j != k]
        self._hover_vertex = None
        c.update_shape(i, {**shape, "points": pts})

    def delete_selected(self) -> None:
        """Delete the hovered vertex of the selected shape, else the selected shape."""
        c = self.canvas
        i = self.selected_index()
        if i is None:
            # Nothing selected, or the selection went away (an undo removed the shape).
            if c.shapes_item.selected is not None:
                c.shapes_item.selected = None
                c.shapes_item.update()
            return
        if c.doc is None or not c.editable():
            return
        vertex = self.vertex_at(c.last_scene)
        shape = c.doc.shapes[i]
        if vertex is not None and shape.get("kind") == "polygon" and len(shape["points"]) > 3:
            self.delete_vertex(vertex)
            return
        region = c.doc.delete_shape(i)
        c.shapes_item.selected = None
        c.refresh(region)
        c.sigEdited.emit()
