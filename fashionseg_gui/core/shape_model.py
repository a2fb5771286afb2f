"""The typed shape model: one dataclass per kind, with hit tests, bounding box, area and rasterising.

:meth:`Shape.from_dict` turns a stored shape dict (see :mod:`fashionseg_gui.core.shapes`)
into a :class:`Polygon`, :class:`Rect`, :class:`Circle`, :class:`Ellipse`, :class:`Point` or
:class:`Polyline`, or raises :class:`ShapeError` saying why it cannot; :meth:`Shape.to_dict`
gives the same dict back (unknown keys are kept).

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

Hit tests (:meth:`Shape.contains`, :meth:`Shape.distance`) use the canvas's scene coordinates,
where pixel ``(col, row)`` covers the square ``[col, col+1) x [row, row+1)``: polygon and polyline
vertices sit at pixel centres ``(x + 0.5, y + 0.5)``; rect, circle and ellipse coordinates are used
as they are.

Fill rule: ``cv2.fillPoly`` uses the **even-odd** rule (checked: a ring drawn twice in the same
direction leaves its inside empty, the centre of a pentagram is empty). A self-intersecting polygon
is therefore filled even-odd, flagged in the report, and its vertices are kept unchanged. The
self-intersection check (GEOS through shapely) is refused, with a clear report line, above
:data:`MAX_CHECKED_POINTS` vertices or when the outline is too intricate to check quickly; the
polygon is still filled.

Points outside the image are clipped at rasterisation only: ``cv2.fillPoly`` clips vertices up to
4096 pixels outside the image by itself (pixel-identical to drawing the polygon as given); farther
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from fashionseg_gui.core.geometry import (
    MAX_CHECKED_POINTS,
    Layer,
    ShapeError,
    ellipse_layer,
    polygon_layer,
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
    "Rect",
    "Shape",
    "ShapeError",
    "finite_number",
    "number_fields",
    "polygon_self_intersects",
]

#: Shape kinds that cover pixels.
AREA_KINDS = ("polygon", "rect", "circle", "ellipse")
#: Every kind a shape dict may have.
KINDS = (*AREA_KINDS, "point", "polyline")


def finite_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None (bools and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _number(value: Any, name: str, problem: Callable[[str, Any], str] | None = None) -> float:
    """``value`` unchanged when it is a finite int or float (ints stay ints on disk)."""
    if finite_number(value) is None:
        raise ShapeError(problem(name, value) if problem else f"'{name}' is not a finite number")
    return value


def _numbers(
    mapping: dict, names: tuple[str, ...], problem: Callable[[str, Any], str] | None = None
) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in names:
        if name not in mapping:
            raise ShapeError(f"missing '{name}'")
        out[name] = _number(mapping[name], name, problem)
    return out


def number_fields(
    mapping: dict, names: tuple[str, ...], problem: Callable[[str, Any], str] | None = None
) -> dict[str, float] | str:
    """The finite numbers ``mapping[name]`` for each of ``names``, or why not (one line).

    ``problem(name, value)`` words a value that is not a finite number (default: a generic
    sentence); a missing name is reported as such.
    """
    try:
        return {k: float(v) for k, v in _numbers(mapping, names, problem).items()}
    except ShapeError as exc:
        return str(exc)


def _points(value: Any) -> tuple[tuple[float, float], ...]:
    """Parse ``[[x, y], ...]`` (values kept as given) or raise ShapeError."""
    if not isinstance(value, list | tuple):
        raise ShapeError("'points' is not a list")
    # Fast path for plain int/float pairs (bools, strings and numpy scalars take the slow one).
    plain = (int, float)
    if all(
        type(p) in (list, tuple) and len(p) == 2 and type(p[0]) in plain and type(p[1]) in plain
        for p in value
    ):
        try:
            finite = bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())
        except (OverflowError, ValueError):
            finite = False
        if finite:
            return tuple((p[0], p[1]) for p in value)
    out: list[tuple[float, float]] = []
    for i, p in enumerate(value):
        if not isinstance(p, list | tuple) or len(p) != 2:
            raise ShapeError(f"point {i} is not an [x, y] pair")
        if finite_number(p[0]) is None or finite_number(p[1]) is None:
            raise ShapeError(f"point {i} has a non-numeric or non-finite coordinate")
        out.append((p[0], p[1]))
    return tuple(out)


def _class_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise ShapeError(f"class_id {value!r} is not an integer in 0..255")
    return value


def _seg_distance(px: float, py: float, a: np.ndarray, b: np.ndarray) -> float:
    """Smallest distance from (px, py) to the segments a[k]-b[k]."""
    d = b - a
    n = (d * d).sum(axis=1)
    with np.errstate(all="ignore"):
        t = np.where(n > 0, ((px - a[:, 0]) * d[:, 0] + (py - a[:, 1]) * d[:, 1]) / n, 0.0)
    t = np.clip(t, 0.0, 1.0)
    qx, qy = a[:, 0] + t * d[:, 0], a[:, 1] + t * d[:, 1]
    return float(np.hypot(px - qx, py - qy).min()) if len(a) else math.inf


# --------------------------------------------------------------------------- typed shapes


@dataclass(frozen=True)
class Shape:
    """Base of the typed shapes. ``class_id`` is None when the dict has none.

    ``extra`` holds the dict's other keys, written back unchanged by :meth:`to_dict`.
    """

    class_id: int | None = field(default=None, kw_only=True)
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, compare=False)

    kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()
    _kinds: ClassVar[dict[str, type[Shape]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Shape._kinds[cls.kind] = cls

    # --- dicts ---------------------------------------------------------------------------
    @staticmethod
    def from_dict(shape: Any, check_class: bool = True) -> Shape:
        """The typed shape of a shape dict.

        Raises
        ------
        ShapeError
            When it is not an object, has no or an unknown kind, lacks a coordinate, has a
            non-finite one, or (``check_class``) a ``class_id`` outside 0..255. Geometry that
            parses but cannot cover pixels (two polygon points, zero radius) is reported by
            :meth:`check`, not here.
        """
        if not isinstance(shape, dict):
            raise ShapeError("shape is not an object")
        kind = shape.get("kind")
        if not isinstance(kind, str):
            raise ShapeError("shape has no 'kind'")
        cls = Shape._kinds.get(kind)
        if cls is None:
            raise ShapeError(f"unknown shape kind '{kind}'")
        geo = cls._parse(shape)
        cid = shape.get("class_id")
        if cid is not None and check_class:
            cid = _class_id(cid)
        elif cid is not None:
            try:
                cid = _class_id(cid)
            except ShapeError:
                cid = None
        used = {"kind", "class_id", *cls._fields}
        extra = {k: v for k, v in shape.items() if k not in used}
        return cls(**geo, class_id=cid, extra=extra)

    @classmethod
    def _parse(cls, shape: dict) -> dict[str, Any]:
        return _numbers(shape, cls._fields)

    def _geometry(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def to_dict(self) -> dict[str, Any]:
        """The on-disk dict (``kind``, the coordinates, ``class_id`` when set, other keys)."""
        out: dict[str, Any] = {"kind": self.kind, **self._geometry()}
        if self.class_id is not None:
            out["class_id"] = self.class_id
        out.update(self.extra)
        return out

    # --- geometry ------------------------------------------------------------------------
    def problem(self) -> str | None:
        """Why the geometry cannot be used (too few points, zero area), or None."""
        return None

    def check(self, width: int | None = None, height: int | None = None) -> None:
        """Raise ShapeError if the shape is unusable (or, given a size, entirely outside)."""
        problem = self.problem()
        if problem:
            raise ShapeError(problem)
        if width is not None and height is not None:
            x0, y0, x1, y1 = self.bbox()
            if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
                raise ShapeError(f"{self.kind} lies entirely outside the {width}x{height} image")

    def bbox(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` in the shape's own coordinates."""
        raise NotImplementedError

    def area(self) -> float:
        """Geometric area in square pixels (0.0 for kinds without area)."""
        return 0.0

    @property
    def has_area(self) -> bool:
        return self.kind in AREA_KINDS

    def layer(self, height: int, width: int) -> Layer | None:
        """The pixels the shape covers in a ``height`` x ``width`` image, or None."""
        return None

    def rasterize(self, height: int, width: int) -> np.ndarray:
        """A (height, width) boolean mask of the pixels the shape covers."""
        out = np.zeros((int(height), int(width)), dtype=bool)
        layer = self.layer(int(height), int(width))
        if layer is not None:
            (r0, c0), on = layer
            out[r0 : r0 + on.shape[0], c0 : c0 + on.shape[1]] = on
        return out

    def contains(self, x: float, y: float) -> bool:
        """Whether the scene point ``(x, y)`` lies inside the shape (even-odd for polygons)."""
        return False

    def distance(self, x: float, y: float) -> float:
        """Distance from the scene point ``(x, y)`` to the outline (or the point)."""
        raise NotImplementedError


def _scene_points(points: tuple[tuple[float, float], ...]) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2) + 0.5


@dataclass(frozen=True)
class _PointsShape(Shape):
    points: tuple[tuple[float, float], ...] = ()

    _fields: ClassVar[tuple[str, ...]] = ("points",)

    @classmethod
    def _parse(cls, shape: dict) -> dict[str, Any]:
        return {"points": _points(shape.get("points"))}

    def _geometry(self) -> dict[str, Any]:
        return {"points": [[x, y] for x, y in self.points]}

    def bbox(self) -> tuple[float, float, float, float]:
        if not self.points:
            return (math.inf, math.inf, -math.inf, -math.inf)
        a = np.asarray(self.points, dtype=np.float64)
        return (
            float(a[:, 0].min()),
            float(a[:, 1].min()),
            float(a[:, 0].max()),
            float(a[:, 1].max()),
        )


@dataclass(frozen=True)
class Polygon(_PointsShape):
    """A closed polygon; vertices are pixel indices (filled even-odd, outline included)."""

    kind: ClassVar[str] = "polygon"

    def problem(self) -> str | None:
        if len(self.points) < 3:
            return f"polygon has {len(self.points)} point(s), needs at least 3"
        if _collinear(self.points):
            return "polygon has zero area (all points on one line)"
        return None

    def area(self) -> float:
        return _shoelace(self.points) if len(self.points) >= 3 else 0.0

    def layer(self, height: int, width: int) -> Layer | None:
        return polygon_layer(self.points, height, width) if len(self.points) >= 3 else None

    def self_intersects(self) -> bool:
        """See :func:`polygon_self_intersects` (raises ShapeError when it cannot tell)."""
        return polygon_self_intersects(self.points)

    def contains(self, x: float, y: float) -> bool:
        if len(self.points) < 3:
            return False
        p = _scene_points(self.points)
        q = np.roll(p, -1, axis=0)
        with np.errstate(all="ignore"):
            crosses = (p[:, 1] > y) != (q[:, 1] > y)
            xs = p[:, 0] + (y - p[:, 1]) * (q[:, 0] - p[:, 0]) / (q[:, 1] - p[:, 1])
        return bool(np.count_nonzero(crosses & (x < xs)) % 2)

    def distance(self, x: float, y: float) -> float:
        p = _scene_points(self.points)
        return _seg_distance(x, y, p, np.roll(p, -1, axis=0))


@dataclass(frozen=True)
class Polyline(_PointsShape):
    """An open line through pixel indices: no area, kept for round trips, never rasterised."""

    kind: ClassVar[str] = "polyline"

    def problem(self) -> str | None:
        if len(self.points) < 2:
            return f"polyline has {len(self.points)} point(s), needs at least 2"
        return None

    def distance(self, x: float, y: float) -> float:
        p = _scene_points(self.points)
        if len(p) == 1:
            return float(math.hypot(x - p[0, 0], y - p[0, 1]))
        return _seg_distance(x, y, p[:-1], p[1:])


@dataclass(frozen=True)
class Rect(Shape):
    """Pixels whose centre lies in ``[x, x + w) x [y, y + h)`` (a negative size is normalised)."""

    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    kind: ClassVar[str] = "rect"
    _fields: ClassVar[tuple[str, ...]] = ("x", "y", "w", "h")

    def problem(self) -> str | None:
        return "rect has zero width or height" if self.w == 0 or self.h == 0 else None

    def bbox(self) -> tuple[float, float, float, float]:
        x0, x1 = sorted((self.x, self.x + self.w))
        y0, y1 = sorted((self.y, self.y + self.h))
        return x0, y0, x1, y1

    def area(self) -> float:
        return abs(self.w * self.h)

    def layer(self, height: int, width: int) -> Layer | None:
        x0, y0, x1, y1 = self.bbox()
        # pixel centres c + 0.5 in [x0, x1)  <=>  ceil(x0 - 0.5) <= c < ceil(x1 - 0.5)
        c0 = max(0, math.ceil(x0 - 0.5))
        c1 = min(width, math.ceil(x1 - 0.5))
        r0 = max(0, math.ceil(y0 - 0.5))
        r1 = min(height, math.ceil(y1 - 0.5))
        if c1 <= c0 or r1 <= r0:
            return None
        return (r0, c0), np.ones((r1 - r0, c1 - c0), dtype=bool)

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.bbox()
        return x0 <= x <= x1 and y0 <= y <= y1

    def distance(self, x: float, y: float) -> float:
        x0, y0, x1, y1 = self.bbox()
        a = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        return _seg_distance(x, y, a, np.roll(a, -1, axis=0))


@dataclass(frozen=True)
class Ellipse(Shape):
    """Pixels whose centre lies inside or on the ellipse; ``theta`` (radians) turns the ``rx``
    axis clockwise on screen. ``theta`` is None when the dict has none (it means 0)."""

    cx: float = 0
    cy: float = 0
    rx: float = 0
    ry: float = 0
    theta: float | None = None

    kind: ClassVar[str] = "ellipse"
    _fields: ClassVar[tuple[str, ...]] = ("cx", "cy", "rx", "ry", "theta")

    @classmethod
    def _parse(cls, shape: dict) -> dict[str, Any]:
        geo: dict[str, Any] = _numbers(shape, ("cx", "cy", "rx", "ry"))
        geo["theta"] = _number(shape["theta"], "theta") if "theta" in shape else None
        return geo

    def _geometry(self) -> dict[str, Any]:
        geo = {"cx": self.cx, "cy": self.cy, "rx": self.rx, "ry": self.ry}
        if self.theta is not None:
            geo["theta"] = self.theta
        return geo

    @property
    def angle(self) -> float:
        return float(self.theta or 0.0)

    def problem(self) -> str | None:
        return "ellipse radius is not positive" if self.rx <= 0 or self.ry <= 0 else None

    def bbox(self) -> tuple[float, float, float, float]:
        r = max(abs(self.rx), abs(self.ry))
        return self.cx - r, self.cy - r, self.cx + r, self.cy + r

    def area(self) -> float:
        return math.pi * self.rx * self.ry if self.rx > 0 and self.ry > 0 else 0.0

    def layer(self, height: int, width: int) -> Layer | None:
        return ellipse_layer(
            float(self.cx),
            float(self.cy),
            float(self.rx),
            float(self.ry),
            self.angle,
            height,
            width,
        )

    def _local(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.cx, y - self.cy
        c, s = math.cos(self.angle), math.sin(self.angle)
        return dx * c + dy * s, -dx * s + dy * c

    def contains(self, x: float, y: float) -> bool:
        if self.rx <= 0 or self.ry <= 0:
            return False
        u, v = self._local(x, y)
        return (u / self.rx) ** 2 + (v / self.ry) ** 2 <= 1.0

    def distance(self, x: float, y: float) -> float:
        t = np.linspace(0.0, 2 * math.pi, 129)
        c, s = math.cos(self.angle), math.sin(self.angle)
        u, v = self.rx * np.cos(t), self.ry * np.sin(t)
        p = np.stack([self.cx + u * c - v * s, self.cy + u * s + v * c], axis=1)
        return _seg_distance(x, y, p[:-1], p[1:])


@dataclass(frozen=True)
class Circle(Shape):
    """Pixels whose centre lies inside or on the circle."""

    cx: float = 0
    cy: float = 0
    r: float = 0

    kind: ClassVar[str] = "circle"
    _fields: ClassVar[tuple[str, ...]] = ("cx", "cy", "r")

    def problem(self) -> str | None:
        return "circle radius is not positive" if self.r <= 0 else None

    def bbox(self) -> tuple[float, float, float, float]:
        r = abs(self.r)
        return self.cx - r, self.cy - r, self.cx + r, self.cy + r

    def area(self) -> float:
        return math.pi * self.r**2 if self.r > 0 else 0.0

    def layer(self, height: int, width: int) -> Layer | None:
        r = float(self.r)
        return ellipse_layer(float(self.cx), float(self.cy), r, r, 0.0, height, width)

    def contains(self, x: float, y: float) -> bool:
        return math.hypot(x - self.cx, y - self.cy) <= self.r

    def distance(self, x: float, y: float) -> float:
        return abs(math.hypot(x - self.cx, y - self.cy) - self.r)


@dataclass(frozen=True)
class Point(Shape):
    """A marked point: no area, kept for round trips, never rasterised."""

    x: float = 0
    y: float = 0

    kind: ClassVar[str] = "point"
    _fields: ClassVar[tuple[str, ...]] = ("x", "y")

    def bbox(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.x, self.y

    def distance(self, x: float, y: float) -> float:
        return math.hypot(x - self.x, y - self.y)


def _shoelace(pts: Any) -> float:
    a = np.asarray(pts, dtype=np.float64)
    x, y = a[:, 0], a[:, 1]
    with np.errstate(all="ignore"):
        return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _collinear(pts: Any) -> bool:
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
