"""Rasterising shapes into label masks: pixel conventions, fill rule, clipping, report."""

from __future__ import annotations

import copy
import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fashionseg_gui.core.shapes import (
    polygon_self_intersects,
    rasterize,
    rasterize_detailed,
    shape_area,
    validate_shape,
)

RING = [[5, 5], [55, 5], [55, 43], [5, 43], [5, 5], [45, 15], [45, 33], [15, 33]]
BOWTIE = [[5, 5], [50, 40], [5, 40], [50, 5]]


def _cols_rows(mask: np.ndarray, value: int) -> tuple[list[int], list[int]]:
    ys, xs = np.nonzero(mask == value)
    return sorted(set(xs.tolist())), sorted(set(ys.tolist()))


def test_rect_is_pixel_exact() -> None:
    mask, lines = rasterize(
        [{"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5, "class_id": 1}], 12, 10
    )
    cols, rows = _cols_rows(mask, 1)
    assert cols == [2, 3, 4, 5]
    assert rows == [3, 4, 5, 6, 7]
    assert int((mask == 1).sum()) == 20
    assert set(np.unique(mask).tolist()) == {1, 255}
    assert lines == []


def test_rect_negative_size_is_normalised() -> None:
    neg = {"kind": "rect", "x": 6, "y": 8, "w": -4, "h": -5, "class_id": 1}
    pos = {"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5, "class_id": 1}
    assert np.array_equal(rasterize([neg], 12, 10)[0], rasterize([pos], 12, 10)[0])
    assert validate_shape(neg) is None
    assert shape_area(neg) == 20.0


def test_polygon_follows_cv2_fillpoly_on_given_coordinates() -> None:
    pts = [[3, 4], [30, 7], [20, 40], [8, 30]]
    expected = np.zeros((48, 64), np.uint8)
    cv2.fillPoly(expected, [np.array(pts, np.int32)], 1)
    mask, _ = rasterize([{"kind": "polygon", "points": pts, "class_id": 1}], 48, 64, ignore_value=0)
    assert np.array_equal(mask, expected)
    square, _ = rasterize(
        [{"kind": "polygon", "points": [[10, 10], [30, 10], [30, 30], [10, 30]], "class_id": 2}],
        48,
        64,
    )
    cols, rows = _cols_rows(square, 2)
    assert cols == list(range(10, 31)) and rows == list(range(10, 31))


def test_self_intersecting_uses_even_odd_and_keeps_vertices() -> None:
    shapes = [{"kind": "polygon", "points": copy.deepcopy(RING), "class_id": 2}]
    res = rasterize_detailed(shapes, 48, 64)
    assert shapes[0]["points"] == RING  # vertices kept unchanged
    assert res.self_intersecting == [0]
    assert any("even-odd" in line for line in res.lines)
    assert res.mask[24, 30] == 255  # inside both loops: even-odd leaves it empty
    assert res.mask[24, 8] == 2  # inside the outer loop only
    bow = rasterize_detailed([{"kind": "polygon", "points": BOWTIE, "class_id": 1}], 48, 64)
    assert bow.self_intersecting == [0]
    assert bow.mask[10, 27] == 1 and bow.mask[35, 27] == 1  # both lobes filled
    assert bow.mask[22, 10] == 255 and bow.mask[22, 45] == 255  # beside the crossing


def test_self_intersection_detection() -> None:
    assert polygon_self_intersects(BOWTIE)
    assert polygon_self_intersects(RING)
    assert not polygon_self_intersects([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]])
    assert not polygon_self_intersects([[0, 0], [10, 0], [10, 0], [10, 10], [0, 10]])
    assert not polygon_self_intersects([[0, 0], [10, 0], [5, 8]])


def test_points_outside_are_clipped_and_reported() -> None:
    shapes = [
        {"kind": "polygon", "points": [[-20, -10], [40, -10], [40, 30], [-20, 30]], "class_id": 1},
        {"kind": "polygon", "points": [[500, 500], [600, 500], [600, 600]], "class_id": 1},
        {"kind": "rect", "x": 50, "y": 40, "w": 100, "h": 100, "class_id": 2},
        {"kind": "polygon", "points": [[63.999, 0], [64, 0], [64, 48]], "class_id": 2},
    ]
    res = rasterize_detailed(shapes, 48, 64)
    cols, rows = _cols_rows(res.mask, 1)
    assert cols == list(range(0, 41)) and rows == list(range(0, 31))
    cols, rows = _cols_rows(res.mask, 2)
    assert cols == list(range(50, 64)) and rows == list(range(40, 48))
    assert res.empty == [1, 3]
    assert validate_shape(shapes[1], 64, 48) == "polygon lies entirely outside the 64x48 image"
    assert validate_shape(shapes[3], 64, 48) is None


def test_far_away_vertices_do_not_crash_and_stay_close_to_cv2() -> None:
    pts = [[-30000, 4], [90000, 7], [20, 70], [8, 30]]
    expected = np.zeros((48, 64), np.uint8)
    cv2.fillPoly(expected, [np.array(pts, np.int32)], 1)
    mask, _ = rasterize([{"kind": "polygon", "points": pts, "class_id": 1}], 48, 64, ignore_value=0)
    assert int((mask != expected).sum()) < 64  # only outline pixels of the cut edges may move
    huge, lines = rasterize(
        [{"kind": "polygon", "points": [[1e300, 0], [0, 1e300], [-1e300, -5]], "class_id": 3}],
        48,
        64,
    )
    assert set(np.unique(huge).tolist()) <= {3, 255}


def test_circle_and_ellipse_sample_pixel_centres() -> None:
    mask, _ = rasterize([{"kind": "circle", "cx": 20, "cy": 20, "r": 8, "class_id": 1}], 48, 64)
    cols, rows = _cols_rows(mask, 1)
    assert cols == list(range(12, 28)) and rows == list(range(12, 28))  # symmetric about 20
    area = int((mask == 1).sum())
    assert abs(area - math.pi * 64) < 12
    flat = {"kind": "ellipse", "cx": 32, "cy": 24, "rx": 12, "ry": 3, "class_id": 1}
    turned = {**flat, "theta": math.pi / 2}
    swapped = {"kind": "ellipse", "cx": 32, "cy": 24, "rx": 3, "ry": 12, "class_id": 1}
    assert np.array_equal(rasterize([turned], 48, 64)[0], rasterize([swapped], 48, 64)[0])
    diag, _ = rasterize([{**flat, "theta": math.pi / 4}], 48, 64)
    assert diag[24 + 7, 32 + 7] == 1  # rotated clockwise on screen (y down)
    assert diag[24 - 7, 32 + 7] == 255


def test_points_and_polylines_are_reported_not_drawn() -> None:
    shapes = [
        {"kind": "point", "x": 5, "y": 5, "class_id": 1},
        {"kind": "polyline", "points": [[2, 40], [30, 20], [60, 40]], "class_id": 1},
    ]
    res = rasterize_detailed(shapes, 48, 64)
    assert res.no_area == [0, 1]
    assert (res.mask == 255).all()
    assert len(res.lines) == 2


def test_later_shapes_win_and_overlaps_are_counted() -> None:
    base = np.zeros((20, 20), np.uint8)
    shapes = [
        {"kind": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "class_id": 1},
        {"kind": "rect", "x": 5, "y": 5, "w": 10, "h": 10, "class_id": 2},
        {"kind": "rect", "x": 16, "y": 16, "w": 2, "h": 2, "class_id": 3},
    ]
    res = rasterize_detailed(shapes, 20, 20, base=base)
    assert res.mask[7, 7] == 2 and res.mask[2, 2] == 1 and res.mask[19, 19] == 0
    assert res.overlaps == 1
    assert (base == 0).all()  # the base is copied, never modified
    assert any("overlap" in line for line in res.lines)


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ({"kind": "polygon", "points": [[5, 5], [40, 40]]}, "needs at least 3"),
        ({"kind": "polygon", "points": [[5, 5], [20, 5], [35, 5]]}, "zero area"),
        ({"kind": "polygon", "points": [[5, 5], [float("nan"), 5], [35, 9]]}, "non-finite"),
        ({"kind": "polygon", "points": [[5, 5], ["12", 5], [35, 9]]}, "non-numeric"),
        ({"kind": "rect", "x": 1, "y": 1, "w": 0, "h": 4}, "zero width"),
        ({"kind": "circle", "cx": 1, "cy": 1, "r": -2}, "radius"),
        ({"kind": "ellipse", "cx": 1, "cy": 1, "rx": 2}, "missing 'ry'"),
        ({"kind": "hexagon"}, "unknown shape kind"),
        ({"points": []}, "no 'kind'"),
        ({"kind": "rect", "x": 1, "y": 1, "w": 2, "h": 4, "class_id": 300}, "class_id"),
    ],
)
def test_validate_shape_reasons(shape: dict, reason: str) -> None:
    problem = validate_shape(shape)
    assert problem is not None and reason in problem
    res = rasterize_detailed([{"class_id": 1, **shape}], 10, 10)
    assert len(res.skipped) == 1 and (res.mask == 255).all()


def test_shape_area() -> None:
    assert shape_area({"kind": "polygon", "points": [[0, 0], [4, 0], [4, 3]]}) == 6.0
    assert shape_area({"kind": "circle", "cx": 0, "cy": 0, "r": 2}) == pytest.approx(4 * math.pi)
    assert shape_area({"kind": "ellipse", "cx": 0, "cy": 0, "rx": 2, "ry": 3}) == pytest.approx(
        6 * math.pi
    )
    assert shape_area({"kind": "point", "x": 1, "y": 1}) == 0.0
    assert shape_area({"kind": "nonsense"}) == 0.0


_coord = st.one_of(
    st.floats(-100, 150, allow_nan=False),
    st.integers(-50, 120),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=60, deadline=None)
@given(
    polys=st.lists(
        st.tuples(
            st.lists(st.tuples(_coord, _coord).map(list), min_size=0, max_size=12),
            st.integers(0, 254),
        ),
        max_size=5,
    )
)
def test_random_polygons_never_raise(polys: list) -> None:
    shapes = [{"kind": "polygon", "points": pts, "class_id": cid} for pts, cid in polys]
    mask, lines = rasterize(shapes, 37, 53)
    assert mask.shape == (37, 53) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) <= {cid for _, cid in polys} | {255}


# --------------------------------------------------------------------------- typed shapes

from fashionseg_gui.core.shapes import (  # noqa: E402
    MAX_CHECKED_POINTS,
    Circle,
    Ellipse,
    Point,
    Polygon,
    Polyline,
    Rect,
    Shape,
    ShapeError,
)

DICTS = [
    {"kind": "polygon", "points": [[3, 4], [30, 7.5], [20, 40]], "class_id": 1},
    {"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5, "class_id": 2},
    {"kind": "circle", "cx": 20, "cy": 20, "r": 8, "class_id": 1},
    {"kind": "ellipse", "cx": 45, "cy": 30, "rx": 10, "ry": 5, "theta": 0.5, "class_id": 1},
    {"kind": "ellipse", "cx": 45, "cy": 30, "rx": 10, "ry": 5},
    {"kind": "point", "x": 5, "y": 5, "class_id": 1},
    {"kind": "polyline", "points": [[1, 1], [9, 9]], "class_id": 3, "note": "kept"},
]


@pytest.mark.parametrize("d", DICTS)
def test_typed_round_trip_keeps_the_on_disk_dict(d: dict) -> None:
    import json

    typed = Shape.from_dict(d)
    assert typed.kind == d["kind"]
    back = typed.to_dict()
    assert back == d and json.dumps(back, sort_keys=True) == json.dumps(d, sort_keys=True)
    assert Shape.from_dict(back) == typed


def test_typed_kinds_and_geometry() -> None:
    poly, rect, circle, ell, _, point, line = (Shape.from_dict(d) for d in DICTS)
    assert isinstance(poly, Polygon) and isinstance(rect, Rect) and isinstance(circle, Circle)
    assert isinstance(ell, Ellipse) and isinstance(point, Point) and isinstance(line, Polyline)
    assert rect.bbox() == (2, 3, 6, 8) and rect.area() == 20
    assert circle.area() == pytest.approx(64 * math.pi)
    assert not point.has_area and point.area() == 0.0 and line.area() == 0.0
    for d in DICTS:  # the typed rasteriser is what rasterize() draws
        if d["kind"] in ("polygon", "rect", "circle", "ellipse"):
            got = Shape.from_dict(d).rasterize(48, 64)
            want = rasterize([{**d, "class_id": 1}], 48, 64, ignore_value=0)[0] == 1
            assert np.array_equal(got, want)


def test_typed_hit_tests_use_scene_coordinates() -> None:
    square = Polygon(points=((10, 10), (20, 10), (20, 20), (10, 20)), class_id=1)
    assert square.contains(15.5, 15.5) and not square.contains(25, 15)
    assert square.distance(10.5, 15.0) == pytest.approx(0.0)  # vertices at pixel centres
    assert square.distance(5.5, 15.0) == pytest.approx(5.0)
    ring = Shape.from_dict({"kind": "polygon", "points": RING, "class_id": 1})
    assert ring.contains(8.5, 24.5) and not ring.contains(30.5, 24.5)  # even-odd, as drawn
    rect = Rect(x=2, y=3, w=4, h=5)
    assert rect.contains(2.0, 3.0) and rect.contains(5.9, 7.9) and not rect.contains(6.5, 4)
    assert rect.distance(4, 1) == pytest.approx(2.0)
    circle = Circle(cx=20, cy=20, r=8)
    assert circle.contains(27, 20) and not circle.contains(29, 20)
    assert circle.distance(30, 20) == pytest.approx(2.0)
    ell = Ellipse(cx=32, cy=24, rx=12, ry=3, theta=math.pi / 2)
    assert ell.contains(32, 35) and not ell.contains(43, 24)
    assert ell.distance(32, 38) == pytest.approx(2.0, abs=0.05)
    line = Polyline(points=((0, 0), (10, 0)))
    assert not line.contains(5.5, 0.5) and line.distance(5.5, 3.5) == pytest.approx(3.0)
    assert Point(x=1, y=1).distance(4, 5) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("nope", "not an object"),
        ({"kind": "hexagon"}, "unknown shape kind"),
        ({"kind": "rect", "x": 1, "y": 1, "w": 2}, "missing 'h'"),
        ({"kind": "polygon", "points": [[1, 1], [2, float("inf")], [3, 1]]}, "non-finite"),
        ({"kind": "ellipse", "cx": 1, "cy": 1, "rx": 2, "ry": 3, "theta": "x"}, "theta"),
        ({"kind": "rect", "x": 1, "y": 1, "w": 2, "h": 4, "class_id": 300}, "class_id"),
        ({"kind": "circle", "cx": 1, "cy": 1, "r": 10**400}, "'r'"),
    ],
)
def test_from_dict_raises_shape_error(shape: object, reason: str) -> None:
    with pytest.raises(ShapeError, match=reason) as info:
        Shape.from_dict(shape)
    assert isinstance(info.value, ValueError)


def test_check_raises_for_unusable_geometry() -> None:
    with pytest.raises(ShapeError, match="needs at least 3"):
        Shape.from_dict({"kind": "polygon", "points": [[1, 1], [2, 2]]}).check()
    with pytest.raises(ShapeError, match="entirely outside the 64x48 image"):
        Rect(x=100, y=100, w=5, h=5).check(64, 48)
    Rect(x=1, y=1, w=5, h=5).check(64, 48)


# --------------------------------------------------------------------------- self-intersection


def _brute_self_intersects(points: list) -> bool:
    """The definition, pair by pair: two non-adjacent edges cross or touch."""
    pts = [tuple(map(float, p)) for p in points]
    pts = [p for k, p in enumerate(pts) if p != pts[k - 1]] if len(pts) > 1 else pts
    n = len(pts)
    if n < 4:
        return False

    def orient(p, q, r) -> int:
        v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return (v > 0) - (v < 0)

    def on(p, q, r) -> bool:
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            p1, q1, p2, q2 = pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]
            o1, o2, o3, o4 = (
                orient(p1, q1, p2),
                orient(p1, q1, q2),
                orient(p2, q2, p1),
                orient(p2, q2, q1),
            )
            if (
                (o1 * o2 < 0 and o3 * o4 < 0)
                or (o1 == 0 and on(p1, q1, p2))
                or (o2 == 0 and on(p1, q1, q2))
                or (o3 == 0 and on(p2, q2, p1))
                or (o4 == 0 and on(p2, q2, q1))
            ):
                return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=3, max_size=9))
def test_self_intersection_matches_the_pairwise_definition(pts: list) -> None:
    assert polygon_self_intersects(pts) == _brute_self_intersects(pts)


@pytest.mark.parametrize("n", [30_000, 100_000])
def test_self_intersection_of_huge_polygons_is_fast(n: int) -> None:
    import time

    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    circle = np.c_[2000 + 1900 * np.cos(t), 2000 + 1900 * np.sin(t)]
    crossed = circle.copy()
    crossed[n // 2] = (2000, 50)  # one spike across the whole polygon
    rng = np.random.default_rng(1)
    radius = rng.uniform(1, 1900, n)
    star = np.c_[
        2000 + radius * np.cos(t), 2000 + radius * np.sin(t)
    ]  # simple, but the edge boxes overlap everywhere
    noise = rng.uniform(0, 4000, (n, 2))
    for pts, want in ((circle, False), (crossed, True), (noise, True), (star, None)):
        t0 = time.perf_counter()
        if want is None:  # too intricate to check quickly: refused, with a clear message
            with pytest.raises(ShapeError, match="too intricate"):
                polygon_self_intersects(pts)
        else:
            assert polygon_self_intersects(pts) is want
        assert time.perf_counter() - t0 < 0.75
    if n > 30_000:
        return  # the report below costs cv2's fill of the star (about 1.5 s at 100k points)
    near = (star - 2000 + 50).tolist()  # the star's middle in a small image (a fast fill)
    res = rasterize_detailed([{"kind": "polygon", "points": near, "class_id": 1}], 100, 100)
    assert res.drawn == [0] and any(
        "too intricate" in line and "even-odd" in line for line in res.lines
    )


def test_self_intersection_point_cap() -> None:
    n = MAX_CHECKED_POINTS + 1
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.c_[1e4 + 9e3 * np.cos(t), 1e4 + 9e3 * np.sin(t)]
    with pytest.raises(ShapeError, match=f"{n:,} points, too many to check"):
        polygon_self_intersects(pts)
