"""workers.jobs.JobService: one policy table, queueing, refusal, cancel, keep-alive, the bar."""

from __future__ import annotations

import gc
import os
import threading
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fashionseg_gui.workers.base import JobWorker  # noqa: E402
from fashionseg_gui.workers.jobs import (  # noqa: E402
    POLICY,
    QUEUE,
    REFUSE,
    REPLACE,
    JobRefused,
    JobService,
    conflicts,
)


def _blocked(
    gate: threading.Event, started: threading.Event | None = None, *, cancel_token, on_progress
):
    """Runs until ``gate`` is set or the job is cancelled."""
    if started is not None:
        started.set()
    on_progress(1, 3, "working")
    while not gate.wait(0.01):
        cancel_token.raise_if_cancelled()
    return "done"


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def watch(self, worker: JobWorker, name: str) -> JobWorker:
        worker.finished.connect(lambda r: self.events.append(f"{name} finished {r}"))
        worker.cancelled.connect(lambda: self.events.append(f"{name} cancelled"))
        worker.failed.connect(lambda m: self.events.append(f"{name} failed {m}"))
        return worker


@pytest.fixture
def service(qtbot):
    svc = JobService()
    yield svc
    svc.stop(msecs=10000)


def test_policy_table_is_consistent() -> None:
    for kind, rule in POLICY.items():
        assert rule.when_busy in (QUEUE, REFUSE, REPLACE), kind
        assert rule.conflicts <= POLICY.keys(), f"{kind}: unknown kinds in its conflicts"
    for a in POLICY:
        for b in POLICY:
            assert conflicts(a, b) == conflicts(b, a)
    # The project-wide rules the app relies on.
    assert conflicts("delete class", "train") and POLICY["delete class"].when_busy == REFUSE
    assert conflicts("import", "import") and POLICY["import"].when_busy == QUEUE
    assert conflicts("train", "predict") and POLICY["predict"].when_busy == REFUSE
    assert not conflicts("import", "train")  # photos may be imported while a model trains
    assert POLICY["delete class"].locks_editing


def test_second_import_queues_behind_the_first(qtbot, service) -> None:
    rec = Recorder()
    gate1, gate2 = threading.Event(), threading.Event()
    first = rec.watch(JobWorker(_blocked, gate1, name="import"), "first")
    second = rec.watch(JobWorker(_blocked, gate2, name="import"), "second")
    job1 = service.submit(first, "import", scope="project-a")
    job2 = service.submit(second, "import", scope="project-a")
    assert job1.state == "running" and job2.state == "queued"
    assert second.thread is None  # not started while the first runs
    assert "waiting" in job2.describe()
    other = rec.watch(JobWorker(_blocked, gate2, name="import"), "other project")
    assert service.submit(other, "import", scope="project-b").state == "running"
    gate1.set()
    qtbot.waitUntil(lambda: job2.state == "running", timeout=10000)
    assert rec.events[0] == "first finished done"
    gate2.set()
    qtbot.waitUntil(lambda: not service.jobs(), timeout=10000)
    assert sorted(rec.events) == [
        "first finished done",
        "other project finished done",
        "second finished done",
    ]


def test_class_deletion_is_refused_while_training_reads_the_project(qtbot, service) -> None:
    gate = threading.Event()
    training = JobWorker(_blocked, gate, name="training")
    service.submit(training, "train", scope="p")
    assert (
        service.check("delete class", "p")
        == "Class deletion cannot start while training is running"
    )
    deleting = JobWorker(_blocked, gate, name="delete")
    with pytest.raises(JobRefused, match="while training is running"):
        service.submit(deleting, "delete class", scope="p")
    assert deleting.thread is None and len(service.jobs()) == 1
    assert service.check("delete class", "another project") is None
    with pytest.raises(JobRefused):  # and the other way round
        service.submit(JobWorker(_blocked, gate), "predict", scope="p")
    gate.set()
    qtbot.waitUntil(lambda: not service.jobs(), timeout=10000)
    assert service.check("delete class", "p") is None


def test_a_new_assisted_outline_replaces_the_running_one(qtbot, service) -> None:
    rec = Recorder()
    gate = threading.Event()
    old = rec.watch(JobWorker(_blocked, gate), "old")
    service.submit(old, "grabcut", scope="editor")
    new = rec.watch(JobWorker(_blocked, gate), "new")
    job = service.submit(new, "grabcut", scope="editor")
    assert job.state == "running" and old.is_cancel_requested
    qtbot.waitUntil(lambda: "old cancelled" in rec.events, timeout=10000)
    gate.set()
    qtbot.waitUntil(lambda: "new finished done" in rec.events, timeout=10000)


def test_cancel_a_queued_and_a_running_job(qtbot, service) -> None:
    rec = Recorder()
    gate = threading.Event()
    running = rec.watch(JobWorker(_blocked, gate), "running")
    queued = rec.watch(JobWorker(_blocked, gate), "queued")
    job1 = service.submit(running, "import", scope="p")
    job2 = service.submit(queued, "import", scope="p")
    service.cancel(job2)
    assert rec.events == ["queued cancelled"] and queued.thread is None
    assert service.jobs() == [job1]
    service.cancel(job1)
    assert job1.state == "cancelling" and "stopping" in job1.describe()
    # the job leaves the list on `ended`; its `cancelled` is delivered just after
    qtbot.waitUntil(lambda: not service.jobs() and len(rec.events) == 2, timeout=10000)
    assert rec.events == ["queued cancelled", "running cancelled"]


def test_no_worker_is_collected_while_its_thread_runs(qtbot, service) -> None:
    gate, started = threading.Event(), threading.Event()
    done: list[str] = []

    def submit_and_forget() -> weakref.ref:
        worker = JobWorker(_blocked, gate, started)
        worker.finished.connect(done.append)
        service.submit(worker, "import", scope="p")
        return weakref.ref(worker)

    ref = submit_and_forget()
    assert started.wait(10)
    gc.collect()
    assert ref() is not None and service.alive_count() == 1  # held by the service
    gate.set()
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    qtbot.waitUntil(lambda: service.alive_count() == 0, timeout=10000)
    # released once its thread had ended and the signals it queued were delivered
    qtbot.waitUntil(lambda: gc.collect() >= 0 and ref() is None, timeout=10000)
    assert done == ["done"]


def test_a_worker_outlives_the_signals_it_queued(qtbot, service) -> None:
    """Another job's thread may end first and release this ended worker while its own
    signals still wait in the queue: the owner's slot must still find it as sender, and the
    service must take its progress and end without asking Qt for the sender."""
    from PySide6.QtCore import QObject, Slot

    class Owner(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.senders: list[str] = []

        @Slot(object)
        def on_finished(self, result) -> None:
            sender = self.sender()
            self.senders.append(getattr(sender, "name", repr(sender)))

    owner = Owner()
    changes: list[str] = []
    service.jobChanged.connect(lambda job: changes.append(job.text))

    def submit_and_forget() -> weakref.ref:
        gate = threading.Event()
        gate.set()
        worker = JobWorker(_blocked, gate, name="quick")
        worker.finished.connect(owner.on_finished)
        service.submit(worker, "import", scope="p")
        return weakref.ref(worker)

    ref = submit_and_forget()
    assert ref() is not None
    ref().wait(10000)  # everything it emitted is queued, nothing delivered yet
    service._release()  # as another job's thread.finished would, ahead of those signals
    gc.collect()
    assert service.alive_count() == 0
    qtbot.waitUntil(lambda: bool(owner.senders), timeout=10000)
    assert owner.senders == ["quick"]
    assert "working" in changes and not service.jobs()
    qtbot.waitUntil(lambda: gc.collect() >= 0 and ref() is None, timeout=10000)


def test_a_worker_started_alone_is_held_by_the_shared_service(qtbot) -> None:
    gate, started = threading.Event(), threading.Event()
    shared = JobService.shared()
    before = shared.alive_count()
    worker = JobWorker(_blocked, gate, started)
    worker.start()
    assert worker.holder is shared and shared.alive_count() == before + 1
    ref = weakref.ref(worker)
    del worker
    gc.collect()
    assert ref() is not None
    gate.set()
    qtbot.waitUntil(lambda: shared.alive_count() == before, timeout=10000)


def test_jobs_bar_lists_every_job_with_its_own_cancel(qtbot, service) -> None:
    from PySide6.QtWidgets import QWidget

    from fashionseg_gui.views.jobs_bar import JobsBar

    host = QWidget()  # as in the status bar: a child shown with its window
    qtbot.addWidget(host)
    bar = JobsBar(service, host)
    host.show()
    assert not bar.isVisible()  # nothing runs
    gate = threading.Event()
    rec = Recorder()
    training = rec.watch(JobWorker(_blocked, gate), "training")
    imp = rec.watch(JobWorker(_blocked, gate), "import")
    service.submit(training, "train", scope="p")
    service.submit(imp, "import", scope="p", label="Import")
    assert bar.isVisible() and bar.more_button.text() == "+1"
    qtbot.waitUntil(lambda: bar.progress.format() == "Import 1/3", timeout=10000)
    assert bar.progress.toolTip() == "Import: working (1/3)"
    rows = bar.rows()
    assert [r.job.kind for r in rows] == ["train", "import"]
    for row in rows:  # a long text stays on one line, cut to the bar's width
        row.bar.setMinimumWidth(0)
        row.bar.resize(60, row.bar.height())
        shown = row.bar.text()
        assert shown.endswith("…") and row.bar.toolTip() == row.job.describe()
        assert row.bar.fontMetrics().horizontalAdvance(shown) <= row.bar.contentsRect().width()
    rows[0].cancel_button.click()  # cancel the training from its row; the import goes on
    qtbot.waitUntil(lambda: [r.job.kind for r in bar.rows()] == ["import"], timeout=10000)
    qtbot.waitUntil(lambda: "training cancelled" in rec.events, timeout=10000)
    assert not bar.more_button.isVisible()
    bar.cancel_button.click()  # the bar's own button: the job it shows
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=10000)
    assert rec.events == ["training cancelled", "import cancelled"]


def test_a_quick_assisted_outline_does_not_flash_in_the_bar(qtbot, service) -> None:
    from PySide6.QtWidgets import QWidget

    from fashionseg_gui.views.jobs_bar import JobsBar

    host = QWidget()
    qtbot.addWidget(host)
    bar = JobsBar(service, host)
    host.show()
    gate = threading.Event()
    service.submit(JobWorker(_blocked, gate), "grabcut", scope="editor")
    assert POLICY["grabcut"].show_after_ms > 0
    assert not bar.isVisible() and bar.rows() == []  # not yet: it may end at once
    qtbot.waitUntil(bar.isVisible, timeout=5000)  # a long one shows, with its cancel
    assert bar.progress.format().startswith("Assisted outline")
    bar.cancel_button.click()
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=10000)
