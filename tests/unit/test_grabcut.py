"""GrabCut proposals from a box, a lasso, refinement strokes, cancellation and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fashionseg_gui.core.cancel import Cancelled, CancelSource
from fashionseg_gui.core.grabcut import (
    GrabCutError,
    propose_from_lasso,
    propose_from_rect,
    refine,
)


def _photo() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    img = np.full((90, 120, 3), (40, 120, 60), np.uint8)
    img = np.clip(img + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
    truth = np.zeros((90, 120), bool)
    truth[25:65, 40:80] = True
    img[truth] = (220, 60, 160)
    return img, truth


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_rect_proposal_finds_the_object() -> None:
    img, truth = _photo()
    progress: list[tuple[int, int]] = []
    res = propose_from_rect(
        img, (30, 15, 60, 60), iterations=3, on_progress=lambda d, t, _s: progress.append((d, t))
    )
    assert res.mask.shape == truth.shape and res.mask.dtype == bool
    assert _iou(res.mask, truth) > 0.95
    assert progress[-1] == (3, 3)


def test_lasso_proposal() -> None:
    img, truth = _photo()
    pts = [(32, 18), (88, 20), (90, 70), (35, 72)]
    res = propose_from_lasso(img, pts, iterations=3)
    assert _iou(res.mask, truth) > 0.95


def test_refine_with_background_stroke_removes_pixels() -> None:
    img, truth = _photo()
    # a second object of the same colour inside the box: GrabCut keeps it until told otherwise
    img[30:40, 85:95] = (220, 60, 160)
    res = propose_from_rect(img, (30, 15, 70, 60), iterations=3)
    assert res.mask[35, 90]
    bg = np.zeros(truth.shape, bool)
    bg[28:42, 83:97] = True
    before = res.state.gc_mask.copy()
    ref = refine(img, res.state, bg=bg, iterations=2)
    assert not ref.mask[35, 90]
    assert _iou(ref.mask, truth) > 0.9
    assert np.array_equal(res.state.gc_mask, before)  # the old state is not modified


def test_refine_with_foreground_stroke_adds_pixels() -> None:
    img, truth = _photo()
    res = propose_from_rect(img, (30, 15, 60, 60), iterations=2)
    fg = np.zeros(truth.shape, bool)
    fg[20:23, 30:33] = True  # background-coloured pixels the user says belong to the outfit
    ref = refine(img, res.state, fg=fg, iterations=1)
    assert ref.mask[21, 31]


def test_cancel_between_iterations() -> None:
    img, _ = _photo()
    src = CancelSource()
    src.cancel()
    with pytest.raises(Cancelled):
        propose_from_rect(img, (30, 15, 60, 60), cancel_token=src.token)


@pytest.mark.parametrize(
    ("rect", "match"),
    [
        ((10, 10, 2, 30), "at least"),
        ((500, 500, 20, 20), "at least"),
        ((0, 0, 120, 90), "background"),
    ],
)
def test_bad_boxes_give_clear_errors(rect: tuple[int, int, int, int], match: str) -> None:
    img, _ = _photo()
    with pytest.raises(GrabCutError, match=match):
        propose_from_rect(img, rect)


def test_bad_image_and_lasso() -> None:
    with pytest.raises(GrabCutError, match="uint8 RGB"):
        propose_from_rect(np.zeros((10, 10), np.uint8), (1, 1, 5, 5))
    img, _ = _photo()
    with pytest.raises(GrabCutError, match="closed stroke"):
        propose_from_lasso(img, [(1, 1), (5, 5)])


def test_negative_size_box_is_normalised() -> None:
    img, truth = _photo()
    res = propose_from_rect(img, (90, 75, -60, -60), iterations=3)
    assert _iou(res.mask, truth) > 0.95
