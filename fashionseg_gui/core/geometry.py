"""Pixel geometry behind :mod:`fashionseg_gui.core.shapes`: filling polygons and ellipses into
boolean patches (with clipping far outside the image) and the polygon self-intersection check.

See :mod:`fashionseg_gui.core.shapes` for the pixel conventions these functions implement.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

__all__ = [
    "MAX_CHECKED_POINTS",
    "Layer",
    "ShapeError",
    "ellipse_layer",
    "polygon_layer",
    "polygon_self_intersects",
]

#: Polygons with more vertices are not checked for self-intersections (they are still drawn).
MAX_CHECKED_POINTS = 250_000

_SHIFT = 8  # fixed-point bits for cv2.fillPoly: 1/256 pixel precision
_SCALE = 1 << _SHIFT
_MARGIN = 4096.0  # pixels beyond the image that cv2 clips on its own
_CHECK_PAIRS = 1_000_000  # overlapping edge-box pairs the exact check may face (~0.25 s)
_CHECK_SECONDS = 0.2  # time for the local search when the exact check would be too slow

Layer = tuple[tuple[int, int], np.ndarray]  # (top, left) and a boolean patch


class ShapeError(ValueError):
    """A shape that cannot be used; the message says why in one line."""


def _dedupe(pts: np.ndarray) -> np.ndarray:
    """Drop consecutive repeated vertices (and a closing vertex equal to the first)."""
    if len(pts) < 2:
        return pts
    keep = np.any(pts != np.roll(pts, 1, axis=0), axis=1)
    if not keep.any():
        return pts[:1]
    return pts[keep]


def _edge_box_pairs(pts: np.ndarray, samples: int = 64) -> float:
    """Estimated number of edge pairs whose bounding boxes overlap (the exact check's cost)."""
    a, b = pts, np.roll(pts, -1, axis=0)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    n = len(pts)
    idx = np.linspace(0, n - 1, min(samples, n)).astype(np.int64)
    over = (
        (lo[None, :, 0] <= hi[idx, None, 0])
        & (hi[None, :, 0] >= lo[idx, None, 0])
        & (lo[None, :, 1] <= hi[idx, None, 1])
        & (hi[None, :, 1] >= lo[idx, None, 1])
    )
    return float(over.sum(axis=1).mean()) * n / 2


def polygon_self_intersects(points: Any) -> bool:
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

    Raises
    ------
    ShapeError
        When the polygon has more than :data:`MAX_CHECKED_POINTS` vertices, or its edges are
        so intricate (many overlapping edge boxes) that the check would take more than a
        fraction of a second and no crossing was found quickly. The answer is then unknown;
        the polygon can still be filled (even-odd).
    """
    pts = _dedupe(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    n = len(pts)
    if n < 4:
        return False
    if n > MAX_CHECKED_POINTS:
        raise ShapeError(
            f"polygon has {n:,} points, too many to check for self-intersections "
            f"(at most {MAX_CHECKED_POINTS:,})"
        )
    if not np.isfinite(pts).all():
        return False
    import shapely

    with np.errstate(all="ignore"):  # huge coordinates overflow GEOS's arithmetic quietly
        if _edge_box_pairs(pts) <= _CHECK_PAIRS:
            return not shapely.LinearRing(pts).is_simple
        # Too intricate for the exact check: look for a crossing between nearby edges, a while.
        t0 = time.perf_counter()
        for start in range(0, n, 256):
            run = pts[start : start + 257]
            if len(run) >= 3 and not shapely.LineString(run).is_simple:
                return True
            if time.perf_counter() - t0 > _CHECK_SECONDS:
                break
    raise ShapeError(
        f"polygon with {n:,} points is too intricate to check for self-intersections quickly"
    )


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


def polygon_layer(pts: Any, height: int, width: int) -> Layer | None:
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


def ellipse_layer(
    cx: float, cy: float, rx: float, ry: float, theta: float, height: int, width: int
) -> Layer | None:
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
