"""Review of predictions: where a label came from and what correcting it cost.

A predicted photo is reviewed in the editor: the user corrects the prediction and accepts it
(it becomes a label with status ``corrected``) or rejects it (the prediction is moved out to
``predictions/rejected/`` and the photo goes back to ``unlabelled``). Each accepted photo's
image record keeps a ``provenance`` entry::

    {"run": "20261201-101500-ab12",   # the run that predicted it ("" when unknown)
     "pixels_changed": 1234,          # pixels whose class differs from the prediction
     "pixels": 307200,                # pixels of the photo
     "changed_share": 0.004,          # pixels_changed / pixels
     "active_seconds": 41.5,          # time with input events (idle gaps > 30 s not counted)
     "accepted": true,                # false while the review is under way (autosaved)
     "accepted_at": "2026-12-01T10:20:00.000+00:00"}

A prediction file (``predictions/<id>.npz``) may carry, beside ``class_ids`` and
``confidence``, the run that wrote it (``run``), its class names (``classes``) and the
SHA-256 of the photo it saw (``image_sha256``): :func:`stale_reason` uses them to refuse a
prediction whose photo changed or whose run's classes no longer match the project.

Free of Qt; OpenCV is imported inside :func:`low_confidence_contours` only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.labels import IGNORE

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

#: A pause between two input events longer than this is not counted as active time.
IDLE_GAP_S = 30.0
#: Default confidence under which a predicted region is outlined for review.
LOW_CONFIDENCE = 0.6
REJECTED_DIR = "rejected"  # under predictions/


class ReviewError(Exception):
    """A review problem worded for the user (stale prediction, read-only project...)."""


class ActiveTimer:
    """Seconds of activity from the times of input events.

    The gap between two events counts when it is at most ``idle_gap`` seconds; a longer
    pause (the user went for coffee) counts nothing.
    """

    def __init__(self, seconds: float = 0.0, idle_gap: float = IDLE_GAP_S) -> None:
        self.seconds = float(seconds)
        self.idle_gap = float(idle_gap)
        self._last: float | None = None

    def event(self, now: float) -> None:
        """An input event at ``now`` (monotonic seconds)."""
        if self._last is not None:
            gap = now - self._last
            if 0.0 < gap <= self.idle_gap:
                self.seconds += gap
        self._last = now

    def pause(self) -> None:
        """Forget the last event (the photo was left): the next event starts a new stretch."""
        self._last = None


@dataclass(frozen=True)
class PredictionInfo:
    """A stored prediction and what it says about itself."""

    class_ids: np.ndarray
    confidence: np.ndarray
    run: str  # "" when the file does not say (written by an older version)
    classes: list[str] | None
    image_sha256: str


def read_prediction_info(project: Project, image_id: str) -> PredictionInfo | None:
    """The prediction of ``image_id`` with its run and classes; None when there is none.

    Raises
    ------
    ReviewError
        When the file cannot be read.
    """
    path = project.prediction_path(image_id)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            class_ids = np.asarray(z["class_ids"])
            confidence = np.asarray(z["confidence"])
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ReviewError(
            f"the prediction of {image_id} cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(meta, dict):
        meta = {}
    run = str(meta.get("run") or "")
    names = meta.get("class_names")
    classes = [str(c) for c in names] if isinstance(names, list) else None
    sha = str(meta.get("photo_sha256") or "")
    return PredictionInfo(class_ids, confidence, run, classes, sha)


def prediction_meta(run: str, class_names: list[str], image_sha256: str) -> dict[str, Any]:
    """The ``meta`` array of a prediction file, as ``core.predict`` writes it (its run, classes
    and photo), for ``atomic_save_npz(path, class_ids=..., confidence=..., **meta)``."""
    from fashionseg_gui.core.scores import meta_array

    return {
        "meta": meta_array(
            {
                "run": str(run),
                "class_names": [str(c) for c in class_names],
                "photo_sha256": str(image_sha256),
            }
        )
    }


def stale_reason(project: Project, image_id: str, info: PredictionInfo) -> str | None:
    """Why the prediction cannot be reviewed as it is (None when it can)."""
    rec = project.images[image_id]
    run = f"run {info.run}" if info.run else "its run"
    if (
        info.class_ids.shape != (rec.height, rec.width)
        or info.confidence.shape != info.class_ids.shape
    ):
        return (
            f"the photo changed since it was predicted ({info.class_ids.shape[1::-1]} "
            f"prediction for a {rec.width}x{rec.height} photo): predict it again"
        )
    if info.image_sha256 and rec.sha256 and info.image_sha256 != rec.sha256:
        return "the photo changed since it was predicted: predict it again"
    names = [c.name for c in project.classes]
    if info.classes is not None and info.classes != names:
        return (
            f"{run} predicted the classes {', '.join(info.classes)} but the project now "
            f"has {', '.join(names)}: retrain, then predict again"
        )
    valid = info.class_ids[info.class_ids != IGNORE]
    if valid.size and int(valid.max()) >= len(names):
        return (
            f"the prediction holds class {int(valid.max())} but the project has "
            f"{len(names)} classes: retrain, then predict again"
        )
    return None


def changed_pixels(prediction: np.ndarray, mask: np.ndarray) -> int:
    """Pixels whose class in ``mask`` differs from ``prediction``."""
    return int(np.count_nonzero(np.asarray(prediction) != np.asarray(mask)))


def low_confidence_contours(
    confidence: np.ndarray, threshold: float = LOW_CONFIDENCE, min_area: int = 4
) -> list[np.ndarray]:
    """Outlines of the regions whose confidence is below ``threshold``.

    Returns
    -------
    list of np.ndarray
        int32 ``(N, 2)`` ``(x, y)`` polygons (pixel corners), regions of at least
        ``min_area`` pixels.
    """
    import cv2

    low = (np.asarray(confidence, np.float32) < float(threshold)).astype(np.uint8)
    if not low.any():
        return []
    contours, _ = cv2.findContours(low, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        if cv2.contourArea(c) >= min_area or len(c) >= 4:
            pts = c.reshape(-1, 2).astype(np.int32)
            if len(pts) >= 2:
                out.append(pts)
    return out


def get(project: Project, image_id: str) -> dict[str, Any] | None:
    """The provenance entry of ``image_id`` (None when it has none)."""
    rec = project.images.get(image_id)
    value = getattr(rec, "provenance", None) if rec is not None else None
    return dict(value) if isinstance(value, dict) else None


def review_pending(project: Project, image_id: str) -> bool:
    """Whether ``image_id`` waits for review: a prediction that is not accepted yet
    (status ``predicted``, or ``corrected`` with an unaccepted provenance entry)."""
    rec = project.images.get(image_id)
    if rec is None or rec.status not in ("predicted", "corrected"):
        return False
    if rec.status == "corrected":
        entry = get(project, image_id)
        if entry is None or entry.get("accepted"):
            return False
    return project.prediction_path(image_id).exists()


def pending_ids(project: Project) -> list[str]:
    """The photos that wait for review, in project order."""
    return [i for i in project.images if review_pending(project, i)]


def record(
    project: Project,
    image_id: str,
    *,
    run: str,
    pixels_changed: int,
    pixels: int,
    active_seconds: float,
    accepted: bool,
) -> dict[str, Any]:
    """Store the provenance of ``image_id`` in its record (one atomic save of project.json)."""
    from fashionseg_gui.core import runs as R

    if project.read_only:
        raise ReviewError("the project is read-only")
    pixels = max(1, int(pixels))
    entry = {
        "run": str(run),
        "pixels_changed": int(pixels_changed),
        "pixels": pixels,
        "changed_share": round(int(pixels_changed) / pixels, 6),
        "active_seconds": round(max(0.0, float(active_seconds)), 3),
        "accepted": bool(accepted),
        "accepted_at": R.now_iso() if accepted else None,
    }
    project.images[image_id].provenance = entry
    project.save()
    project.events.image_changed.emit(image_id)
    return entry


def reject(project: Project, image_id: str) -> str:
    """Discard the prediction of ``image_id``: its file goes to ``predictions/rejected/``,
    a mask saved from it during the review (not accepted) is removed, and the photo's
    status goes back to ``unlabelled`` (a photo with its own label keeps it).

    Returns
    -------
    str
        The new status.
    """
    if project.read_only:
        raise ReviewError("the project is read-only")
    rec = project.images[image_id]
    entry = get(project, image_id)
    reviewing = rec.status == "predicted" or (
        rec.status == "corrected" and entry is not None and not entry.get("accepted")
    )
    src = project.prediction_path(image_id)
    if src.exists():
        dest_dir = src.parent / REJECTED_DIR
        dest_dir.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest_dir / src.name)
    with project.batch():
        if reviewing:
            rec.provenance = None
            if project.has_mask(image_id):
                # the mask came from the prediction: without it only the shapes the user
                # drew remain (an empty mask removes the file; no prediction -> unlabelled)
                project.write_mask(image_id, _shapes_only(project, image_id))
            if not project.has_mask(image_id) and rec.status != "unlabelled":
                project.set_status(image_id, "unlabelled")
            project.save()
    project.events.mask_changed.emit(image_id)
    project.events.image_changed.emit(image_id)
    return rec.status


def _shapes_only(project: Project, image_id: str) -> np.ndarray:
    """The mask the photo's own shapes give (255 where none covers)."""
    from fashionseg_gui.core.shapes import rasterize

    rec = project.images[image_id]
    shapes = project.read_shapes(image_id)
    if not shapes:
        return np.full((rec.height, rec.width), IGNORE, np.uint8)
    return rasterize(shapes, rec.height, rec.width, ignore_value=IGNORE)[0].astype(np.uint8)


def restore_rejected(project: Project, image_id: str) -> bool:
    """Put a rejected prediction back (status ``predicted`` for a photo without a label)."""
    src = project.prediction_path(image_id)
    old = src.parent / REJECTED_DIR / src.name
    if not old.exists():
        return False
    os.replace(old, src)
    if not project.has_mask(image_id):
        project.set_status(image_id, "predicted")
    return True


def totals(project: Project) -> dict[str, Any]:
    """Effort totals of the accepted reviews: photos, pixels changed, minutes, mean share."""
    entries = [e for e in (get(project, i) for i in project.images) if e and e.get("accepted")]
    pixels = sum(int(e.get("pixels", 0)) for e in entries)
    changed = sum(int(e.get("pixels_changed", 0)) for e in entries)
    seconds = sum(float(e.get("active_seconds", 0.0)) for e in entries)
    runs: dict[str, int] = {}
    for e in entries:
        runs[e.get("run") or "unknown run"] = runs.get(e.get("run") or "unknown run", 0) + 1
    return {
        "photos_corrected": len(entries),
        "pixels_changed": changed,
        "pixels_reviewed": pixels,
        "changed_share": (changed / pixels) if pixels else 0.0,
        "minutes": seconds / 60.0,
        "by_run": runs,
        "pending_review": len(pending_ids(project)),
    }


def entries_between(
    project: Project, after: float | None, until: float | None
) -> list[dict[str, Any]]:
    """Accepted provenance entries whose acceptance time lies in ``(after, until]``."""
    from fashionseg_gui.core.runs import _parse_time

    out = []
    for image_id in project.images:
        e = get(project, image_id)
        if not e or not e.get("accepted"):
            continue
        t = _parse_time(e.get("accepted_at"))
        if t is None:
            continue
        if (after is None or t > after) and (until is None or t <= until):
            out.append(e)
    return out
