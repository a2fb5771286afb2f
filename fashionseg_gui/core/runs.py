"""Run folders: their layout, their readers and the one rule for "the latest run".

A training run writes one folder (``core.train.train``)::

    runs/<run_id>/config.json     the TrainConfig, plus "created" (ISO 8601, UTC)
                  metrics.json    the summary at the end (also has "created")
                  history.csv     one row per epoch
                  state.json      the last epoch written (progress of a running training)
                  dataset.json    train/val ids and class statistics
                  checkpoints/best.keras  checkpoints/last.keras
                  logs/           TensorBoard (when installed)

Free of Qt and TensorFlow: the Train panel lists runs with it on the GUI thread.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG = "config.json"
METRICS = "metrics.json"
HISTORY = "history.csv"
STATE = "state.json"
BEST = "checkpoints/best.keras"
LAST = "checkpoints/last.keras"


class RunError(Exception):
    """A run folder problem worded for the user (no run, no model)."""


def now_iso() -> str:
    """The current time as the ISO 8601 UTC string a run records as ``created``."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_run(run_dir: str | Path) -> dict[str, Any] | None:
    """The summary of a run (``metrics.json``), ``{"state": "incomplete"}`` for a run that
    has a config but no summary yet, None for a folder that is not a run."""
    run = Path(run_dir)
    metrics = _read_json(run / METRICS)
    if metrics is None:
        if not (run / CONFIG).is_file():
            return None
        metrics = {"state": "incomplete"}
    return metrics


def read_config(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``config.json`` as a dict (None if unreadable)."""
    return _read_json(Path(run_dir) / CONFIG)


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """Epoch rows of ``history.csv`` with the keys the curves use (epoch counted from 1)."""
    path = Path(run_dir) / HISTORY
    rows: list[dict[str, Any]] = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                out: dict[str, Any] = {}
                for key, value in row.items():
                    try:
                        out[key] = float(value)
                    except (TypeError, ValueError):
                        continue
                out["epoch"] = int(out.get("epoch", i + 1))
                rows.append(out)
    except OSError:
        return []
    return rows


def has_model(run_dir: str | Path) -> bool:
    """Whether the run has a best checkpoint (a model to predict or export with)."""
    return (Path(run_dir) / BEST).is_file()


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        t = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    stamp = t.timestamp()
    return stamp if math.isfinite(stamp) else None


def created(run_dir: str | Path) -> float | None:
    """The run's recorded creation time (POSIX seconds) from ``config.json`` or
    ``metrics.json``; None for a run that recorded none (written by an older version)."""
    run = Path(run_dir)
    for name in (CONFIG, METRICS):
        stamp = _parse_time((_read_json(run / name) or {}).get("created"))
        if stamp is not None:
            return stamp
    return None


@dataclass(frozen=True)
class RunInfo:
    """One run folder as the run list shows it."""

    path: Path
    summary: dict[str, Any]
    created: float | None
    has_model: bool

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def started(self) -> float:
        """The creation time, else the folder's modification time (older runs)."""
        if self.created is not None:
            return self.created
        try:
            return (self.path / CONFIG).stat().st_mtime
        except OSError:
            return 0.0


def _order_key(info: RunInfo) -> tuple[int, float, str]:
    # runs that recorded their creation time come first by that time; a run without one
    # (an older version's, or a copied-in folder) never outranks them, whatever its name
    return (1 if info.created is not None else 0, info.started, info.name)


def list_runs(runs_dir: str | Path) -> list[RunInfo]:
    """Every run under ``runs_dir``, newest first (by :func:`created`)."""
    base = Path(runs_dir)
    if not base.is_dir():
        return []
    out = []
    for p in base.iterdir():
        if not p.is_dir():
            continue
        summary = read_run(p)
        if summary is None:
            continue
        out.append(RunInfo(p, summary, created(p), has_model(p)))
    return sorted(out, key=_order_key, reverse=True)


def latest_run(runs_dir: str | Path) -> Path:
    """The newest run (by recorded creation time) that has ``checkpoints/best.keras``."""
    for info in list_runs(runs_dir):
        if info.has_model:
            return info.path
    raise RunError("no trained model in this project yet: train one first")


def resolve_run(runs_dir: str | Path, run: str | Path) -> Path:
    """A run given by id (a folder of ``runs_dir``) or as a path to a run folder."""
    candidate = Path(run)
    if not candidate.is_dir():
        candidate = Path(runs_dir) / str(run)
    if not candidate.is_dir():
        raise RunError(f"no run {str(run)!r} (looked in {runs_dir})")
    return candidate


def is_inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` resolves inside ``folder`` (links followed)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True
