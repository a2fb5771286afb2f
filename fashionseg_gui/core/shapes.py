"""Vector shapes (polygons, rectangles, circles, ellipses) and their rasterisation into label masks.

A shape is a plain dict, one per region, as stored in ``shapes/<image_id>.json``::

    {"kind": "polygon", "points": [[x, y], ...], "class_id": 1}
    {"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5, "class_id": 1}
    {"kind": "circle", "cx": 20, "cy": 20, "r": 8, "class_id": 1}
    {"kind": "ellipse", "cx": 45, "cy": 30, "rx": 10, "ry": 5, "theta": 0.5, "class_id": 1}
    {"kind": "point", "x": 5, "y": 5, "class_id": 1}
    {"kind": "polyline", "points": [[x, y], ...], "class_id": 1}

Coordinates are upright image pixels. Pixel conventions (pinned by the tests):

- **polygon**: the vertices are given to ``cv2.fillPoly`` as they are (sub-pixel precision kept
  with a fixed-point ``shift``). Pixel ``(col, row)`` sits at the integer point ``(col, row)``; the
  pixels on the outline are filled, so the square with corners 10 and 30 covers columns 10..30.
  This is what makes mask -> ``cv2.findContours`` -> polygon -> mask an exact round trip.
- **rect**: covers the pixels whose centre ``(col + 0.5, row + 0.5)`` lies in ``[x, x + w) x
  [y, y + h)``: ``x=2, y=3, w=4, h=5`` covers exactly columns 2..5 and rows 3..7. A negative width
  or height is normalised (the rectangle spans ``[x + w, x)``).
- **circle / ellipse**: cover the pixels whose centre lies inside or on the curve. ``theta`` (radians)
  rotates the ``rx`` axis clockwise on screen (y points down), as VIA and the HTML canvas draw it.
- **point / polyline**: have no area; they are kept for round trips, reported, never rasterised.

Fill rule: ``cv2.fillPoly`` uses the **even-odd** rule (checked: a ring drawn twice in the same
direction leaves its inside empty, the centre of a pentagram is empty). A self-intersecting polygon
is therefore filled even-odd, flagged in the report, and its vertices are kept unchanged.

Points outside the image are clipped at rasterisation only: ``cv2.fillPoly`` clips vertices up to
4096 pixels outside the image by itself (pixel-identical to drawing the polygon as given); farther
vertices are first clipped (Sutherland-Hodgman) to a box 4096 pixels larger than the image, which
keeps the even-odd parity of every pixel inside the image (the outline pixels of the cut edges may
move by one pixel).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "AREA_KINDS",
    "KINDS",
    "RasterResult",
    "polygon_self_intersects",
    "rasterize",
    "rasterize_detailed",
    "shape_area",
    "shape_bbox",
    "validate_shape",
]

#: Shape kinds that cover pixels.
AREA_KINDS = ("polygon", "rect", "circle", "ellipse")
#: Every kind a shape dict may have.
KINDS = (*AREA_KINDS, "point", "polyline")

_SHIFT = 8  # fixed-point bits for cv2.fillPoly: 1/256 pixel precision
_SCALE = 1 << _SHIFT
_MARGIN = 4096.0  # pixels beyond the image that cv2 clips on its own


def finite_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None (bools and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def number_fields(mapping: dict, names: tuple[str, ...],
                  problem: Callable[[str, Any], str] | None = None) -> dict[str, float] | str:
    """The finite numbers ``mapping[name]`` for each of ``names``, or why not (one line).

    ``problem(name, value)`` words a value that is not a finite number (default: a generic
    sentence); a missing name is reported as such.
    """
    out: dict[str, float] = {}
    for name in names:
        if name not in mapping:
            return f"missing '{name}'"
        v = finite_number(mapping[name])
        if v is None:
            return problem(name, mapping[name]) if problem else f"'{name}' is not a finite number"
        out[name] = v
    return out


def _points(value: Any) -> list[tuple[float, float]] | str:
    """Parse ``[[x, y], ...]``; return the points or a reason string."""
    if not isinstance(value, list | tuple):
        return "'points' is not a list"
    out: list[tuple[float, float]] = []
    for i, p in enumerate(value):
        if not isinstance(p, list | tuple) or len(p) != 2:
            return f"point {i} is not an [x, y] pair"
        x, y = finite_number(p[0]), finite_number(p[1])
        if x is None or y is None:
            return f"point {i} has a non-numeric or non-finite coordinate"
        out.append((x, y))
    return out


def _parse(shape: Any) -> tuple[str, Any] | str:
    """Parse a shape dict into (kind, geometry) or return a reason string."""
    if not isinstance(shape, dict):
        return "shape is not an object"
    kind = shape.get("kind")
    if not isinstance(kind, str):
        return "shape has no 'kind'"
    if kind in ("polygon", "polyline"):
        pts = _points(shape.get("points"))
        if isinstance(pts, str):
            return pts
        return kind, pts
    if kind == "rect":
        return kind, number_fields(shape, ("x", "y", "w", "h"))
    if kind == "circle":
        return kind, number_fields(shape, ("cx", "cy", "r"))
    if kind == "ellipse":
        geo = number_fields(shape, ("cx", "cy", "rx", "ry"))
        if isinstance(geo, str):
            return geo
        theta = finite_number(shape.get("theta", 0.0))
        if theta is None:
            return "'theta' is not a finite number"
        geo["theta"] = theta
        return kind, geo
    if kind == "point":
        return kind, number_fields(shape, ("x", "y"))
    return f"unknown shape kind '{kind}'"


def _shoelace(pts: list[tuple[float, float]]) -> float:
    a = np.asarray(pts, dtype=np.float64)
    x, y = a[:, 0], a[:, 1]
    with np.errstate(all="ignore"):
        return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _collinear(pts: list[tuple[float, float]]) -> bool:
    """Whether all points lie on one line (zero area whatever the order)."""
    a = np.asarray(pts, dtype=np.float64)
    with np.errstate(all="ignore"):
        d = a - a[0]
        span = float(np.abs(d).max())
        if span == 0.0 or not math.isfinite(span):
            return span == 0.0
        d = d / span
        far = d[int(np.argmax(np.hypot(d[:, 0], d[:, 1])))]
        cross = d[:, 0] * far[1] - d[:, 1] * far[0]
        return bool(np.abs(cross).max() <= 1e-12)


def _intrinsic_problem(kind: str, geo: Any) -> str | None:
    if isinstance(geo, str):
        return geo
    if kind == "polygon":
        if len(geo) < 3:
            return f"polygon has {len(geo)} point(s), needs at least 3"
        if _collinear(geo):
            return "polygon has zero area (all points on one line)"
    elif kind == "polyline":
        if len(geo) < 2:
            return f"polyline has {len(geo)} point(s), needs at least 2"
    elif kind == "rect":
        if geo["w"] == 0 or geo["h"] == 0:
            return "rect has zero width or height"
    elif kind == "circle":
        if geo["r"] <= 0:
            return "circle radius is not positive"
    elif kind == "ellipse" and (geo["rx"] <= 0 or geo["ry"] <= 0):
        return "ellipse radius is not positive"
    return None


def shape_area(shape: dict) -> float:
    """Geometric area of a shape in square pixels.

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
    parsed = _parse(shape)
    if isinstance(parsed, str):
        return 0.0
    kind, geo = parsed
    if isinstance(geo, str):
        return 0.0
    if kind == "polygon":
        return _shoelace(geo) if len(geo) >= 3 else 0.0
    if kind == "rect":
        return abs(geo["w"] * geo["h"])
    if kind == "circle":
        return math.pi * geo["r"] ** 2 if geo["r"] > 0 else 0.0
    if kind == "ellipse":
        return math.pi * geo["rx"] * geo["ry"] if geo["rx"] > 0 and geo["ry"] > 0 else 0.0
    return 0.0


def shape_bbox(shape: dict) -> tuple[float, float, float, float] | None:
    """Bounding box ``(x0, y0, x1, y1)`` of a parseable shape, or None."""
    parsed = _parse(shape)
    if isinstance(parsed, str) or isinstance(parsed[1], str):
        return None
    kind, geo = parsed
    if kind in ("polygon", "polyline"):
        if not geo:
            return None
        a = np.asarray(geo, dtype=np.float64)
        return (
            float(a[:, 0].min()),
            float(a[:, 1].min()),
            float(a[:, 0].max()),
            float(a[:, 1].max()),
        )
    if kind == "rect":
        x0, x1 = sorted((geo["x"], geo["x"] + geo["w"]))
        y0, y1 = sorted((geo["y"], geo["y"] + geo["h"]))
        return x0, y0, x1, y1
    if kind == "circle":
        r = abs(geo["r"])
        return geo["cx"] - r, geo["cy"] - r, geo["cx"] + r, geo["cy"] + r
    if kind == "ellipse":
        r = max(abs(geo["rx"]), abs(geo["ry"]))
        return geo["cx"] - r, geo["cy"] - r, geo["cx"] + r, geo["cy"] + r
    return geo["x"], geo["y"], geo["x"], geo["y"]


def validate_shape(shape: dict, width: int | None = None, height: int | None = None) -> str | None:
    """Say why a shape cannot be used, or return None when it can.

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
        shapes even though they have no area.
    """
    parsed = _parse(shape)
    if isinstance(parsed, str):
        return parsed
    kind, geo = parsed
    problem = _intrinsic_problem(kind, geo)
    if problem:
        return problem
    if "class_id" in shape:
        cid = shape["class_id"]
        if isinstance(cid, bool) or not isinstance(cid, int) or not 0 <= cid <= 255:
            return f"class_id {cid!r} is not an integer in 0..255"
    if width is not None and height is not None:
        box = shape_bbox(shape)
        if box is not None:
            x0, y0, x1, y1 = box
            if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
                return f"{kind} lies entirely outside the {width}x{height} image"
    return None


# --------------------------------------------------------------------------- polygons


def _dedupe(pts: np.ndarray) -> np.ndarray:
    """Drop consecutive repeated vertices (and a closing vertex equal to the first)."""
    if len(pts) < 2:
        return pts
    keep = np.any(pts != np.roll(pts, 1, axis=0), axis=1)
    if not keep.any():
        return pts[:1]
    return pts[keep]


def _orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Sign of the cross product (q - p) x (r - p), broadcast over leading axes."""
    v = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
        r[..., 0] - p[..., 0]
    )
    return np.sign(v)


def _on_segment(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """For r collinear with p-q: whether r lies within the box of p-q."""
    return (
        (np.minimum(p[..., 0], q[..., 0]) <= r[..., 0])
        & (r[..., 0] <= np.maximum(p[..., 0], q[..., 0]))
        & (np.minimum(p[..., 1], q[..., 1]) <= r[..., 1])
        & (r[..., 1] <= np.maximum(p[..., 1], q[..., 1]))
    )


def polygon_self_intersects(points: list[list[float]] | np.ndarray) -> bool:
    """Whether two non-adjacent edges of a closed polygon cross or touch.

    Parameters
    ----------
    points : array-like of shape (N, 2)
        Polygon vertices; the polygon is closed implicitly.

    Returns
    -------
    bool
        True when edges cross or touch. A vertex visited twice (a ring that touches
        itself) counts; a repeated consecutive vertex or an explicit closing vertex does not.
    """
    pts = _dedupe(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    n = len(pts)
    if n < 4:
        return False
    a = pts
    b = np.roll(pts, -1, axis=0)
    idx = np.arange(n)
    chunk = max(1, 2_000_000 // n)
    with np.errstate(all="ignore"):
        for start in range(0, n, chunk):
            i = idx[start : start + chunk][:, None]
            j = idx[None, :]
            valid = (j > i + 1) & ~((i == 0) & (j == n - 1))
            if not valid.any():
                continue
            p1, q1 = a[i[:, 0]][:, None, :], b[i[:, 0]][:, None, :]
            p2, q2 = a[None, :, :], b[None, :, :]
            o1, o2 = _orient(p1, q1, p2), _orient(p1, q1, q2)
            o3, o4 = _orient(p2, q2, p1), _orient(p2, q2, q1)
            full = o1.shape + (2,)
            hit = (o1 * o2 < 0) & (o3 * o4 < 0)
            hit |= (o1 == 0) & _on_segment(p1, q1, np.broadcast_to(p2, full))
            hit |= (o2 == 0) & _on_segment(p1, q1, np.broadcast_to(q2, full))
            hit |= (o3 == 0) & _on_segment(p2, q2, np.broadcast_to(p1, full))
            hit |= (o4 == 0) & _on_segment(p2, q2, np.broadcast_to(q1, full))
            if (hit & valid).any():
                return True
    return False


def _clip_polygon(pts: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Sutherland-Hodgman clipping of a closed polygon against an axis-aligned box.

    Pixels strictly inside the box keep their even-odd parity: the parts of the outline that
    leave the box are replaced by runs along the box edges.
    """
    out = pts
    for axis, bound, keep_greater in ((0, x0, True), (0, x1, False), (1, y0, True), (1, y1, False)):
        if len(out) == 0:
            break
        cur = out
        nxt = np.roll(cur, -1, axis=0)
        ins_c = cur[:, axis] >= bound if keep_greater else cur[:, axis] <= bound
        ins_n = nxt[:, axis] >= bound if keep_greater else nxt[:, axis] <= bound
        res: list[np.ndarray] = []
        for k in range(len(cur)):
            c, nx = cur[k], nxt[k]
            if ins_c[k]:
                res.append(c)
            if ins_c[k] != ins_n[k]:
                t = (bound - c[axis]) / (nx[axis] - c[axis])
                p = c + t * (nx - c)
                p[axis] = bound
                res.append(p)
        out = np.asarray(res, dtype=np.float64).reshape(-1, 2)
    return out


def _polygon_layer(
    pts: list[tuple[float, float]], height: int, width: int
) -> tuple[tuple[int, int], np.ndarray] | None:
    """Fill a polygon (even-odd, outline included); return (top-left, boolean layer) or None."""
    import cv2

    arr = np.asarray(pts, dtype=np.float64)
    # cv2 clips by itself; vertices farther than _MARGIN pixels from the image are clipped here
    # first (to a box _MARGIN pixels larger than the image) so that fixed-point values fit int32.
    # Far-away vertices are pulled in to +-1e9 before that so that the arithmetic stays finite.
    np.clip(arr, -1e9, 1e9, out=arr)
    lo, hi_x, hi_y = -_MARGIN, width + _MARGIN, height + _MARGIN
    if arr.min() < lo or arr[:, 0].max() > hi_x or arr[:, 1].max() > hi_y:
        arr = _clip_polygon(arr, lo, lo, hi_x, hi_y)
        if len(arr) < 3:
            return None
    fixed = np.round(arr * _SCALE).astype(np.int64)
    # bounding box of pixels that may be touched, within the image
    c0 = max(0, int(math.floor(arr[:, 0].min())))
    r0 = max(0, int(math.floor(arr[:, 1].min())))
    c1 = min(width - 1, int(math.ceil(arr[:, 0].max())))
    r1 = min(height - 1, int(math.ceil(arr[:, 1].max())))
    if c1 < c0 or r1 < r0:
        return None
    layer = np.zeros((r1 - r0 + 1, c1 - c0 + 1), dtype=np.uint8)
    fixed -= np.array([c0 * _SCALE, r0 * _SCALE], dtype=np.int64)
    cv2.fillPoly(
        layer, [fixed.astype(np.int32).reshape(-1, 1, 2)], 1, lineType=cv2.LINE_8, shift=_SHIFT
    )
    return (r0, c0), layer.astype(bool)


def _rect_layer(
    geo: dict[str, float], height: int, width: int
) -> tuple[tuple[int, int], np.ndarray] | None:
    x0, x1 = sorted((geo["x"], geo["x"] + geo["w"]))
    y0, y1 = sorted((geo["y"], geo["y"] + geo["h"]))
    # pixel centres c + 0.5 in [x0, x1)  <=>  ceil(x0 - 0.5) <= c < ceil(x1 - 0.5)
    c0 = max(0, math.ceil(x0 - 0.5))
    c1 = min(width, math.ceil(x1 - 0.5))
    r0 = max(0, math.ceil(y0 - 0.5))
    r1 = min(height, math.ceil(y1 - 0.5))
    if c1 <= c0 or r1 <= r0:
        return None
    return (r0, c0), np.ones((r1 - r0, c1 - c0), dtype=bool)


def _ellipse_layer(
    cx: float, cy: float, rx: float, ry: float, theta: float, height: int, width: int
) -> tuple[tuple[int, int], np.ndarray] | None:
    r = max(rx, ry)
    c0 = max(0, int(math.floor(cx - r - 1)))
    c1 = min(width - 1, int(math.ceil(cx + r)))
    r0 = max(0, int(math.floor(cy - r - 1)))
    r1 = min(height - 1, int(math.ceil(cy + r)))
    if c1 < c0 or r1 < r0:
        return None
    xs = np.arange(c0, c1 + 1, dtype=np.float64) + 0.5 - cx
    ys = np.arange(r0, r1 + 1, dtype=np.float64) + 0.5 - cy
    dx, dy = xs[None, :], ys[:, None]
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    u = dx * cos_t + dy * sin_t
    v = -dx * sin_t + dy * cos_t
    inside = (u / rx) ** 2 + (v / ry) ** 2 <= 1.0 + 1e-12
    return (r0, c0), inside


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
        problem = validate_shape(shape)
        if problem is None and "class_id" not in shape:
            problem = "shape has no class_id"
        if problem:
            res.skipped.append((i, problem))
            res.lines.append(f"shape {i + 1}: skipped: {problem}")
            continue
        kind, geo = _parse(shape)  # type: ignore[misc]
        if kind in ("point", "polyline"):
            res.no_area.append(i)
            res.lines.append(f"shape {i + 1} ({kind}): no area, kept but not rasterised")
            continue
        if kind == "polygon":
            layer = _polygon_layer(geo, height, width)
            if polygon_self_intersects(geo):
                res.self_intersecting.append(i)
                res.lines.append(
                    f"shape {i + 1} (polygon): self-intersecting, filled with the even-odd rule"
                )
        elif kind == "rect":
            layer = _rect_layer(geo, height, width)
        elif kind == "circle":
            layer = _ellipse_layer(geo["cx"], geo["cy"], geo["r"], geo["r"], 0.0, height, width)
        else:
            layer = _ellipse_layer(
                geo["cx"], geo["cy"], geo["rx"], geo["ry"], geo["theta"], height, width
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
