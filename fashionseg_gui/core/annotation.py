"""The label mask of one open image as an editable document, with undo/redo.

:class:`AnnotationDocument` holds the uint8 label mask (class ids, 255 = unlabelled) and the
vector shapes of one image. Every edit (a brush stroke, a fill, a committed polygon, a moved
vertex) becomes one undo step that stores only the bounding box of the pixels it changed: the
old and the new uint8 patch, plus the shapes list before and after when shapes changed. Undo and
redo therefore restore byte-identical masks at a memory cost proportional to the edited area.

Layering of paint and vector shapes: later edits win. Adding a shape paints its pixels over
the mask; a brush stroke, a fill or an accepted outline paints over the shapes beneath it.
Editing a shape (a moved vertex) changes only the pixels the shape gains or loses, so paint made
after the shape survives; deleting a shape gives its pixels back to the shapes beneath, else
unlabelled.

The document is Qt-free; the editor view drives it and repaints the regions it returns.
"""

from __future__ import annotations

import collections
import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.project import IGNORE, ProjectError

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

__all__ = ["AnnotationDocument", "Region", "UndoStep", "disk_stamp"]

#: A changed area of the mask: ``(rows, cols)`` slices, usable as ``mask[region]``.
Region = tuple[slice, slice]

#: Default number of undo steps kept per image (the oldest are dropped first).
MAX_UNDO = 500
#: Upper bound of the bytes held by the undo and redo stacks of one image.
MAX_UNDO_BYTES = 256 * 1024 * 1024

_STAMPS: dict[float, np.ndarray] = {}


def disk_stamp(radius: float) -> np.ndarray:
    """Boolean disk of pixels whose centre lies within ``radius`` of the centre pixel.

    Parameters
    ----------
    radius : float
        Disk radius in pixels; below 0.5 the stamp is the single centre pixel.

    Returns
    -------
    np.ndarray
        A cached (2k+1, 2k+1) bool array with ``k = floor(radius)``; do not modify it.
    """
    radius = max(0.0, float(radius))
    stamp = _STAMPS.get(radius)
    if stamp is None:
        k = int(np.floor(radius))
        d = np.arange(-k, k + 1, dtype=np.float64)
        stamp = (d[:, None] ** 2 + d[None, :] ** 2) <= radius * radius + 1e-9
        stamp.setflags(write=False)
        _STAMPS[radius] = stamp
    return stamp


def _union(
    a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _box_of(region: Region | None) -> tuple[int, int, int, int] | None:
    if region is None:
        return None
    return region[0].start, region[1].start, region[0].stop, region[1].stop


def _region(box: tuple[int, int, int, int]) -> Region:
    return slice(box[0], box[2]), slice(box[1], box[3])


def _bool_bbox(on: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(on.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(on.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


@dataclass
class UndoStep:
    """One undoable edit: the changed box with its old and new pixels, and the shapes."""

    label: str
    box: tuple[int, int, int, int] | None  # (r0, c0, r1, c1) or None when no pixel changed
    old: np.ndarray | None
    new: np.ndarray | None
    shapes_before: list[dict[str, Any]] | None = None
    shapes_after: list[dict[str, Any]] | None = None

    @property
    def nbytes(self) -> int:
        return 0 if self.old is None else 2 * self.old.nbytes


class AnnotationDocument:
    """The editable label mask and shapes of one image of a project.

    Parameters
    ----------
    project : Project
        The open project.
    image_id : str
        The image to edit. Its mask is loaded if stored; otherwise its last prediction (the
        document is then ``from_prediction``); otherwise a mask of 255 (unlabelled).
    max_undo : int
        Undo steps kept (at least 200 are always kept).

    Attributes
    ----------
    mask : np.ndarray
        uint8 (H, W) class ids; edit it only through the methods so that undo works.
    shapes : list of dict
        The vector shapes (see ``fashionseg_gui.core.shapes``).
    dirty : bool
        Whether there are edits not saved yet.
    from_prediction : bool
        Whether the editable mask came from a prediction (no user mask was stored).
    """

    def __init__(self, project: Project, image_id: str, max_undo: int = MAX_UNDO) -> None:
        self.project = project
        self.image_id = image_id
        rec = project.images[image_id]
        self.height, self.width = int(rec.height), int(rec.width)
        self.from_prediction = False
        if project.has_mask(image_id):
            self.mask = np.array(project.read_mask(image_id), dtype=np.uint8, copy=True)
        else:
            try:
                pred = project.read_prediction(image_id)
            except ProjectError:  # a damaged prediction file: start from an empty mask
                pred = None
            if pred is not None and pred[0].shape == (self.height, self.width):
                self.mask = np.array(pred[0], dtype=np.uint8, copy=True)
                self.from_prediction = True
            else:
                self.mask = np.full((self.height, self.width), IGNORE, np.uint8)
        self.shapes: list[dict[str, Any]] = project.read_shapes(image_id)
        self.dirty = False
        self.max_undo = max(200, int(max_undo))
        self._undo: collections.deque[UndoStep] = collections.deque()
        self._undo_bytes = 0  # sum of the steps' nbytes, kept as they come and go
        self._redo: list[UndoStep] = []
        self._edit_depth = 0
        self._edit_snapshot: np.ndarray | None = None
        self._edit_box: tuple[int, int, int, int] | None = None
        self._edit_shapes: list[dict[str, Any]] | None = None

    # --- edit grouping -------------------------------------------------------------------
    def begin_edit(self) -> None:
        """Start grouping the following changes into one undo step (nestable)."""
        if self._edit_depth == 0:
            self._edit_snapshot = self.mask.copy()
            self._edit_box = None
            self._edit_shapes = copy.deepcopy(self.shapes)
        self._edit_depth += 1

    def end_edit(self, label: str = "edit") -> Region | None:
        """Close the group opened by :meth:`begin_edit`; push one undo step if anything changed.

        Returns
        -------
        tuple of slice or None
            The box of the pixels that changed in the whole group, or None.
        """
        if self._edit_depth == 0:
            return None
        self._edit_depth -= 1
        if self._edit_depth > 0:
            return None
        snapshot, box, shapes_before = self._edit_snapshot, self._edit_box, self._edit_shapes
        self._edit_snapshot = self._edit_box = self._edit_shapes = None
        assert snapshot is not None
        tight = None
        if box is not None:
            sl = _region(box)
            changed = snapshot[sl] != self.mask[sl]
            inner = _bool_bbox(changed)
            if inner is not None:
                tight = (box[0] + inner[0], box[1] + inner[1], box[0] + inner[2], box[1] + inner[3])
        shapes_changed = shapes_before != self.shapes
        if tight is None and not shapes_changed:
            return None
        old = new = None
        if tight is not None:
            sl = _region(tight)
            old, new = snapshot[sl].copy(), self.mask[sl].copy()
        step = UndoStep(
            label,
            tight,
            old,
            new,
            shapes_before if shapes_changed else None,
            copy.deepcopy(self.shapes) if shapes_changed else None,
        )
        self._push(step)
        self.dirty = True
        return _region(tight) if tight is not None else None

    def _push(self, step: UndoStep) -> None:
        self._undo.append(step)
        self._undo_bytes += step.nbytes
        self._redo.clear()
        while len(self._undo) > self.max_undo or (
            self._undo_bytes > MAX_UNDO_BYTES and len(self._undo) > 1
        ):
            self._undo_bytes -= self._undo.popleft().nbytes

    def _touch(self, box: tuple[int, int, int, int] | None) -> None:
        if self._edit_depth > 0:
            self._edit_box = _union(self._edit_box, box)

    def _single(self, label: str, fn: Any) -> Region | None:
        """Run ``fn`` as its own undo step unless a group is open; return its region."""
        self.begin_edit()
        try:
            region = fn()
        finally:
            group = self.end_edit(label)
        return region if region is not None else group

    # --- pixel edits ---------------------------------------------------------------------
    def _clip(self, r0: int, c0: int, r1: int, c1: int) -> tuple[int, int, int, int] | None:
        r0, c0 = max(0, r0), max(0, c0)
        r1, c1 = min(self.height, r1), min(self.width, c1)
        if r1 <= r0 or c1 <= c0:
            return None
        return r0, c0, r1, c1

    def _apply_layer(self, top: int, left: int, on: np.ndarray, value: int) -> Region | None:
        """Set ``value`` where ``on`` (placed at top/left, may stick out) is True."""
        box = self._clip(top, left, top + on.shape[0], left + on.shape[1])
        if box is None:
            return None
        sub = on[box[0] - top : box[2] - top, box[1] - left : box[3] - left]
        self._touch(box)
        self.mask[_region(box)][sub] = value
        return _region(box)

    def paint_disk(self, x: float, y: float, radius: float, value: int) -> Region | None:
        """Paint a round dab centred on pixel ``(x, y)`` (column, row) with ``value``.

        Parameters
        ----------
        x, y : float
            Centre pixel; rounded down to a pixel index.
        radius : float
            Radius in pixels (a brush of size ``s`` has radius ``s / 2``).
        value : int
            Class id, or 255 to erase.

        Returns
        -------
        tuple of slice or None
            The box that may have changed (None when the dab is outside the image).
        """
        stamp = disk_stamp(radius)
        k = stamp.shape[0] // 2
        cx, cy = int(np.floor(x)), int(np.floor(y))
        return self._single("brush", lambda: self._apply_layer(cy - k, cx - k, stamp, value))

    def paint_stroke(
        self, x0: float, y0: float, x1: float, y1: float, radius: float, value: int
    ) -> Region | None:
        """Paint dabs along the segment from pixel ``(x0, y0)`` to ``(x1, y1)`` (no gaps).

        Returns
        -------
        tuple of slice or None
            The box that may have changed.
        """
        stamp = disk_stamp(radius)
        k = stamp.shape[0] // 2
        ax, ay, bx, by = (int(np.floor(v)) for v in (x0, y0, x1, y1))
        n = max(abs(bx - ax), abs(by - ay))
        t = np.linspace(0.0, 1.0, n + 1) if n else np.zeros(1)
        xs = np.rint(ax + (bx - ax) * t).astype(np.int64)
        ys = np.rint(ay + (by - ay) * t).astype(np.int64)
        left, top = int(xs.min()) - k, int(ys.min()) - k
        on = np.zeros((int(ys.max()) - top + k + 1, int(xs.max()) - left + k + 1), dtype=bool)
        size = stamp.shape[0]
        for px, py in zip(xs - left - k, ys - top - k, strict=True):
            on[py : py + size, px : px + size] |= stamp
        return self._single("brush", lambda: self._apply_layer(top, left, on, value))

    def fill(self, x: float, y: float, value: int) -> Region | None:
        """Flood-fill the 4-connected region of equal label around pixel ``(x, y)``.

        Returns
        -------
        tuple of slice or None
            The filled box, or None if the pixel is outside the image or already ``value``.
        """
        import cv2

        cx, cy = int(np.floor(x)), int(np.floor(y))
        if not (0 <= cx < self.width and 0 <= cy < self.height):
            return None
        if int(self.mask[cy, cx]) == int(value):
            return None
        ff = np.zeros((self.height + 2, self.width + 2), np.uint8)
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
        cv2.floodFill(self.mask, ff, (cx, cy), 0, 0, 0, flags)
        return self.set_region(ff[1:-1, 1:-1].astype(bool), value, label="fill")

    def set_region(self, mask_bool: np.ndarray, value: int, label: str = "region") -> Region | None:
        """Set ``value`` on every pixel where ``mask_bool`` (H, W) is True.

        Returns
        -------
        tuple of slice or None
            The bounding box of ``mask_bool``, or None if it is empty.
        """
        mask_bool = np.asarray(mask_bool, dtype=bool)
        if mask_bool.shape != self.mask.shape:
            raise ProjectError(f"region is {mask_bool.shape}, mask is {self.mask.shape}")
        box = _bool_bbox(mask_bool)
        if box is None:
            return None
        sl = _region(box)
        return self._single(label, lambda: self._apply_layer(box[0], box[1], mask_bool[sl], value))

    # --- shapes --------------------------------------------------------------------------
    def _footprint(self, shape: dict[str, Any]) -> np.ndarray:
        from fashionseg_gui.core.shapes import rasterize

        probe = dict(shape, class_id=1)
        return rasterize([probe], self.height, self.width, ignore_value=0)[0] == 1

    def _redraw(self, affected: np.ndarray) -> Region | None:
        """Set the ``affected`` pixels to what the shapes give there (255 where none does)."""
        from fashionseg_gui.core.shapes import rasterize

        box = _bool_bbox(affected)
        if box is None:
            return None
        drawn = rasterize(self.shapes, self.height, self.width, ignore_value=IGNORE)[0]
        sl = _region(box)
        self._touch(box)
        self.mask[sl][affected[sl]] = drawn[sl][affected[sl]]
        return sl

    def _check_shape(self, shape: dict[str, Any]) -> dict[str, Any]:
        from fashionseg_gui.core.shapes import validate_shape

        problem = validate_shape(shape, self.width, self.height)
        if problem is not None:
            raise ProjectError(f"cannot use this shape: {problem}")
        return copy.deepcopy(shape)

    def add_shape(self, shape: dict[str, Any]) -> Region | None:
        """Append a shape and paint it over the mask (one undo step).

        Raises
        ------
        ProjectError
            If the shape is invalid (too few points, zero area, outside the image).
        """
        shape = self._check_shape(shape)

        def run() -> Region | None:
            self.shapes.append(shape)
            on = self._footprint(shape)
            box = _bool_bbox(on)
            if box is None or "class_id" not in shape:
                return None
            sl = _region(box)
            return self._apply_layer(box[0], box[1], on[sl], int(shape["class_id"]))

        return self._single(f"add {shape.get('kind', 'shape')}", run)

    def update_shape(self, i: int, shape: dict[str, Any]) -> Region | None:
        """Replace shape ``i`` (a moved vertex, a new class); one undo step.

        Layering: later edits win. The edit changes only the pixels the shape gains or
        loses (and, when its class changes, the pixels that still show its old class); paint
        made after the shape and shapes drawn after it keep their pixels. A gained pixel takes
        the shape's class; a lost pixel that still shows the shape's class falls back to the
        shapes beneath, else unlabelled.
        """
        shape = self._check_shape(shape)
        old = self.shapes[i]

        def run() -> Region | None:
            old_on, new_on = self._footprint(old), self._footprint(shape)
            above = self._footprint_of(self.shapes[i + 1 :])
            self.shapes[i] = shape
            old_cls, new_cls = old.get("class_id"), shape.get("class_id")
            shows_old = (
                (self.mask == old_cls) if isinstance(old_cls, int) else np.zeros_like(new_on)
            )
            lost = old_on & ~new_on & ~above & shows_old
            take = new_on & ~old_on & ~above
            if new_cls != old_cls:
                take |= new_on & old_on & ~above & shows_old
            if not isinstance(new_cls, int):  # a shape without a class draws nothing
                lost = old_on & ~above & shows_old
                take[:] = False
            box = _bool_bbox(lost | take)
            if box is None:
                return None
            self._touch(box)
            sl = _region(box)
            if lost.any():
                beneath = self._drawn(self.shapes[:i])
                self.mask[sl][lost[sl]] = beneath[sl][lost[sl]]
            if take.any() and isinstance(new_cls, int):  # nothing to take without a class
                self.mask[sl][take[sl]] = int(new_cls)
            return sl

        return self._single(f"edit {shape.get('kind', 'shape')}", run)

    def _footprint_of(self, shapes: list[dict[str, Any]]) -> np.ndarray:
        """Pixels covered by any of ``shapes``."""
        from fashionseg_gui.core.shapes import rasterize

        probes = [dict(s, class_id=1) for s in shapes]
        return rasterize(probes, self.height, self.width, ignore_value=0)[0] == 1

    def _drawn(self, shapes: list[dict[str, Any]]) -> np.ndarray:
        """What ``shapes`` alone give (255 where none covers)."""
        from fashionseg_gui.core.shapes import rasterize

        return rasterize(shapes, self.height, self.width, ignore_value=IGNORE)[0]

    def delete_shape(self, i: int) -> Region | None:
        """Remove shape ``i``; its pixels fall back to the shapes beneath, else unlabelled."""
        old = self.shapes[i]

        def run() -> Region | None:
            affected = self._footprint(old)
            del self.shapes[i]
            return self._redraw(affected)

        return self._single(f"delete {old.get('kind', 'shape')}", run)

    # --- undo / redo ---------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and self._edit_depth == 0

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and self._edit_depth == 0

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def _apply_step(self, step: UndoStep, forward: bool) -> Region | None:
        if step.box is not None:
            patch = step.new if forward else step.old
            assert patch is not None  # a step with a box keeps its old and new pixels
            self.mask[_region(step.box)] = patch
        shapes = step.shapes_after if forward else step.shapes_before
        if shapes is not None:
            self.shapes = copy.deepcopy(shapes)
        self.dirty = True
        return _region(step.box) if step.box is not None else None

    def undo(self) -> Region | None:
        """Revert the last edit; return the region it touched (None if nothing to undo)."""
        if not self.can_undo:
            return None
        step = self._undo.pop()
        self._undo_bytes -= step.nbytes
        self._redo.append(step)
        return self._apply_step(step, forward=False)

    def redo(self) -> Region | None:
        """Re-apply the last undone edit; return the region it touched."""
        if not self.can_redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        self._undo_bytes += step.nbytes
        return self._apply_step(step, forward=True)

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    # --- saving --------------------------------------------------------------------------
    @property
    def save_status(self) -> str:
        """The image status a save records: ``corrected`` for an edited prediction."""
        rec = self.project.images.get(self.image_id)
        if self.from_prediction or (rec is not None and rec.status == "corrected"):
            return "corrected"
        return "labelled"

    def save(self) -> None:
        """Write the mask and shapes as one unit; clears :attr:`dirty` only on success.

        A crash at any point leaves both old or both new (see
        :meth:`Project.save_annotation`). The status follows the mask: undoing back to an
        all-unlabelled mask saves the image as ``unlabelled`` (``predicted`` if a
        prediction is stored), not ``labelled``.

        Raises
        ------
        OSError, ProjectError
            When a write fails (disk full, read-only project); the document stays dirty.
        """
        self.project.save_annotation(
            self.image_id, self.mask, copy.deepcopy(self.shapes), status=self.save_status
        )
        self.dirty = False
