"""The round history: one row per training run, oldest first, to show the loop paying off.

Per run: how many labelled photos it trained and validated on and how many of them were
corrected predictions (``core.train`` records ``labelled_images`` and ``corrected_images``
in the run's ``config.json`` and ``metrics.json``; an older run without them falls back to
the size of its ``dataset.json`` lists, corrected unknown), its best validation mIoU, and
the effort spent since the previous run (photos accepted in review, pixels changed,
active minutes; from ``core.provenance``).

The validation mIoU is measured on the validation split, which is stable: an image keeps
its split when photos are added (``core.data.assign_splits``), so the rounds' figures stay
comparable. Free of Qt and TensorFlow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core import provenance as P
from fashionseg_gui.core import runs as R

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


@dataclass(frozen=True)
class Round:
    """One run as a round of the correction loop."""

    number: int  # 1 = the oldest run
    path: Path
    created: float | None
    state: str  # "done", "stopped", "incomplete"...
    has_model: bool
    labelled: int | None  # photos it trained + validated on (hand-labelled and corrected)
    corrected: int | None  # of which corrected predictions (None: an older run)
    train_images: int | None
    val_images: int | None
    val_miou: float | None
    resume_from: str | None
    effort_photos: int = 0  # reviews accepted since the previous round
    effort_pixels: int = 0
    effort_minutes: float = 0.0
    val_ids: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if v == v else None


def _dataset(run: Path) -> dict[str, Any]:
    try:
        value = json.loads((run / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def history(project: Project) -> list[Round]:
    """The project's runs as rounds, oldest first."""
    infos = list(reversed(R.list_runs(project.runs_dir)))
    out: list[Round] = []
    previous: float | None = None
    for n, info in enumerate(infos, 1):
        summary = info.summary
        config = R.read_config(info.path) or {}
        dataset = _dataset(info.path)
        train_ids = dataset.get("train_ids") if isinstance(dataset.get("train_ids"), list) else None
        val_ids = dataset.get("val_ids") if isinstance(dataset.get("val_ids"), list) else None
        labelled = _int(summary.get("labelled_images", config.get("labelled_images")))
        if labelled is None and train_ids is not None:
            labelled = len(train_ids) + len(val_ids or [])
        corrected = _int(summary.get("corrected_images", config.get("corrected_images")))
        when = info.created if info.created is not None else info.started
        spent = P.entries_between(project, previous, when)
        previous = when
        state = str(summary.get("stopped") or summary.get("state") or "done")
        out.append(
            Round(
                number=n,
                path=info.path,
                created=info.created,
                state=state,
                has_model=info.has_model,
                labelled=labelled,
                corrected=corrected,
                train_images=_int(summary.get("train_images"))
                if train_ids is None
                else len(train_ids),
                val_images=_int(summary.get("val_images")) if val_ids is None else len(val_ids),
                val_miou=_float(summary.get("best_val_miou")),
                resume_from=config.get("resume_from")
                if isinstance(config.get("resume_from"), str)
                else None,
                effort_photos=len(spent),
                effort_pixels=sum(int(e.get("pixels_changed", 0)) for e in spent),
                effort_minutes=sum(float(e.get("active_seconds", 0.0)) for e in spent) / 60.0,
                val_ids=[str(i) for i in (val_ids or [])],
            )
        )
    return out


def best(rounds: list[Round]) -> Round | None:
    """The round with a model and the highest validation mIoU (the newest on a tie)."""
    scored = [r for r in rounds if r.has_model and r.val_miou is not None]
    if not scored:
        return None
    return max(scored, key=lambda r: (r.val_miou, r.number))


def curve(rounds: list[Round]) -> tuple[list[int], list[float]]:
    """(labelled photos, validation mIoU) of the rounds that have both, in round order."""
    xs, ys = [], []
    for r in rounds:
        if r.labelled is not None and r.val_miou is not None:
            xs.append(r.labelled)
            ys.append(r.val_miou)
    return xs, ys


def validation_ids(project: Project) -> list[str]:
    """The labelled photos in the validation split now (sorted)."""
    return sorted(i for i in project.labelled_ids() if project.images[i].split == "val")
