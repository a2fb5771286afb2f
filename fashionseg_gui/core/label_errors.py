"""The label-error finder: labelled photos whose label the model disagrees with most.

Each labelled or corrected photo with a fresh prediction (``core.scores``) is compared
with it: the per-image IoU (mean over the classes present in the label or the prediction;
pixels labelled 255 are left out) and the IoU of each class. The lowest IoU comes first.

Which prediction it is matters: a model that trained on a photo has learned its label,
wrong or not. Each result says where its prediction comes from (:func:`prediction_source`):

- ``held-out``: the photo was in the validation split of the run that predicted it, or
  was not in that run's data at all (labelled after it trained);
- ``k-fold``: predicted by :func:`cross_predict`, a model trained on the other folds;
- ``trained on it``: the run trained on that photo (its disagreement is a weaker hint).

:func:`diff_map` gives the per-pixel map the canvas draws. "Mark label is right"
(:func:`mark_label_right`) is stored in ``project.json`` (setting
``label_errors.confirmed``: image id -> SHA-256 of the mask it was given for), so the photo
drops off the list until its mask changes.

Free of Qt; TensorFlow only inside :func:`cross_predict`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fashionseg_gui.core import scores as S
from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.labels import IGNORE

#: ``project.settings`` key of the photos marked "label is right".
CONFIRMED = "label_errors"
#: Cache of the comparisons, beside the predictions.
CACHE = "agreement.json"
HELD_OUT, KFOLD, TRAINED = "held-out", "k-fold", "trained on it"


def diff_map(label: np.ndarray, class_ids: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Where a label and a prediction differ, coloured by the prediction's confidence.

    Parameters
    ----------
    label : np.ndarray
        uint8 ``(H, W)`` class ids, 255 = not labelled.
    class_ids, confidence : np.ndarray
        The prediction, ``(H, W)``.

    Returns
    -------
    np.ndarray
        float32 ``(H, W)`` in [0, 1]: 0 where they agree (and where the label is 255), else
        the prediction's confidence (a confident disagreement is the likeliest label error).
    """
    lab = np.asarray(label)
    ids = np.asarray(class_ids)
    if lab.shape != ids.shape or np.shape(confidence) != lab.shape:
        raise ValueError(
            f"label {lab.shape}, prediction {ids.shape} and confidence "
            f"{np.shape(confidence)} must have one size"
        )
    differ = (lab != ids) & (lab != IGNORE)
    conf = np.clip(np.asarray(confidence, np.float32), 0.0, 1.0)
    # a disagreement never reads as agreement, even at a confidence that rounds to 0
    return np.where(differ, np.maximum(conf, 1e-3), 0.0).astype(np.float32)


def image_iou(
    label: np.ndarray, class_ids: np.ndarray, num_classes: int
) -> tuple[float, dict[str, float], float]:
    """``(mean IoU, {class id: IoU}, share of labelled pixels that differ)``.

    The mean is over classes present in the label or the prediction (labelled pixels
    only); a photo where both are empty scores 1.
    """
    lab = np.asarray(label).reshape(-1)
    ids = np.asarray(class_ids).reshape(-1)
    keep = lab != IGNORE
    lab, ids = lab[keep].astype(np.int64), ids[keep].astype(np.int64)
    if lab.size == 0:
        return 1.0, {}, 0.0
    n = max(int(num_classes), int(lab.max()) + 1, int(ids.max()) + 1)
    conf = np.bincount(lab * n + ids, minlength=n * n).reshape(n, n)
    inter = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - inter
    per = {str(c): float(inter[c] / union[c]) for c in range(n) if union[c] > 0}
    mean = float(np.mean(list(per.values()))) if per else 1.0
    return mean, per, float((lab != ids).mean())


@dataclass
class LabelError:
    """One photo of the finder's list."""

    id: str
    iou: float
    class_iou: dict[str, float]
    changed_share: float
    source: str
    run: str

    @property
    def worst_class(self) -> int | None:
        if not self.class_iou:
            return None
        return int(min(self.class_iou, key=lambda c: self.class_iou[c]))


@dataclass
class Findings:
    """The finder's ranking and what it could not rank."""

    items: list[LabelError]
    unscored: list[str]
    stale: dict[str, str]
    confirmed: list[str]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.items]

    def sources(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.items:
            out[e.source] = out.get(e.source, 0) + 1
        return out

    def summary(self) -> str:
        parts = [f"{len(self.items)} labelled photos ranked by disagreement with the model"]
        src = self.sources()
        if src:
            parts.append("predictions: " + ", ".join(f"{n} {k}" for k, n in sorted(src.items())))
        if self.confirmed:
            parts.append(f"{len(self.confirmed)} marked label is right")
        if self.stale:
            parts.append(f"{len(self.stale)} with a stale prediction left out")
        if self.unscored:
            parts.append(
                f"{len(self.unscored)} without a prediction (predict them, or use "
                "k-fold cross-prediction)"
            )
        return "; ".join(parts)


def _mask_sha(project: Any, image_id: str) -> str:
    try:
        return hashlib.sha256(project.mask_path(image_id).read_bytes()).hexdigest()
    except OSError:
        return ""


def confirmed_ids(project: Any) -> dict[str, str]:
    """``{image id: mask SHA-256}`` of the photos marked "label is right"."""
    value = project.settings.get(CONFIRMED, {})
    conf = value.get("confirmed", {}) if isinstance(value, dict) else {}
    return {str(k): str(v) for k, v in conf.items()} if isinstance(conf, dict) else {}


def mark_label_right(project: Any, image_id: str, right: bool = True) -> None:
    """Store (or with ``right=False`` clear) "the label of ``image_id`` is right" for its
    current mask; the finder leaves it out until the mask changes."""
    if image_id not in project.images:
        raise KeyError(f"no image with id {image_id!r}")
    value = project.settings.get(CONFIRMED, {})
    value = dict(value) if isinstance(value, dict) else {}
    conf = confirmed_ids(project)
    if right:
        conf[image_id] = _mask_sha(project, image_id)
    else:
        conf.pop(image_id, None)
    value["confirmed"] = conf
    project.set_setting(CONFIRMED, value)


def run_split(project: Any, run: str) -> tuple[set[str], set[str]] | None:
    """``(train ids, val ids)`` of a run's ``dataset.json`` (None if unreadable)."""
    try:
        data = json.loads((Path(project.runs_dir) / run / "dataset.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return ({str(i) for i in data.get("train_ids", [])}, {str(i) for i in data.get("val_ids", [])})


def prediction_source(
    project: Any, image_id: str, entry: dict[str, Any], splits: dict[str, Any] | None = None
) -> str:
    """``held-out``, ``k-fold`` or ``trained on it`` (see the module docstring)."""
    if entry.get("kfold"):
        return KFOLD
    run = str(entry.get("run", ""))
    cache = {} if splits is None else splits
    if run not in cache:
        cache[run] = run_split(project, run)
    split = cache[run]
    if split is None:
        return TRAINED  # unknown data: assume the worst
    train_ids, _val = split
    return TRAINED if image_id in train_ids else HELD_OUT


def _cache_path(project: Any) -> Path:
    return Path(project.root) / "predictions" / CACHE


def find_label_errors(
    project: Any,
    index: dict[str, dict[str, Any]] | None = None,
    class_id: int | None = None,
    held_out_only: bool = False,
) -> Findings:
    """Rank the labelled photos by disagreement with their (fresh) prediction.

    Parameters
    ----------
    project : Project
    index : dict, optional
        A ``core.scores.load_index`` result.
    class_id : int, optional
        Rank by that class's IoU only (photos where the class is in the label or the
        prediction).
    held_out_only : bool
        Leave out predictions of a run that trained on the photo.
    """
    fresh, stale = S.scored(project, index)
    conf = confirmed_ids(project)
    labelled = [i for i in project.labelled_ids() if project.has_mask(i)]
    try:
        cache = json.loads(_cache_path(project).read_text("utf-8"))
        cache = cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        cache = {}
    new_cache: dict[str, Any] = {}
    splits: dict[str, Any] = {}
    items: list[LabelError] = []
    confirmed: list[str] = []
    unscored: list[str] = []
    n = len(project.classes)
    for image_id in labelled:
        if image_id in conf and conf[image_id] == _mask_sha(project, image_id):
            confirmed.append(image_id)
            continue
        entry = fresh.get(image_id)
        if entry is None:
            if image_id not in stale:
                unscored.append(image_id)
            continue
        key = [S.file_key(project.mask_path(image_id)), entry.get("file")]
        hit = cache.get(image_id)
        if isinstance(hit, dict) and hit.get("key") == key:
            iou, per, changed = hit["iou"], hit["class_iou"], hit["changed"]
        else:
            pred = project.read_prediction(image_id)
            if pred is None:
                unscored.append(image_id)
                continue
            iou, per, changed = image_iou(project.read_mask(image_id), pred[0], n)
        new_cache[image_id] = {"key": key, "iou": iou, "class_iou": per, "changed": changed}
        source = prediction_source(project, image_id, entry, splits)
        if held_out_only and source == TRAINED:
            continue
        if class_id is not None:
            if str(class_id) not in per:
                continue
            rank_iou = per[str(class_id)]
        else:
            rank_iou = iou
        items.append(
            LabelError(
                image_id, float(rank_iou), per, float(changed), source, str(entry.get("run", ""))
            )
        )
    items.sort(key=lambda e: (e.iou, -e.changed_share, e.id))
    if new_cache != cache and not getattr(project, "read_only", False):
        atomic_write_json(_cache_path(project), new_cache)
    return Findings(
        items, unscored, {i: r for i, r in stale.items() if i in set(labelled)}, confirmed
    )


def cross_predict(
    project: Any,
    config: Any,
    k: int = 3,
    cancel_token: Any = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    ids: list[str] | None = None,
) -> list[str]:
    """k-fold cross-prediction: for each fold, train on the other labelled photos and
    predict the fold's photos, so every photo's prediction comes from a model that never
    saw it. The fold models are kept in ``runs/.kfold/`` (not listed as runs); the
    predictions are written like any other, marked ``kfold`` in their meta.

    Parameters
    ----------
    config : TrainConfig
        The recipe of each fold (keep it small: k trainings run).
    k : int
        Number of folds (at least 2).
    ids : list of str, optional
        The labelled photos to cross-predict (default all).

    Returns
    -------
    list of str
        The ids that received a prediction.
    """
    from fashionseg_gui.core import data as D
    from fashionseg_gui.core.predict import PredictError, Predictor, predict_project
    from fashionseg_gui.core.train import TrainData, new_run_id, train

    if k < 2:
        raise PredictError("k-fold cross-prediction needs at least 2 folds")
    samples = D.samples_from_project(project)
    if ids is not None:
        wanted = set(ids)
        samples = [s for s in samples if s.id in wanted]
    if len(samples) < k:
        raise PredictError(
            f"k-fold cross-prediction with {k} folds needs at least {k} "
            f"labelled photos; the project has {len(samples)}"
        )
    ordered = sorted(samples, key=lambda s: hashlib.sha256(s.id.encode()).hexdigest())
    folds = [ordered[f::k] for f in range(k)]
    names = [c.name for c in project.classes]
    base = Path(project.runs_dir) / ".kfold"
    done: list[str] = []
    for f, fold in enumerate(folds):
        rest = [s for g, other in enumerate(folds) if g != f for s in other]
        if on_progress is not None:
            on_progress(f, k, f"fold {f + 1}/{k}: training on {len(rest)} photos")
        result = train(
            config,
            TrainData(rest, fold, names),
            cancel_token,
            run_dir=base / f"{new_run_id()}-fold{f + 1}",
        )
        predictor = Predictor(result.run_dir)
        predictor.run = {**predictor.run, "kfold": f"{f + 1}/{k}"}
        done += predict_project(
            project, [s.id for s in fold], cancel_token, predictor=predictor, resume=False
        )
    if on_progress is not None:
        on_progress(k, k, "done")
    return done
