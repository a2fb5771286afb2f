"""A generic background job: a core function run on a QThread, reported through signals.

The core function has the shape ``fn(*args, cancel_token=token, on_progress=callback)``
(the Qt-free convention of ``fashionseg_gui.core``). ``on_progress`` may be called with
``(done, total, text)`` or with one ``dict`` (metrics); the worker turns them into the
``progress`` and ``metrics`` signals. Only plain data crosses threads; the worker never
touches a widget, and an exception becomes ``failed(message)``, never a crash.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from fashionseg_gui.core.cancel import CancelSource
from fashionseg_gui.workers.gc_guard import collect_on_gui_thread

if TYPE_CHECKING:
    from fashionseg_gui.workers.jobs import JobService

log = logging.getLogger(__name__)


BACKGROUND_NICE = 10


def _lower_thread_priority() -> None:
    """Give this worker thread (and the threads it creates: TensorFlow's pools) a lower
    CPU priority than the GUI thread, so that a busy CPU never starves the event loop.

    Linux keeps a nice value per thread and new threads inherit it; elsewhere this is a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, BACKGROUND_NICE))
    except OSError as exc:  # not permitted in some sandboxes: keep the normal priority
        log.debug("could not lower the worker thread priority: %s", exc)


class JobWorker(QObject):
    """Runs ``fn`` once on its own QThread.

    Signals
    -------
    progress(int done, int total, str text)
    metrics(dict)
    finished(object result)
    failed(str message)
    cancelled()
    ended()
        Emitted once, just before the last of the signals above (the job service's cue
        that the job no longer runs, delivered before the caller's ``finished``).

    A job that was cancelled but still returned a (partial) result emits ``cancelled`` and
    then ``finished(result)``; one that raised ``Cancelled`` emits only ``cancelled``.
    Connect these signals to QObject slots (methods of a widget), not to plain functions or
    lambdas: a plain callable runs in the worker thread.
    """

    progress = Signal(int, int, str)
    metrics = Signal(dict)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str = "job",
        progress_interval: float = 0.05,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.name = name
        self._source = CancelSource()
        self._progress_interval = progress_interval
        self._last_progress = 0.0
        self.thread: QThread | None = None
        #: The :class:`~fashionseg_gui.workers.jobs.JobService` that keeps this worker alive
        #: until its thread ends (the shared one unless a service submitted it).
        self.holder: JobService | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Move to a fresh QThread and run there.

        The job service that submitted it (else the app's shared one) holds the worker
        until its thread has ended, so a caller may drop its reference at any time. Jobs of
        the app go through :meth:`JobService.submit <fashionseg_gui.workers.jobs.JobService.
        submit>` (policy, status bar); ``start`` alone suits a private helper job.
        """
        collect_on_gui_thread()  # before any Python runs on another thread
        thread = QThread()
        thread.setObjectName(f"fashionseg-{self.name}")
        self.moveToThread(thread)
        thread.started.connect(self._run)
        # Quit from the worker thread itself (a direct connection; QThread.quit is
        # thread-safe): a queued quit would need the GUI thread, which may be blocked in
        # wait() while the window closes.
        for sig in (self.finished, self.failed, self.cancelled):
            sig.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread = thread
        if self.holder is None:
            from fashionseg_gui.workers.jobs import JobService

            self.holder = JobService.shared()
        self.holder.hold(self)
        thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next cancellation point (thread-safe)."""
        self._source.cancel()

    @property
    def is_cancel_requested(self) -> bool:
        return self._source.token.cancelled

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def wait(self, msecs: int = 10000) -> bool:
        """Wait for the thread to end; True when it did."""
        if self.thread is None:
            return True
        return self.thread.wait(msecs)

    def stop(self, msecs: int = 10000) -> bool:
        """Cancel and wait. Used when the window closes."""
        self.cancel()
        ok = self.wait(msecs)
        if not ok:
            log.warning("job %s did not stop within %d ms", self.name, msecs)
        return ok

    # --- the thread body ----------------------------------------------------------------
    def _on_progress(self, *args: Any) -> None:
        if len(args) == 1 and isinstance(args[0], dict):
            self.metrics.emit(dict(args[0]))
            return
        done, total, text = (list(args) + [0, 0, ""])[:3]
        now = time.monotonic()
        # Rate-limit: a flood of queued signals would stall the GUI event loop.
        if done < total and now - self._last_progress < self._progress_interval:
            return
        self._last_progress = now
        self.progress.emit(int(done), int(total), str(text))

    @Slot()
    def _run(self) -> None:
        from fashionseg_gui.core.cancel import Cancelled

        _lower_thread_priority()
        try:
            result = self._fn(
                *self._args,
                cancel_token=self._source.token,
                on_progress=self._on_progress,
                **self._kwargs,
            )
        except Cancelled:
            self.ended.emit()
            self.cancelled.emit()
            return
        except Exception as exc:  # a worker never crashes the app
            log.error("job %s failed:\n%s", self.name, traceback.format_exc())
            self.ended.emit()
            self.failed.emit(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
            return
        self.ended.emit()
        if self._source.token.cancelled:
            self.cancelled.emit()
        self.finished.emit(result)
