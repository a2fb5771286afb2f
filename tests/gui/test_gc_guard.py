"""workers.gc_guard: once worker threads run, cyclic garbage is collected on the GUI thread
only (a collection on a worker destroyed Qt objects there and crashed the process)."""

from __future__ import annotations

import gc
import threading

from fashionseg_gui.core import gcpause
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.gc_guard import collect_on_gui_thread


class _Cycle:
    """A piece of cyclic garbage that records the thread that collected it."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def _churn(seen: list[str], *, cancel_token, on_progress) -> list[list[int]]:
    _Cycle(seen)  # garbage at once: only a collection frees it
    return [[i] for i in range(50_000)]  # kept: far past the first generation's threshold


def test_garbage_made_by_a_worker_is_collected_on_the_gui_thread(qtbot) -> None:
    seen: list[str] = []
    done: list[list[list[int]]] = []
    worker = JobWorker(_churn, seen)
    worker.finished.connect(done.append)
    worker.start()
    assert not gc.isenabled()  # no automatic collection in any thread now
    qtbot.waitUntil(lambda: bool(done) and bool(seen), timeout=10_000)
    assert worker.wait(10_000)
    assert seen == [threading.main_thread().name]


def test_the_gui_collector_waits_while_a_job_pauses_collection(qtbot) -> None:
    collector = collect_on_gui_thread()
    assert collector is not None
    seen: list[str] = []
    with gcpause.paused():
        _Cycle(seen)
        junk = [[i] for i in range(5_000)]
        collector.check()
        assert seen == [] and len(junk) == 5_000
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)  # the timer's next check
    assert seen == [threading.main_thread().name]


def test_a_collection_asked_for_by_a_job_runs_on_the_gui_thread_after_it(qtbot) -> None:
    collector = collect_on_gui_thread()
    assert collector is not None
    seen: list[str] = []
    gc.collect()  # the counts start low: the thresholds alone would not collect
    with gcpause.frozen():  # a training job holds its objects frozen until it ends
        _Cycle(seen)
        worker = threading.Thread(target=gcpause.collect_soon)  # core.train's end
        worker.start()
        worker.join(10)
        collector.check()
        assert seen == []
    collector.check()
    assert seen == [threading.main_thread().name]
