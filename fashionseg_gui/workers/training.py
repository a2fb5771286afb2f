"""Training on a QThread: ``core.train.train`` wrapped in a :class:`JobWorker`.

TensorFlow is imported only inside the worker thread (by ``core.train``), never when this
module is imported. Per-batch events are coalesced here, on the training thread, into at
most one ``metrics`` signal per ``batch_interval`` seconds (default 0.1 s, i.e. <= 10 Hz):
the signal carries the latest batch figures plus the short list of ``(x, loss)`` points seen
since the previous one, so the GUI can draw every batch without a signal per batch.
Epoch, start and end events are passed on at once, after any pending batch event, so the
order start -> batch... -> epoch -> ... -> end always holds.

Signals (inherited from :class:`JobWorker`)
-------------------------------------------
progress(int done_batches, int total_batches, str text)
metrics(dict)   ``{"event": "prepare" | "start" | "batch" | "epoch" | "end", ...}``, plain data
finished(object)  the ``TrainResult``
failed(str)     one line for the user
cancelled()
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core import gcpause
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.workers.base import JobWorker

if TYPE_CHECKING:
    from fashionseg_gui.core.data import Sample
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.train import TrainData, TrainResult
    from fashionseg_gui.core.train_config import TrainConfig

#: Minimum seconds between two coalesced batch signals (10 Hz).
BATCH_INTERVAL = 0.1


_PRELOAD_LIBS = (
    "libtensorflow_framework.so.2",
    "libtensorflow_cc.so.2",
    "python/_pywrap_tensorflow_internal.so",
)


def preload_tensorflow_libraries() -> None:
    """Load TensorFlow's big shared libraries without holding the GIL (Linux).

    ``import tensorflow`` loads a ~1 GB extension with ``dlopen`` while holding the GIL,
    which froze the GUI thread for 0.25-1 s. Calling libc's ``dlopen`` through ctypes
    releases the GIL during the load; the import then finds the libraries already mapped.
    Call it on the worker thread before the first TensorFlow import; a no-op elsewhere.
    """
    import ctypes
    import importlib.util
    import os
    import sys

    if "tensorflow" in sys.modules or not sys.platform.startswith("linux"):
        return
    try:
        spec = importlib.util.find_spec("tensorflow")
        if spec is None or not spec.origin:
            return
        root = os.path.dirname(spec.origin)
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        for name in _PRELOAD_LIBS:
            path = os.path.join(root, name)
            if os.path.exists(path):
                dlopen(path.encode(), sys.getdlopenflags())  # same flags as the import
    except (OSError, AttributeError, ValueError):  # only an optimisation
        return


def config_from_dict(values: Mapping[str, Any]) -> TrainConfig:
    """Build a ``core.train.TrainConfig`` from a dict, ignoring keys it does not know.

    Imports ``core.train`` (and so TensorFlow): call it on the worker thread.
    """
    from fashionseg_gui.core.train import TrainConfig

    return TrainConfig.from_dict(dict(values))


def run_training(
    config: Mapping[str, Any] | TrainConfig,
    project: Project | TrainData | Sequence[Sample],
    run_dir: str | Path | None = None,
    *,
    cancel_token: CancelToken,
    on_progress: Callable[..., None],
) -> TrainResult:
    """The job body: ``core.train.train`` with a config given as a dict or a ``TrainConfig``.

    Parameters
    ----------
    config : Mapping or TrainConfig
        Training settings; a mapping is converted with :func:`config_from_dict`.
    project : Project or samples
        What ``core.train.train`` trains on.
    run_dir : path, optional
        Where to write the run; ``None`` lets the core choose ``<project>/runs/<run_id>``.
    cancel_token, on_progress
        Passed through to ``train``.

    Returns
    -------
    TrainResult
    """
    with startup_without_gc() as started:
        preload_tensorflow_libraries()
        from fashionseg_gui.core.train import train

        if isinstance(config, Mapping):
            config = config_from_dict(config)

        def progress(*args: Any) -> None:
            if args and isinstance(args[0], Mapping) and args[0].get("event") == "batch":
                started()
            on_progress(*args)

        return train(
            config,
            project,
            cancel_token=cancel_token,
            on_progress=progress,
            run_dir=None if run_dir is None else Path(run_dir),
        )


@contextlib.contextmanager
def startup_without_gc() -> Iterator[Callable[[], None]]:
    """No cyclic garbage collection while TensorFlow starts and the model is built and
    traced (a training; a prediction or an export loading its model).

    Importing TensorFlow and tracing the model create millions of objects; Python's
    full collections then ran on this thread for 90-190 ms each with the GIL held, and the
    GUI froze as long; and a collection on the GUI thread while a worker converted a graph's
    variables to constants crashed the process (:mod:`fashionseg_gui.core.gcpause`).
    Collection is paused until the caller says the start-up is over (the ``started``
    callback: a training's first batch), the objects made so far are then moved out of the
    collector's sight (``gc.freeze``: they live as long as the job), and handed back to the
    collector when the job ends.
    """
    with contextlib.ExitStack() as job:
        pause = contextlib.ExitStack()
        pause.enter_context(gcpause.paused())
        job.callback(pause.close)

        done = False

        def started() -> None:
            nonlocal done
            if not done:
                done = True
                job.enter_context(gcpause.frozen())
                pause.close()

        yield started


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain Python types (safe across threads)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Path):
        return str(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    return value


class TrainingWorker(JobWorker):
    """Runs one training on its own QThread and reports it with rate-limited signals.

    Parameters
    ----------
    config : Mapping or TrainConfig
        The training settings (a dict keeps TensorFlow out of the GUI thread).
    project : Project
        The project to train on (its labelled and corrected images).
    run_dir : path, optional
        Output folder of the run; default ``<project>/runs/<run_id>``.
    batch_interval : float
        Minimum seconds between two batch ``metrics`` signals.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | TrainConfig,
        project: Project,
        run_dir: str | Path | None = None,
        batch_interval: float = BATCH_INTERVAL,
    ) -> None:
        super().__init__(run_training, config, project, run_dir, name="training")
        self.batch_interval = float(batch_interval)
        epochs = (
            config.get("epochs") if isinstance(config, Mapping) else getattr(config, "epochs", 0)
        )
        self._epochs = int(epochs or 0)
        self._lock = threading.Lock()
        self._pending: dict[str, Any] | None = None
        self._losses: list[list[float]] = []
        self._last_emit = 0.0
        self._t0: float | None = None
        self._budget_s: float | None = None  # the run's time budget, from its start event
        #: Batches seen so far over the whole run (read from any thread).
        self.steps = 0
        #: Batch signals emitted / batch events received (to check the rate limit).
        self.batch_signals = 0

    # --- called on the training thread ---------------------------------------------------
    def _on_progress(self, *args: Any) -> None:
        if not (len(args) == 1 and isinstance(args[0], Mapping)):
            super()._on_progress(*args)
            return
        event = args[0]
        kind = event.get("event")
        if kind == "batch":
            self._on_batch(event)
            return
        self._flush_batches()
        if kind == "start":
            self._t0 = time.monotonic()
            self._epochs = int(event.get("epochs", self._epochs) or self._epochs)
            minutes = (event.get("config") or {}).get("max_minutes")
            self._budget_s = float(minutes) * 60.0 if minutes else None
        self.metrics.emit(_plain(dict(event)))
        if kind == "prepare":  # decoding and letterboxing the photos, before the first batch
            done, total = int(event.get("done", 0)), int(event.get("total", 0))
            self.progress.emit(done, max(total, done), f"preparing images {done}/{total}")
        elif kind == "epoch":
            epoch, epochs = int(event.get("epoch", 0)), int(event.get("epochs", self._epochs))
            self._epochs = epochs or self._epochs
            eta = event.get("eta_s")
            text = f"epoch {epoch}/{self._epochs}"
            if eta is not None:
                text += f" - {_fmt_eta(float(eta))} left"
            self.progress.emit(self.steps, max(self.steps, self._total_steps(event)), text)

    def _on_batch(self, event: Mapping[str, Any]) -> None:
        if self._t0 is None:
            self._t0 = time.monotonic()
        self.steps += 1
        batches = max(int(event.get("batches", 0) or 0), 1)
        epoch = int(event.get("epoch", 1) or 1)
        batch = int(event.get("batch", 0) or 0)
        loss = event.get("loss")
        x = (epoch - 1) + min(batch, batches) / batches
        with self._lock:
            self._pending = dict(event)
            self._batches = batches
            if loss is not None:
                self._losses.append([x, float(loss)])
        if time.monotonic() - self._last_emit >= self.batch_interval:
            self._flush_batches()

    def _flush_batches(self) -> None:
        with self._lock:
            pending, losses = self._pending, self._losses
            self._pending, self._losses = None, []
        if pending is None:
            return
        self._last_emit = time.monotonic()
        pending = _plain(pending)
        pending["losses"] = losses
        pending["step"] = self.steps
        self.batch_signals += 1
        total = self._total_steps(pending)
        elapsed = self._last_emit - (self._t0 or self._last_emit)
        text = (
            f"epoch {pending.get('epoch', '?')}/{self._epochs or '?'}, "
            f"batch {pending.get('batch', '?')}/{pending.get('batches', '?')}"
        )
        if total and self.steps and elapsed > 0:
            text += f" - {_fmt_eta(elapsed / self.steps * max(total - self.steps, 0))} left"
        self.metrics.emit(pending)
        self.progress.emit(self.steps, max(total, self.steps), text)

    def _total_steps(self, event: Mapping[str, Any]) -> int:
        """Batches the run will train: all its epochs' or, when the time budget ends it
        first, those this pace fits in the budget (so the bar and "left" follow the budget)."""
        batches = int(event.get("batches", 0) or getattr(self, "_batches", 0) or 0)
        total = batches * self._epochs
        elapsed = time.monotonic() - self._t0 if self._t0 is not None else 0.0
        if self._budget_s and self.steps and elapsed > 0:
            total = min(total, max(self.steps, round(self.steps / elapsed * self._budget_s)))
        return total


def _fmt_eta(seconds: float) -> str:
    """``"1 h 02 min"``, ``"3 min 05 s"`` or ``"12 s"``."""
    s = max(int(round(seconds)), 0)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
