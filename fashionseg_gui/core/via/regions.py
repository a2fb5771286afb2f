"""VIA region shapes -> our shape dicts. Each reader returns a shape or raises :class:`ShapeProblem`.

VIA 1/2 store ``shape_attributes`` (``{"name": "rect", "x": .., ...}``); VIA 3 stores
``xy = [shape_id, coords...]``. Integers stay integers so that shapes round-trip byte for
byte. A coordinate that is not a finite number, or whose magnitude exceeds
:data:`~fashionseg_gui.core.via.model.MAX_COORDINATE`, makes the region unusable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fashionseg_gui.core.shapes import finite_number, validate_shape
from fashionseg_gui.core.via.model import MAX_COORDINATE, NonFinite, ShapeProblem

V3_SHAPES = {
    1: "point",
    2: "rect",
    3: "circle",
    4: "ellipse",
    5: "line",
    6: "polyline",
    7: "polygon",
    8: "extreme_rect",
    9: "extreme_circle",
}
_V3_COUNTS = {
    "point": 2,
    "rect": 4,
    "circle": 3,
    "ellipse": 4,
    "line": 4,
    "extreme_rect": 8,
    "extreme_circle": 6,
}


def coord_problem(name: str, value: Any) -> str:
    """Why ``value`` (field ``name``) is not a usable coordinate."""
    if isinstance(value, NonFinite):
        return f"'{name}' is not finite ({value.text})"
    if value is None:
        return f"'{name}' is null"
    if isinstance(value, str):
        return f"'{name}' is text ({value[:20]!r}), not a number"
    return f"'{name}' is not a finite number"


def coordinate(name: str, raw: Any) -> float | int:
    """``raw`` as a usable coordinate (ints kept as ints), or raise :class:`ShapeProblem`."""
    value = finite_number(raw)
    if value is None:
        raise ShapeProblem(coord_problem(name, raw))
    if abs(value) > MAX_COORDINATE:
        raise ShapeProblem(f"'{name}' is out of range ({value:.3g}; at most {MAX_COORDINATE:.0e})")
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else value


def _fields(sa: dict, names: tuple[str, ...]) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for name in names:
        if name not in sa:
            raise ShapeProblem(f"missing '{name}'")
        out[name] = coordinate(name, sa[name])
    return out


def xy_points(sa: dict) -> list[list[float | int]]:
    """The ``[[x, y], ...]`` of ``all_points_x`` / ``all_points_y``."""
    xs, ys = sa.get("all_points_x"), sa.get("all_points_y")
    for name, arr in (("all_points_x", xs), ("all_points_y", ys)):
        if arr is None:
            raise ShapeProblem(f"missing '{name}'")
        if not isinstance(arr, list):
            raise ShapeProblem(f"'{name}' is not a list")
    assert isinstance(xs, list) and isinstance(ys, list)
    if len(xs) != len(ys):
        raise ShapeProblem(
            f"all_points_x and all_points_y differ in length ({len(xs)} vs {len(ys)})"
        )
    if _plain_and_in_range(xs) and _plain_and_in_range(ys):  # the common case, at numpy speed
        return [[x, y] for x, y in zip(xs, ys, strict=True)]
    return [
        [coordinate(f"all_points_x[{i}]", x), coordinate(f"all_points_y[{i}]", y)]
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    ]


def _plain_and_in_range(values: list[Any]) -> bool:
    """Whether every value is an int or float (not a bool), finite and within
    ``MAX_COORDINATE``: what :func:`coordinate` accepts unchanged, checked at once."""
    if not all(type(v) is int or type(v) is float for v in values):
        return False
    try:
        a = np.asarray(values, dtype=np.float64)
    except (OverflowError, ValueError):
        return False
    return bool(np.isfinite(a).all() and (np.abs(a) <= MAX_COORDINATE).all()) if len(a) else True


def _checked(shape: dict) -> dict:
    problem = validate_shape(shape)
    if problem:
        raise ShapeProblem(problem)
    return shape


def shape_v2(sa: Any) -> dict:
    """VIA 1/2 ``shape_attributes`` -> our shape dict."""
    if not isinstance(sa, dict):
        raise ShapeProblem("shape_attributes is not an object")
    if not sa:
        raise ShapeProblem("empty shape_attributes")
    name = sa.get("name")
    if not isinstance(name, str):
        raise ShapeProblem("shape has no 'name'")
    if name in ("polygon", "polyline"):
        shape: dict = {"kind": name, "points": xy_points(sa)}
    elif name == "rect":
        geo = _fields(sa, ("x", "y", "width", "height"))
        shape = {
            "kind": "rect",
            "x": geo["x"],
            "y": geo["y"],
            "w": geo["width"],
            "h": geo["height"],
        }
    elif name == "circle":
        shape = {"kind": "circle", **_fields(sa, ("cx", "cy", "r"))}
    elif name == "ellipse":
        shape = {"kind": "ellipse", **_fields(sa, ("cx", "cy", "rx", "ry"))}
        shape["theta"] = coordinate("theta", sa.get("theta", 0))
    elif name == "point":
        geo = _fields(sa, ("cx", "cy"))
        shape = {"kind": "point", "x": geo["cx"], "y": geo["cy"]}
    else:
        raise ShapeProblem(f"unknown shape '{name[:40]}'")
    return _checked(shape)


def shape_v3(xy: list) -> dict:
    """VIA 3 ``xy = [shape_id, coords...]`` -> our shape dict."""
    sid = xy[0]
    if isinstance(sid, bool) or not isinstance(sid, int) or sid not in V3_SHAPES:
        raise ShapeProblem(f"unknown VIA 3 shape id {sid!r}")
    kind = V3_SHAPES[sid]
    vals = [coordinate(f"xy[{i + 1}]", v) for i, v in enumerate(xy[1:])]
    need = _V3_COUNTS.get(kind)
    if need is not None and len(vals) != need:
        what = "extreme circle" if kind == "extreme_circle" else kind
        raise ShapeProblem(f"{what} needs {need} numbers in xy, got {len(vals)}")
    if kind in ("polygon", "polyline") and len(vals) % 2:
        raise ShapeProblem(f"{kind} has an odd number of coordinates ({len(vals)})")
    if kind == "point":
        shape: dict = {"kind": "point", "x": vals[0], "y": vals[1]}
    elif kind == "rect":
        shape = {"kind": "rect", "x": vals[0], "y": vals[1], "w": vals[2], "h": vals[3]}
    elif kind == "circle":
        shape = {"kind": "circle", "cx": vals[0], "cy": vals[1], "r": vals[2]}
    elif kind == "ellipse":
        shape = {
            "kind": "ellipse",
            "cx": vals[0],
            "cy": vals[1],
            "rx": vals[2],
            "ry": vals[3],
            "theta": 0,
        }
    elif kind in ("line", "polyline", "polygon"):
        pts = [[vals[i], vals[i + 1]] for i in range(0, len(vals), 2)]
        shape = {"kind": "polygon" if kind == "polygon" else "polyline", "points": pts}
    elif kind == "extreme_rect":
        xs, ys = vals[0::2], vals[1::2]
        shape = {
            "kind": "rect",
            "x": min(xs),
            "y": min(ys),
            "w": max(xs) - min(xs),
            "h": max(ys) - min(ys),
        }
    else:
        circle = circle_through([float(v) for v in vals])
        if circle is None:
            raise ShapeProblem("extreme circle: the three points lie on one line")
        shape = {"kind": "circle", "cx": circle[0], "cy": circle[1], "r": circle[2]}
    return _checked(shape)


def circle_through(v: list[float]) -> tuple[float, float, float] | None:
    """Centre and radius of the circle through three points ``(ax, ay, bx, by, cx, cy)``."""
    (ax, ay, bx, by, cx, cy) = v
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if d == 0 or not math.isfinite(d):
        return None
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    r = math.hypot(ax - ux, ay - uy)
    if not all(math.isfinite(t) for t in (ux, uy, r)):
        return None
    return ux, uy, r
