"""The label-next queue: which photo to correct next.

Candidates are the photos without a user mask (status ``unlabelled`` or ``predicted``)
that have a fresh, scored prediction (``core.scores``). Two orders:

- ``uncertainty``: by the prediction's **mean normalised entropy**, highest first. Entropy
  uses every class's probability (a pixel torn between two classes and one torn between
  five both count), it is averaged over the whole photo (a photo that is unsure
  everywhere outranks one with a single unsure seam), and it is what MONAI Label's and
  Cellpose's uncertainty sampling rank by. The low-confidence share breaks ties.
- ``diverse``: greedy k-center on the per-image embeddings stored with each prediction
  (``core.scores.embedding``), each step taking the photo that maximises
  *distance to the nearest photo already chosen* x *its uncertainty*, starting from the most
  uncertain one: the top of the queue is unsure and not twenty near-duplicates.

Photos with a stale prediction are left out and reported (``Queue.stale``); photos without
a prediction are counted (``Queue.unscored``): predict them to rank them.

Free of Qt and TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fashionseg_gui.core import scores as S

#: Orders of :func:`build_queue` (``disagreement`` is ``core.label_errors``).
ORDERS = ("uncertainty", "diverse")
#: Statuses a queue candidate may have.
CANDIDATE_STATUSES = ("unlabelled", "predicted")


@dataclass
class QueueItem:
    """One photo of the queue: its id, the score it is ranked by and the scores behind it."""

    id: str
    score: float
    mean_entropy: float
    low_confidence_share: float
    run: str


@dataclass
class Queue:
    """A ranked queue and what was left out of it."""

    by: str
    items: list[QueueItem]
    stale: dict[str, str] = field(default_factory=dict)
    unscored: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self.items]

    def scores(self) -> dict[str, float]:
        """``{image id: score}`` (what the browser shows beside each thumbnail)."""
        return {it.id: it.score for it in self.items}

    def summary(self) -> str:
        """One line: how many are ranked, how many are stale or not predicted."""
        parts = [f"{len(self.items)} photos ranked by {self.by}"]
        if self.stale:
            parts.append(f"{len(self.stale)} with a stale prediction left out")
        if self.unscored:
            parts.append(f"{len(self.unscored)} not predicted yet")
        return "; ".join(parts)


def uncertainty(entry: dict[str, Any]) -> float:
    """The uncertainty of one scored prediction (its mean normalised entropy)."""
    return float(entry.get("scores", {}).get("mean_entropy", 0.0))


def build_queue(
    project: Any, by: str = "uncertainty", index: dict[str, dict[str, Any]] | None = None
) -> Queue:
    """Rank the photos to label next.

    Parameters
    ----------
    project : Project
    by : str
        ``"uncertainty"`` or ``"diverse"``.
    index : dict, optional
        A ``core.scores.load_index`` result (default: loaded, and rebuilt if needed).
    """
    if by not in ORDERS:
        raise ValueError(f"unknown queue order {by!r}; choose one of {', '.join(ORDERS)}")
    fresh, stale = S.scored(project, index)
    cands = [
        i
        for i, r in project.images.items()
        if r.status in CANDIDATE_STATUSES and not project.has_mask(i)
    ]
    unscored = [i for i in cands if i not in fresh and i not in stale]
    stale = {i: why for i, why in stale.items() if i in set(cands)}
    ranked = [i for i in cands if i in fresh]
    # highest entropy first; the low-confidence share breaks ties, then the id (stable)
    ranked.sort(
        key=lambda i: (
            -uncertainty(fresh[i]),
            -float(fresh[i]["scores"].get("low_confidence_share", 0.0)),
            i,
        )
    )
    values = {i: uncertainty(fresh[i]) for i in ranked}
    if by == "diverse" and ranked:
        ranked = k_center_order(
            ranked, [fresh[i].get("embedding") for i in ranked], [values[i] for i in ranked]
        )
    items = [
        QueueItem(
            i,
            values[i],
            values[i],
            float(fresh[i]["scores"].get("low_confidence_share", 0.0)),
            str(fresh[i].get("run", "")),
        )
        for i in ranked
    ]
    return Queue(by, items, stale, unscored)


def k_center_order(ids: list[str], embeddings: list[Any], weights: list[float]) -> list[str]:
    """Greedy k-center order of ``ids``: first the heaviest, then repeatedly the one whose
    distance to the nearest chosen one, times its weight, is largest.

    ``ids`` come sorted by weight, heaviest first. A missing embedding counts as the
    mean embedding (such a photo is ranked by its weight alone, late).
    """
    n = len(ids)
    if n <= 2:
        return list(ids)
    dims = {len(e) for e in embeddings if e is not None}
    dim = max(dims) if dims else 0
    if dim == 0:
        return list(ids)
    x = np.zeros((n, dim), np.float32)
    have = np.zeros(n, bool)
    for k, e in enumerate(embeddings):
        if e is not None and len(e) == dim:
            x[k] = np.asarray(e, np.float32)
            have[k] = True
    if have.any():
        x[~have] = x[have].mean(0)
    w = np.asarray(weights, np.float64) + 1e-6
    chosen = np.zeros(n, bool)
    order = [0]
    chosen[0] = True
    nearest = np.linalg.norm(x - x[0], axis=1).astype(np.float64)
    for _ in range(n - 1):
        gain = np.where(chosen, -1.0, nearest * w)
        k = int(np.argmax(gain))
        order.append(k)
        chosen[k] = True
        nearest = np.minimum(nearest, np.linalg.norm(x - x[k], axis=1))
    return [ids[k] for k in order]
