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
