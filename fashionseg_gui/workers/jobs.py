"""One job service for the whole app: it owns every worker, queues, refuses and shows jobs.

Every long job of the app (import, export, training, prediction, model export, class
deletion, assisted outline, augmentation preview...) is a :class:`JobWorker` submitted to a
:class:`JobService`. The service

- keeps each worker alive until its QThread has really ended (``finished`` reaches the GUI
  before the thread's event loop has quit; dropping the last reference then would destroy a
  running ``QThread``, and Qt aborts the process). A :class:`JobWorker` started on its own
  is held the same way, by the shared service (superqt's ``WorkerBase._worker_set`` pattern);
- applies one policy, declared in :data:`POLICY`, for what may run together on one project
  (its *scope*): a job that conflicts with a running one is queued behind it, refused with a
  reason, or replaces it (the older one is cancelled);
- tells views about every job (``jobAdded``, ``jobChanged``, ``jobRemoved``) so one status
  bar area shows them all, each with its own cancel.

The service lives in the GUI thread; the workers report through queued signals. It never
asks Qt who sent a signal (``QObject.sender()`` is only valid in the sender's own thread;
a worker lives in its job's thread, and PySide crashed wrapping it): each job's signals reach
a small relay object that knows its job. A worker whose thread has ended is dropped only
after every signal it queued has been delivered (see :meth:`JobService._release`), so the
owners' slots may still use ``sender()`` on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, Qt, Signal, Slot

from fashionseg_gui.workers.base import JobWorker

log = logging.getLogger(__name__)

QUEUE, REFUSE, REPLACE = "queue", "refuse", "replace"

#: Job kinds that read the project's masks / write them (used to build :data:`POLICY`).
_WRITES_MASKS = ("import masks", "delete class")
_USES_MODEL = ("train", "predict", "model export")


@dataclass(frozen=True)
class Rule:
    """How one kind of job behaves.

    Attributes
    ----------
    label : str
        What the status bar calls it ("Import", "Training"...).
    conflicts : frozenset of str
        Kinds that may not run at the same time on the same project. The relation is
        symmetric: a conflict declared on either side counts.
    when_busy : str
        ``"queue"`` (wait for the conflicting jobs to end), ``"refuse"`` (say why and do not
        start) or ``"replace"`` (cancel the conflicting jobs and start at once).
    locks_editing : bool
        The editor may not change masks while it runs (it rewrites them).
    show_after_ms : int
        The status bar shows the job only once it has run this long (a quick assisted
        outline should not flash a progress bar at every stroke).
    """

    label: str
    conflicts: frozenset[str]
    when_busy: str = QUEUE
    locks_editing: bool = False
    show_after_ms: int = 0


def _rule(
    label: str,
    conflicts: Iterable[str] = (),
    when_busy: str = QUEUE,
    locks_editing: bool = False,
    show_after_ms: int = 0,
) -> Rule:
    return Rule(label, frozenset(conflicts), when_busy, locks_editing, show_after_ms)


#: The one table of what may run together on one project. A new kind of job gets a row here.
POLICY: dict[str, Rule] = {
    # A second import waits for the first (both add images and classes).
    "import": _rule("Import", ("import", *_WRITES_MASKS)),
    "import masks": _rule("Mask import", ("import", *_WRITES_MASKS, "train", "predict", "export")),
    "export": _rule("Export", _WRITES_MASKS),
    # Training, prediction and model export share the Train panel and the model files.
    "train": _rule("Training", (*_USES_MODEL, *_WRITES_MASKS), REFUSE),
    "predict": _rule("Prediction", (*_USES_MODEL, *_WRITES_MASKS), REFUSE),
    "model export": _rule("Model export", _USES_MODEL, REFUSE),
    # Deleting a class rewrites every mask: nothing that reads or writes masks runs beside it.
    "delete class": _rule(
        "Class deletion",
        ("import", "import masks", "export", "train", "predict", "augment preview", "delete class"),
        REFUSE,
        locks_editing=True,
    ),
    "augment preview": _rule("Augmentation preview", _WRITES_MASKS),
    # The editor's assisted outline: a new request supersedes the previous one.
    "grabcut": _rule("Assisted outline", ("grabcut",), REPLACE, show_after_ms=500),
    "read file": _rule("Reading", ()),
    # Removing photos moves their files into the project trash; emptying deletes the trash.
    "remove": _rule(
        "Removing photos",
        (
            "import",
            "import masks",
            "export",
            "train",
            "predict",
            "augment preview",
            "delete class",
            "remove",
            "empty trash",
        ),
        REFUSE,
        locks_editing=True,
    ),
    "empty trash": _rule("Emptying the trash", ("empty trash",), REFUSE),
}


def conflicts(a: str, b: str) -> bool:
    """Whether jobs of kinds ``a`` and ``b`` may not run together on one project."""
    return b in POLICY[a].conflicts or a in POLICY[b].conflicts


class JobRefused(RuntimeError):
    """A job was not started because a conflicting one runs; ``str()`` says which."""


class Job:
    """One submitted job as the service and the views see it.

    Attributes
    ----------
    kind, label : str
    scope : hashable or None
        The project (usually its root folder) the job works on; conflicts count per scope.
    owner : object or None
        Who submitted it (a widget), to find its own jobs again.
    worker : JobWorker
    state : str
        ``"queued"``, ``"running"``, ``"cancelling"`` or ``"ended"``.
    done, total : int
    text : str
        The latest progress text.
    """

    def __init__(
        self,
        kind: str,
        worker: JobWorker,
        scope: Hashable | None,
        label: str,
        owner: object | None = None,
    ) -> None:
        self.kind = kind
        self.owner = owner
        self.worker = worker
        self.scope = scope
        self.label = label or POLICY[kind].label
        self.state = "queued"
        self.submitted_at = time.monotonic()
        self.done = 0
        self.total = 0
        self.text = ""
        #: Receives the worker's ``progress`` and ``ended`` for the service (GUI thread).
        self.relay: _JobRelay | None = None

    @property
    def active(self) -> bool:
        return self.state in ("running", "cancelling")

    def ms_until_shown(self) -> int:
        """Milliseconds before a status bar should show it (0: show it now)."""
        wait = POLICY[self.kind].show_after_ms
        return max(0, int(wait - (time.monotonic() - self.submitted_at) * 1000))

    def describe(self) -> str:
        """``"Import: photo.jpg (3/10)"``-style one-liner for a status bar."""
        if self.state == "queued":
            return f"{self.label}: waiting for another job"
        if self.state == "cancelling":
            return f"{self.label}: stopping…"
        count = f" ({self.done}/{self.total})" if self.total > 0 else ""
        return f"{self.label}: {self.text}{count}" if self.text else f"{self.label}…{count}"

    def __repr__(self) -> str:
        return f"<Job {self.kind} {self.state} scope={self.scope!r}>"


class _JobRelay(QObject):
    """One job's receiver in the GUI thread: forwards its worker's signals to the service
    with the job attached (so nothing has to look the sender up)."""

    def __init__(self, service: JobService, job: Job) -> None:
        super().__init__(service)
        self._service = service
        self._job = job
        job.worker.progress.connect(self.on_progress)
        job.worker.ended.connect(self.on_ended)

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, text: str) -> None:
        self._service._job_progress(self._job, done, total, text)

    @Slot()
    def on_ended(self) -> None:
        self._service._job_ended(self._job)


class JobService(QObject):
    """Owns, schedules and reports every job of the app (see the module docstring).

    Signals
    -------
    jobAdded(object job), jobChanged(object job), jobRemoved(object job)
        A :class:`Job` was submitted / made progress or changed state / ended.
    """

    jobAdded = Signal(object)
    jobChanged = Signal(object)
    jobRemoved = Signal(object)

    #: Carries ended workers to :meth:`_drop` through the event queue (see :meth:`_release`).
    _dropLater = Signal(object)

    _shared: JobService | None = None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._by_worker: dict[int, Job] = {}
        #: Every started worker, held until its QThread has ended (the one keep-alive).
        self._alive: set[JobWorker] = set()
        self._dropLater.connect(self._drop, Qt.ConnectionType.QueuedConnection)

    @classmethod
    def shared(cls) -> JobService:
        """The app's service (created in the GUI thread on first use)."""
        if cls._shared is None:
            cls._shared = JobService(QCoreApplication.instance())
        return cls._shared

    # --- submitting ------------------------------------------------------------------------
    def check(self, kind: str, scope: Hashable | None = None) -> str | None:
        """Why a ``kind`` job could not start now (None: it would start at once)."""
        if kind not in POLICY:
            raise KeyError(f"unknown job kind {kind!r}; add it to workers.jobs.POLICY")
        blockers = self._conflicting(kind, scope)
        if not blockers:
            return None
        names = ", ".join(sorted({j.label.lower() for j in blockers}))
        return f"{POLICY[kind].label} cannot start while {names} is running"

    def submit(
        self,
        worker: JobWorker,
        kind: str,
        scope: Hashable | None = None,
        label: str = "",
        owner: object | None = None,
    ) -> Job:
        """Start ``worker`` (not started yet) now, or queue it, as :data:`POLICY` says.

        Connect the worker's signals before submitting it. A queued job starts when the jobs
        it conflicts with have ended; cancelling it while queued emits its ``cancelled``.

        Raises
        ------
        JobRefused
            The kind's rule is ``refuse`` and a conflicting job runs (the message says which).
        """
        rule = POLICY.get(kind)
        if rule is None:
            raise KeyError(f"unknown job kind {kind!r}; add it to workers.jobs.POLICY")
        blockers = self._conflicting(kind, scope)
        if blockers and rule.when_busy == REFUSE:
            raise JobRefused(self.check(kind, scope) or "another job is running")
        job = Job(kind, worker, scope, label, owner)
        job.relay = _JobRelay(self, job)
        self._jobs.append(job)
        self._by_worker[id(worker)] = job
        self.jobAdded.emit(job)
        if blockers and rule.when_busy == REPLACE:
            for other in blockers:
                self.cancel(other)
            blockers = []
        if not blockers:
            self._start(job)
        return job

    # --- queries ---------------------------------------------------------------------------
    def jobs(
        self,
        scope: Hashable | None = ...,
        kinds: Iterable[str] | None = None,
        owner: object | None = None,
    ) -> list[Job]:
        """Jobs not ended yet (queued or running), oldest first; filtered by scope, kinds
        and owner (``...``/None: any)."""
        wanted = set(kinds) if kinds is not None else None
        return [
            j
            for j in self._jobs
            if (scope is ... or j.scope == scope)
            and (wanted is None or j.kind in wanted)
            and (owner is None or j.owner is owner)
        ]

    def job_of(self, worker: JobWorker) -> Job | None:
        return self._by_worker.get(id(worker))

    def is_busy(
        self,
        scope: Hashable | None = ...,
        kinds: Iterable[str] | None = None,
        owner: object | None = None,
    ) -> bool:
        return bool(self.jobs(scope, kinds, owner))

    def editing_locked(self, scope: Hashable | None) -> bool:
        """Whether a running job of ``scope`` rewrites masks (the editor must not edit)."""
        return any(j.active and POLICY[j.kind].locks_editing for j in self.jobs(scope))

    def alive_count(self) -> int:
        """Workers whose thread has not ended yet (ended jobs included)."""
        return len(self._alive)

    # --- cancelling and waiting -------------------------------------------------------------
    def cancel(self, job: Job) -> None:
        """Ask ``job`` to stop (a queued job is dropped and emits ``cancelled``)."""
        if job.state == "queued":
            self._remove(job)
            job.worker.cancelled.emit()
        elif job.state == "running":
            job.state = "cancelling"
            job.worker.cancel()
            self.jobChanged.emit(job)

    def cancel_all(
        self,
        scope: Hashable | None = ...,
        kinds: Iterable[str] | None = None,
        owner: object | None = None,
    ) -> None:
        for job in reversed(self.jobs(scope, kinds, owner)):  # queued ones first
            self.cancel(job)

    def stop(
        self,
        scope: Hashable | None = ...,
        kinds: Iterable[str] | None = None,
        owner: object | None = None,
        msecs: int = 30000,
    ) -> bool:
        """Cancel and wait for the matching jobs (window closing); True if all ended.

        The service then takes the jobs' ends (``ended``) at once, so it no longer lists
        them; the owners' own slots get their signals from the event loop as usual."""
        jobs = self.jobs(scope, kinds, owner)
        self.cancel_all(scope, kinds, owner)
        deadline = QDeadlineTimer(msecs)
        ok = True
        for job in jobs:
            ok = job.worker.wait(max(int(deadline.remainingTime()), 0)) and ok
        for job in jobs:
            if job.relay is not None:
                QCoreApplication.sendPostedEvents(job.relay)
        return ok

    def wait(self, job: Job, msecs: int = 30000) -> bool:
        return job.worker.wait(msecs)

    # --- keep-alive -------------------------------------------------------------------------
    def hold(self, worker: JobWorker) -> None:
        """Keep ``worker`` referenced until its QThread has ended (called by ``start``)."""
        self._alive.add(worker)
        assert worker.thread is not None
        worker.thread.finished.connect(self._release)

    @Slot()
    def _release(self) -> None:
        """A worker thread ended: stop counting the ended workers as alive, and let go of
        them once the signals they queued before have been delivered.

        Everything an ended worker emitted is already in the GUI thread's event queue, but
        may sit behind this call (another job's thread may have ended first). Dropping the
        last reference now would destroy the worker while its queued ``finished`` still
        names it as sender; so the drop is queued too, behind them (posted events are
        delivered in order)."""
        ended = [w for w in self._alive if w.thread is None or w.thread.isFinished()]
        if not ended:
            return
        self._alive.difference_update(ended)
        self._dropLater.emit(ended)

    @Slot(object)
    def _drop(self, workers: list[JobWorker]) -> None:
        """The queued end of :meth:`_release`: the event held the last references."""
        workers.clear()

    # --- internals --------------------------------------------------------------------------
    def _conflicting(self, kind: str, scope: Hashable | None) -> list[Job]:
        return [
            j
            for j in self._jobs
            if j.scope == scope and j.state != "queued" and conflicts(kind, j.kind)
        ]

    def _start(self, job: Job) -> None:
        job.state = "running"
        job.worker.holder = self
        self.jobChanged.emit(job)
        job.worker.start()

    def _remove(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
            self._by_worker.pop(id(job.worker), None)
            job.state = "ended"
            if job.relay is not None:  # Qt discards signals still queued for it
                job.relay.deleteLater()
                job.relay = None
            self.jobRemoved.emit(job)

    def _job_progress(self, job: Job, done: int, total: int, text: str) -> None:
        if job not in self._jobs:
            return
        job.done, job.total, job.text = done, total, text
        self.jobChanged.emit(job)

    def _job_ended(self, job: Job) -> None:
        if job not in self._jobs:
            return
        self._remove(job)
        self._start_ready()

    def _start_ready(self) -> None:
        for job in [j for j in self._jobs if j.state == "queued"]:
            if not self._conflicting(job.kind, job.scope):
                self._start(job)
