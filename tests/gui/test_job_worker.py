"""workers.base.JobWorker: a core job on a QThread, reported through signals."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from fashionseg_gui.workers.base import JobWorker

# qtbot.waitSignal's slot runs in the thread that emits (the job's thread, on purpose here)
# and stops the blocker's own timeout timer there; the app's receivers are GUI-thread QObjects.
pytestmark = pytest.mark.qt_log_ignore(
    r"^QObject::killTimer: Timers cannot be stopped from another thread$"
)


def _count(n, *, cancel_token, on_progress):
    for i in range(n):
        cancel_token.raise_if_cancelled()
        on_progress(i + 1, n, f"item {i}")
        time.sleep(0.01)
    on_progress({"done": n, "thread": threading.current_thread().name})
    return n * 2


def test_progress_metrics_and_result_in_order(qtbot) -> None:
    job = JobWorker(_count, 5, name="count")
    seen: list[str] = []
    metrics: list[dict] = []
    job.progress.connect(lambda d, t, s: seen.append(f"p{d}/{t}"))
    job.metrics.connect(metrics.append)
    job.finished.connect(lambda r: seen.append(f"result {r}"))
    with qtbot.waitSignal(job.finished, timeout=10000):
        job.start()
    assert seen[-1] == "result 10" and seen[-2] == "p5/5"
    assert metrics[0]["done"] == 5
    assert metrics[0]["thread"] != threading.current_thread().name
    assert job.wait(5000)


def test_exception_becomes_failed_message(qtbot) -> None:
    def boom(*, cancel_token, on_progress):
        raise ValueError("the training data has no labelled image")

    job = JobWorker(boom)
    with qtbot.waitSignal(job.failed, timeout=10000) as blocker:
        job.start()
    assert blocker.args == ["the training data has no labelled image"]


def test_cancel_stops_at_the_next_check(qtbot) -> None:
    job = JobWorker(_count, 10_000)
    job.progress.connect(lambda d, t, s: job.cancel() if d >= 3 else None)
    with qtbot.waitSignal(job.cancelled, timeout=10000):
        job.start()
    assert job.wait(5000)


def test_dropping_the_job_when_it_finishes_is_safe(qtbot) -> None:
    done: list[int] = []

    def start_and_forget() -> None:
        job = JobWorker(_count, 2)
        job.finished.connect(done.append)
        job.start()

    start_and_forget()
    gc.collect()
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    gc.collect()
    qtbot.wait(100)  # the thread ends and the keeper releases the job without an abort
    assert done == [4]
