"""Assisted outline: OpenCV GrabCut proposes a foreground mask from a box, a lasso or strokes.

The user drags a box (or a rough lasso) around an outfit; :func:`propose_from_rect` or
:func:`propose_from_lasso` returns a boolean proposal and a :class:`GrabCutState`. Strokes that
mark pixels as surely foreground or background refine it with :func:`refine`, which continues
from the colour models of the previous run (OpenCV's interactive ``GC_EVAL`` mode).

GrabCut runs on a crop around the box (plus a margin), one iteration per call to OpenCV, so a
cancel token is polled between iterations and progress is reported. ``cv2`` is imported inside
the functions: importing this module stays cheap and Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fashionseg_gui.core.cancel import CancelToken

__all__ = [
    "GrabCutError",
    "GrabCutResult",
    "GrabCutState",
    "propose_from_lasso",
    "propose_from_rect",
    "refine",
]

# cv2.GC_* values (fixed by OpenCV's API).
GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD = 0, 1, 2, 3
MIN_BOX = 4  # pixels


class GrabCutError(Exception):
    """The assisted outline cannot run on this input; the message is for the user."""


@dataclass
class GrabCutState:
    """What a refinement needs: the crop, the GrabCut label map and the colour models."""

    roi: tuple[int, int, int, int]  # (r0, c0, r1, c1) in image pixels
    gc_mask: np.ndarray  # uint8 GC_* labels of the crop
    bgd_model: np.ndarray
    fgd_model: np.ndarray


@dataclass
class GrabCutResult:
    """A proposal: ``mask`` (H, W) bool of the whole image, and the state to refine it."""

    mask: np.ndarray
    state: GrabCutState


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise GrabCutError(f"the photo must be uint8 RGB, got {image.dtype} {image.shape}")
    return image


def _roi(h: int, w: int, r0: int, c0: int, r1: int, c1: int) -> tuple[int, int, int, int]:
    margin = max(16, int(0.15 * max(r1 - r0, c1 - c0)))
    return max(0, r0 - margin), max(0, c0 - margin), min(h, r1 + margin), min(w, c1 + margin)


def _run(
    image: np.ndarray,
    state: GrabCutState,
    iterations: int,
    init: bool,
    cancel_token: CancelToken | None,
    on_progress: Callable[..., Any] | None,
) -> GrabCutResult:
    import cv2

    r0, c0, r1, c1 = state.roi
    crop = np.ascontiguousarray(image[r0:r1, c0:c1])
    gc = state.gc_mask
    if not (gc == GC_BGD).any() and not (gc == GC_PR_BGD).any():
        raise GrabCutError("leave some background around the outfit (the box covers everything)")
    if not ((gc == GC_FGD) | (gc == GC_PR_FGD)).any():
        raise GrabCutError("nothing is marked as foreground")
    iterations = max(1, int(iterations))
    for i in range(iterations):
        if cancel_token is not None:
            cancel_token.raise_if_cancelled()
        mode = cv2.GC_INIT_WITH_MASK if (init and i == 0) else cv2.GC_EVAL
        try:
            # The rectangle is unused with a mask; cv2's stubs want one, but None is accepted.
            cv2.grabCut(
                crop,
                gc,
                None,
                state.bgd_model,
                state.fgd_model,
                1,  # type: ignore[call-overload]
                mode,
            )
        except cv2.error as exc:  # e.g. a colour model without samples
            raise GrabCutError(f"GrabCut could not separate the outfit: {exc.err}") from exc
        if on_progress is not None:
            on_progress(i + 1, iterations, "assisted outline")
    full = np.zeros(image.shape[:2], dtype=bool)
    full[r0:r1, c0:c1] = (gc == GC_FGD) | (gc == GC_PR_FGD)
    return GrabCutResult(full, state)


def _new_state(roi: tuple[int, int, int, int], gc: np.ndarray) -> GrabCutState:
    return GrabCutState(roi, gc, np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64))


def propose_from_rect(
    image: np.ndarray,
    rect: tuple[int, int, int, int],
    *,
    iterations: int = 4,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., Any] | None = None,
) -> GrabCutResult:
    """Propose the foreground inside a box.

    Parameters
    ----------
    image : np.ndarray
        uint8 (H, W, 3) photo.
    rect : tuple of int
        ``(x, y, w, h)`` in pixels: columns ``x..x+w-1``, rows ``y..y+h-1``.
    iterations : int
        GrabCut iterations.
    cancel_token : CancelToken or None
        Polled between iterations (raises ``Cancelled``).
    on_progress : callable or None
        Called with ``(done, total, text)`` after each iteration.

    Returns
    -------
    GrabCutResult
        The proposal and the state for :func:`refine`.

    Raises
    ------
    GrabCutError
        If the box is tiny, outside the photo, or leaves no background.
    """
    image = _check_image(image)
    h, w = image.shape[:2]
    x, y, bw, bh = (int(v) for v in rect)
    if bw < 0:
        x, bw = x + bw, -bw
    if bh < 0:
        y, bh = y + bh, -bh
    c0, r0, c1, r1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
    if c1 - c0 < MIN_BOX or r1 - r0 < MIN_BOX:
        raise GrabCutError(f"drag a box of at least {MIN_BOX}x{MIN_BOX} pixels over the photo")
    roi = _roi(h, w, r0, c0, r1, c1)
    gc = np.full((roi[2] - roi[0], roi[3] - roi[1]), GC_BGD, np.uint8)
    gc[r0 - roi[0] : r1 - roi[0], c0 - roi[1] : c1 - roi[1]] = GC_PR_FGD
    return _run(image, _new_state(roi, gc), iterations, True, cancel_token, on_progress)


def propose_from_lasso(
    image: np.ndarray,
    points: Sequence[tuple[float, float]],
    *,
    iterations: int = 4,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., Any] | None = None,
) -> GrabCutResult:
    """Propose the foreground inside a rough closed stroke (lasso) of ``(x, y)`` pixels.

    Inside the lasso is "probably foreground", outside is background. Same parameters,
    return value and errors as :func:`propose_from_rect`.
    """
    import cv2

    image = _check_image(image)
    h, w = image.shape[:2]
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        raise GrabCutError("draw a closed stroke around the outfit")
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.rint(pts).astype(np.int32).reshape(-1, 1, 2)], 1)
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    if rows.size == 0 or rows[-1] - rows[0] + 1 < MIN_BOX or cols[-1] - cols[0] + 1 < MIN_BOX:
        raise GrabCutError(f"the stroke must enclose at least {MIN_BOX}x{MIN_BOX} pixels")
    roi = _roi(h, w, int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    sub = inside[roi[0] : roi[2], roi[1] : roi[3]].astype(bool)
    gc = np.where(sub, GC_PR_FGD, GC_BGD).astype(np.uint8)
    return _run(image, _new_state(roi, gc), iterations, True, cancel_token, on_progress)


def refine(
    image: np.ndarray,
    state: GrabCutState,
    fg: np.ndarray | None = None,
    bg: np.ndarray | None = None,
    *,
    iterations: int = 2,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., Any] | None = None,
) -> GrabCutResult:
    """Refine a proposal with strokes marking sure foreground (``fg``) and background (``bg``).

    Parameters
    ----------
    image : np.ndarray
        The same photo as for the proposal.
    state : GrabCutState
        From the previous result; it is copied, not modified.
    fg, bg : np.ndarray or None
        (H, W) bool masks of the stroke pixels; pixels outside the working crop are ignored.

    Returns
    -------
    GrabCutResult
        The refined proposal.
    """
    image = _check_image(image)
    r0, c0, r1, c1 = state.roi
    new = GrabCutState(
        state.roi, state.gc_mask.copy(), state.bgd_model.copy(), state.fgd_model.copy()
    )
    if bg is not None:
        new.gc_mask[np.asarray(bg, bool)[r0:r1, c0:c1]] = GC_BGD
    if fg is not None:
        new.gc_mask[np.asarray(fg, bool)[r0:r1, c0:c1]] = GC_FGD
    return _run(image, new, iterations, False, cancel_token, on_progress)
