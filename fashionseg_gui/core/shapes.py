"""Vector shapes (polygons, rectangles, circles, ellipses) and their rasterisation into label masks.

On disk (``shapes/<image_id>.json``) and in :class:`~fashionseg_gui.core.annotation.AnnotationDocument`
a shape is a plain dict, one per region::

    {"kind": "polygon", "points": [[x, y], ...], "class_id": 1}
    {"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5, "class_id": 1}
    {"kind": "circle", "cx": 20, "cy": 20, "r": 8, "class_id": 1}
    {"kind": "ellipse", "cx": 45, "cy": 30, "rx": 10, "ry": 5, "theta": 0.5, "class_id": 1}
    {"kind": "point", "x": 5, "y": 5, "class_id": 1}
    {"kind": "polyline", "points": [[x, y], ...], "class_id": 1}

In code, :meth:`Shape.from_dict` turns such a dict into a typed shape (:class:`Polygon`,
:class:`Rect`, :class:`Circle`, :class:`Ellipse`, :class:`Point`, :class:`Polyline`) with hit
tests, bounding box, area and rasterising, or raises :class:`ShapeError` saying why it cannot;
:meth:`Shape.to_dict` gives the same dict back (unknown keys are kept). The typed shapes live in
:mod:`fashionseg_gui.core.shape_model` (with the pixel conventions, pinned by the tests); the
dict functions here (:func:`validate_shape`, :func:`rasterize`, ...) are thin wrappers over them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fashionseg_gui.core.shape_model import (
    AREA_KINDS,
    KINDS,
    MAX_CHECKED_POINTS,
    Circle,
    Ellipse,
    Point,
    Polygon,
    Polyline,
    Rect,
    Shape,
    ShapeError,
    _class_id,
    _PointsShape,
    finite_number,
    number_fields,
    polygon_self_intersects,
)

__all__ = [
    "AREA_KINDS",
    "KINDS",
    "MAX_CHECKED_POINTS",
    "Circle",
    "Ellipse",
    "Point",
    "Polygon",
    "Polyline",
    "RasterResult",
    "Rect",
    "Shape",
    "ShapeError",
    "finite_number",
    "number_fields",
    "polygon_self_intersects",
    "rasterize",
    "rasterize_detailed",
    "shape_area",
    "shape_bbox",
    "validate_shape",
]


# --------------------------------------------------------------------------- dict API


def _typed(shape: Any) -> Shape | None:
    try:
        return Shape.from_dict(shape, check_class=False)
    except ShapeError:
        return None


def shape_area(shape: dict) -> float:
    """Geometric area of a shape dict in square pixels.

    Parameters
    ----------
    shape : dict
        A shape dict (see the module docstring).

    Returns
    -------
    float
        The area; 0.0 for points, polylines and unusable shapes. For a polygon this is the
        absolute shoelace area, which for a self-intersecting polygon is the net signed area
        (a bow-tie gives 0.0 even though it covers pixels).
    """
    typed = _typed(shape)
    return typed.area() if typed is not None else 0.0


def shape_bbox(shape: dict) -> tuple[float, float, float, float] | None:
    """Bounding box ``(x0, y0, x1, y1)`` of a parseable shape dict, or None."""
    typed = _typed(shape)
    if typed is None or (isinstance(typed, _PointsShape) and not typed.points):
        return None
    return typed.bbox()


def _usable(
    shape: Any, width: int | None = None, height: int | None = None
) -> tuple[Shape | None, str | None]:
    """The typed shape and None, or None and why the dict cannot be used."""
    try:
        typed = Shape.from_dict(shape, check_class=False)
        problem = typed.problem()
        if problem:
            return None, problem
        if "class_id" in shape:
            _class_id(shape["class_id"])
        typed.check(width, height)
    except ShapeError as exc:
        return None, str(exc)
    return typed, None


def validate_shape(shape: dict, width: int | None = None, height: int | None = None) -> str | None:
    """Say why a shape dict cannot be used, or return None when it can.

    Parameters
    ----------
    shape : dict
        A shape dict. ``class_id``, when present, must be an int in 0..255.
    width, height : int or None
        Image size; when given, a shape entirely outside the image is unusable.

    Returns
    -------
    str or None
        A one-line reason (missing or non-finite coordinates, fewer than 3 polygon points,
        zero area, unknown kind, outside the image), or None. Points and polylines are valid
        shapes even though they have no area. (:meth:`Shape.from_dict` and
        :meth:`Shape.check` raise :class:`ShapeError` with the same reasons.)
    """
    return _usable(shape, width, height)[1]


# --------------------------------------------------------------------------- rasterize


@dataclass
class RasterResult:
    """What :func:`rasterize_detailed` drew and what it noticed (shape indices are 0-based)."""

    mask: np.ndarray
    lines: list[str] = field(default_factory=list)
    drawn: list[int] = field(default_factory=list)
    overlaps: int = 0
    empty: list[int] = field(default_factory=list)
    self_intersecting: list[int] = field(default_factory=list)
    no_area: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def rasterize_detailed(
    shapes: list[dict],
    height: int,
    width: int,
    base: np.ndarray | None = None,
    ignore_value: int = 255,
) -> RasterResult:
    """Rasterise shapes into a label mask and report per shape what happened.

    Parameters
    ----------
    shapes : list of dict
        Shape dicts with ``class_id``; later shapes are drawn over earlier ones.
    height, width : int
        Mask size.
    base : np.ndarray or None
        A uint8 (height, width) mask to draw on (it is copied, never modified).
    ignore_value : int
        Fill value of a new mask when ``base`` is None.

    Returns
    -------
    RasterResult
        The mask and the report: shapes that overlap earlier ones, are empty after clipping,
        self-intersect, have no area, or were skipped (with a reason).
    """
    height, width = int(height), int(width)
    if height <= 0 or width <= 0:
        raise ValueError(f"mask size must be positive, got {width}x{height}")
    if base is not None:
        if base.shape != (height, width):
            raise ValueError(
                f"base mask is {base.shape[1]}x{base.shape[0]}, expected {width}x{height}"
            )
        mask = np.array(base, dtype=np.uint8, copy=True)
    else:
        mask = np.full((height, width), ignore_value, dtype=np.uint8)
    res = RasterResult(mask=mask)
    painted = np.zeros((height, width), dtype=bool)
    for i, shape in enumerate(shapes):
        typed, problem = _usable(shape)
        if problem is None and "class_id" not in shape:
            problem = "shape has no class_id"
        if problem or typed is None:
            res.skipped.append((i, problem or "unusable"))
            res.lines.append(f"shape {i + 1}: skipped: {problem}")
            continue
        kind = typed.kind
        if not typed.has_area:
            res.no_area.append(i)
            res.lines.append(f"shape {i + 1} ({kind}): no area, kept but not rasterised")
            continue
        layer = typed.layer(height, width)
        if isinstance(typed, Polygon):
            try:
                crossing = typed.self_intersects()
            except ShapeError as exc:
                res.lines.append(f"shape {i + 1} (polygon): {exc}; filled with the even-odd rule")
            else:
                if crossing:
                    res.self_intersecting.append(i)
                    res.lines.append(
                        f"shape {i + 1} (polygon): self-intersecting, filled with the even-odd rule"
                    )
        if layer is None or not layer[1].any():
            res.empty.append(i)
            res.lines.append(
                f"shape {i + 1} ({kind}): empty after clipping to the {width}x{height} image"
            )
            continue
        (r0, c0), on = layer
        sl = (slice(r0, r0 + on.shape[0]), slice(c0, c0 + on.shape[1]))
        if (painted[sl] & on).any():
            res.overlaps += 1
        mask[sl][on] = shape["class_id"]
        painted[sl] |= on
        res.drawn.append(i)
    if res.overlaps:
        res.lines.append(f"{res.overlaps} shape(s) overlap earlier shapes (later shapes win)")
    return res


def rasterize(
    shapes: list[dict],
    height: int,
    width: int,
    base: np.ndarray | None = None,
    ignore_value: int = 255,
) -> tuple[np.ndarray, list[str]]:
    """Rasterise shapes into a uint8 label mask; later shapes win.

    Parameters
    ----------
    shapes : list of dict
        Shape dicts with ``class_id`` (see the module docstring for conventions).
    height, width : int
        Mask size.
    base : np.ndarray or None
        Mask to draw on (copied); if None the mask starts filled with ``ignore_value``.
    ignore_value : int
        Value of pixels that no shape covers when ``base`` is None.

    Returns
    -------
    tuple of (np.ndarray, list of str)
        The mask and one report line per notable event (skipped, no area, empty after
        clipping, self-intersecting) plus an overlap count line.
    """
    res = rasterize_detailed(shapes, height, width, base=base, ignore_value=ignore_value)
    return res.mask, res.lines
