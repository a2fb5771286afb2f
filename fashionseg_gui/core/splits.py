"""The train/validation split: deterministic, stratified by dominant class, stable.

An image keeps its split once it has one (:func:`move_to_split` sets it by hand); new
images are assigned by a hash of the seed and their id, so adding images never moves an
assigned one. Nothing here needs TensorFlow.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.samples import SPLITS, DataError, Sample

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def _hash01(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def dominant_class(mask: np.ndarray, num_classes: int | None = None) -> int:
    """Most frequent non-background, non-ignored class of a mask (0 if there is none)."""
    counts = np.bincount(mask.reshape(-1), minlength=256)
    counts[0] = 0
    counts[IGNORE] = 0
    if num_classes is not None:
        counts[num_classes:] = 0
    return int(counts.argmax()) if counts.any() else 0


#: Labelled images from which validation gets at least two of them: one photo is too
#: noisy a score to keep the best epoch by (the demo project validated on one).
MIN_TWO_VAL_FROM = 8


def min_val_images(n: int) -> int:
    """The fewest validation images of a split of ``n`` labelled images."""
    if n < 2:
        return 0
    return 2 if n >= MIN_TWO_VAL_FROM else 1


def move_to_split(project: Project, ids: Iterable[str], split: str | None) -> list[str]:
    """Move images of ``project`` to ``split`` (``"train"``, ``"val"``, ``"test"`` or None
    = let the next split decide) in one save of project.json; returns the ids moved.

    A moved image keeps its split from then on: :func:`assign_splits` never reassigns
    an image that has one.
    """
    if split is not None and split not in SPLITS:
        raise DataError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    ids = [str(i) for i in ids]
    unknown = [i for i in ids if i not in project.images]
    if unknown:
        raise DataError(f"no image with id {unknown[0]!r} in the project")
    moved = [i for i in ids if project.images[i].split != split]
    with project.batch():
        for i in moved:
            project.set_split(i, split, save=False)
        if moved:
            project.save()
    return moved


def assign_splits(
    ids: Sequence[str],
    strata: dict[str, int] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    existing: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """Deterministic, stratified, stable split by image.

    Images with an existing split keep it. Each stratum (dominant class) gets a share of
    validation images proportional to its size (largest remainder); within a stratum the
    unassigned images with the smallest ``sha256(seed:id)`` go to validation. Adding images
    therefore never moves an already-assigned image, and the order of ``ids`` is irrelevant.

    Parameters
    ----------
    ids : sequence of str
        Image ids.
    strata : dict, optional
        id -> stratum (e.g. :func:`dominant_class`); one stratum if None.
    val_fraction : float
        Target validation fraction in [0, 1).
    seed : int
        Hash seed.
    existing : dict, optional
        id -> split already assigned (None = unassigned).

    Returns
    -------
    dict
        id -> ``"train"`` | ``"val"`` | ``"test"``; at least one ``"val"`` when there are
        two or more images, two from ``MIN_TWO_VAL_FROM`` (8) images.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"validation fraction must be in [0, 1); got {val_fraction}")
    ids = sorted(set(ids))
    kept = {
        k: v
        for k, v in (existing or {}).items()
        if isinstance(v, str) and v in SPLITS and k in set(ids)
    }
    strata = strata or {}
    n = len(ids)
    target_total = max(min_val_images(n), round(val_fraction * n)) if n >= 2 else 0
    groups: dict[int, list[str]] = {}
    for i in ids:
        groups.setdefault(int(strata.get(i, 0)), []).append(i)
    exact = {s: val_fraction * len(m) for s, m in groups.items()}
    quota = {s: math.floor(v) for s, v in exact.items()}
    rest = target_total - sum(quota.values())
    order = sorted(groups, key=lambda s: (-(exact[s] - quota[s]), _hash01(seed, f"stratum{s}")))
    while rest > 0 and any(quota[s] < len(groups[s]) for s in order):
        for s in order:  # largest remainders first; round again for a minimum above them
            if rest > 0 and quota[s] < len(groups[s]):
                quota[s] += 1
                rest -= 1
    result = dict(kept)
    for s, members in groups.items():
        have = sum(1 for m in members if kept.get(m) == "val")
        free = sorted((m for m in members if m not in kept), key=lambda m: _hash01(seed, m))
        need = max(0, quota[s] - have)
        for k, m in enumerate(free):
            result[m] = "val" if k < need else "train"
    if n >= 2 and "val" not in result.values():
        candidates = [m for m in ids if result[m] == "train"]
        if candidates:
            result[min(candidates, key=lambda m: _hash01(seed, m))] = "val"
    return result


def split_samples(
    samples: Sequence[Sample],
    val_fraction: float = 0.1,
    seed: int = 0,
    num_classes: int | None = None,
    project: Project | None = None,
) -> tuple[list[Sample], list[Sample], dict[str, str]]:
    """Split samples into train and validation (stratified by dominant class).

    When ``project`` is given, newly assigned splits are written back to its image records
    (``project.set_split``).

    Returns
    -------
    train, val : list of Sample
    splits : dict
        id -> split for every sample.
    """
    existing = {s.id: s.split for s in samples}
    unassigned = [s for s in samples if s.split not in SPLITS]
    strata = {s.id: dominant_class(s.load_mask(), num_classes) for s in unassigned}
    splits = assign_splits([s.id for s in samples], strata, val_fraction, seed, existing)
    if project is not None and unassigned:
        for s in unassigned:
            project.set_split(s.id, splits[s.id], save=False)
        project.save()
    train = [s for s in samples if splits[s.id] == "train"]
    val = [s for s in samples if splits[s.id] == "val"]
    if not train:
        raise DataError("no training images after the split: label more images")
    return train, val, splits
