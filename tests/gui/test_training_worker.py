"""The training worker: signal order, batch coalescing, cancel within one batch, failures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, QThread, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from tiny_project import make_tiny_project  # noqa: E402

from fashionseg_gui.workers.training import TrainingWorker  # noqa: E402

#: A 2-level U-Net on 32x48 photos: seconds per epoch on a laptop CPU.
TINY = {
    "epochs": 2,
    "batch_size": 2,
    "learning_rate": 5e-3,
    "input_height": 32,
    "input_width": 48,
    "depth": 2,
    "base_width": 4,
    "early_stopping_patience": None,
}


@pytest.fixture
def tiny_project(tmp_path: Path):
    project = make_tiny_project(tmp_path, n=5, labelled=5)
    yield project
    project.close()


class Recorder(QObject):
    """Receives a worker's signals in the GUI thread (queued, in emission order).

    A QObject slot is what the panel uses; plain Python callables would run on the
    emitting (training) thread instead.
    """

    def __init__(self, worker: TrainingWorker) -> None:
        super().__init__()
        self.log: list[tuple[str, object]] = []
        self.off_gui_thread = 0
        worker.metrics.connect(self.on_metrics)
        worker.progress.connect(self.on_progress)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)
        worker.cancelled.connect(self.on_cancelled)

    def _add(self, name: str, value: object) -> None:
        if QThread.currentThread() is not QApplication.instance().thread():
            self.off_gui_thread += 1
        self.log.append((name, value))

    @Slot(dict)
    def on_metrics(self, m: dict) -> None:
        self._add("metrics", m)

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, text: str) -> None:
        self._add("progress", (done, total, text))

    @Slot(object)
    def on_finished(self, result: object) -> None:
        self._add("finished", result)

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self._add("failed", message)

    @Slot()
    def on_cancelled(self) -> None:
        self._add("cancelled", None)

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.log)

    def values(self, name: str) -> list:
        return [v for n, v in self.log if n == name]

    def events(self) -> list[dict]:
        return self.values("metrics")


def _run(qtbot, worker: TrainingWorker, until: str, timeout: int = 180_000) -> Recorder:
    rec = Recorder(worker)
    worker.start()
    qtbot.waitUntil(lambda: rec.has(until) or rec.has("failed"), timeout=timeout)
    assert worker.wait(30_000), "the worker thread did not end"
    QApplication.processEvents()  # deliver what was queued last
    assert rec.off_gui_thread == 0
    return rec


def test_batch_events_are_coalesced_to_the_rate_limit(tiny_project):
    """1000 batch callbacks in a burst become 1-2 signals that still carry every loss."""
    worker = TrainingWorker(TINY, tiny_project, batch_interval=0.1)
    emitted: list[dict] = []
    worker.metrics.connect(emitted.append)
    worker._on_progress({"event": "start", "epochs": 2})
    for b in range(1000):
        worker._on_progress(
            {
                "event": "batch",
                "epoch": 1,
                "batch": b + 1,
                "batches": 1000,
                "loss": 1.0 / (b + 1),
                "acc": 0.5,
            }
        )
    worker._on_progress({"event": "epoch", "epoch": 1, "epochs": 2, "loss": 0.1})
    kinds = [e["event"] for e in emitted]
    assert kinds[0] == "start" and kinds[-1] == "epoch"
    batch_signals = [e for e in emitted if e["event"] == "batch"]
    assert 1 <= len(batch_signals) <= 3  # the first at once, then at most one per 0.1 s
    losses = [p for e in batch_signals for p in e["losses"]]
    assert len(losses) == 1000
    assert losses[-1] == [1.0, pytest.approx(1e-3)]
    assert batch_signals[-1]["batch"] == 1000 and batch_signals[-1]["step"] == 1000


def test_signals_arrive_in_order(qtbot, tiny_project):
    worker = TrainingWorker(TINY, tiny_project)
    rec = _run(qtbot, worker, "finished")
    assert not rec.has("failed"), rec.values("failed")
    names = [n for n, _ in rec.log]
    assert names[-1] == "finished" and names.count("finished") == 1
    kinds = [e["event"] for e in rec.events()]
    # Photo preparation reports come first, then start, batches, epochs, end.
    first_start = kinds.index("start")
    assert set(kinds[:first_start]) <= {"prepare"}
    kinds = kinds[first_start:]
    assert kinds.count("start") == 1 and kinds[-1] == "end", kinds
    epochs = [e for e in rec.events() if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    # Batches of epoch k come after the start and before epoch k's summary.
    for k in (1, 2):
        i_epoch = kinds.index("epoch") if k == 1 else len(kinds) - 1 - kinds[::-1].index("epoch")
        batches = [e for e in rec.events()[first_start:][:i_epoch] if e["event"] == "batch"]
        assert batches and batches[-1]["epoch"] == k
    for e in epochs:
        assert {
            "loss",
            "val_loss",
            "val_miou",
            "baseline_miou",
            "per_class_iou",
            "confusion",
        } <= set(e)
        assert len(e["per_class_iou"]) == 3
        assert np.asarray(e["confusion"]).shape == (3, 3)
    progress = rec.values("progress")
    assert progress and progress[-1][0] == worker.steps
    result = rec.values("finished")[0]
    assert not result.cancelled
    run_dir = Path(result.run_dir)
    assert (run_dir / "metrics.json").is_file() and (run_dir / "history.csv").is_file()


class _CancelAtSecondBatch(TrainingWorker):
    """Requests cancellation from the training thread itself, right after batch 2."""

    def _on_progress(self, *args):
        super()._on_progress(*args)
        event = args[0] if args and isinstance(args[0], dict) else {}
        if event.get("event") == "batch" and self.steps == 2:
            self.steps_at_cancel = self.steps
            self.cancel()


def test_cancel_stops_within_one_batch(qtbot, tiny_project):
    cfg = dict(TINY, epochs=50, batch_size=1)
    worker = _CancelAtSecondBatch(cfg, tiny_project)
    t0 = time.monotonic()
    rec = _run(qtbot, worker, "cancelled")
    assert rec.has("cancelled") and not rec.has("failed")
    assert worker.steps - worker.steps_at_cancel <= 1
    assert not any(e["event"] == "epoch" for e in rec.events())
    assert rec.values("finished")[0].cancelled  # the partial run is reported too
    assert time.monotonic() - t0 < 120


def test_gui_stop_cancels_a_running_training(qtbot, tiny_project):
    """Stop from the GUI thread while batches run: the worker ends soon, cancelled."""
    worker = TrainingWorker(dict(TINY, epochs=500, batch_size=1), tiny_project)
    rec = Recorder(worker)
    worker.start()
    qtbot.waitUntil(lambda: any(e["event"] == "batch" for e in rec.events()), timeout=180_000)
    worker.cancel()
    t_cancel = time.monotonic()
    qtbot.waitUntil(lambda: rec.has("cancelled"), timeout=30_000)
    assert time.monotonic() - t_cancel < 10
    assert worker.wait(30_000)
    assert sum(e["event"] == "epoch" for e in rec.events()) < 500


def test_training_without_labelled_images_fails_with_a_message(qtbot, tmp_path):
    project = make_tiny_project(tmp_path, n=2, labelled=0)
    rec = _run(qtbot, TrainingWorker(TINY, project), "failed")
    message = rec.values("failed")[0]
    assert "labelled" in message and "\n" not in message
    assert not rec.has("finished")
    project.close()


def test_unwritable_runs_folder_fails_with_a_message(qtbot, tiny_project):
    runs = tiny_project.runs_dir
    runs.rmdir()
    runs.write_text("not a folder")  # blocks the run folder even for root
    rec = _run(qtbot, TrainingWorker(TINY, tiny_project), "failed")
    assert "run folder" in rec.values("failed")[0]


def test_wait_returns_when_the_job_ends_while_the_gui_thread_blocks(tmp_path):
    """Closing the window blocks the GUI thread in stop(); the thread must still end."""
    project = make_tiny_project(tmp_path, n=2, labelled=0)  # fails quickly (no labels)
    worker = TrainingWorker(TINY, project)
    worker.start()
    t0 = time.monotonic()
    assert worker.stop(120_000)  # no event processing while waiting
    assert time.monotonic() - t0 < 100
    project.close()


def test_cyclic_gc_paused_until_the_first_batch_then_restored():
    import gc

    from fashionseg_gui.core import gcpause
    from fashionseg_gui.workers.training import startup_without_gc

    before = gc.isenabled()  # off for good once a GUI collects by hand (workers.gc_guard)
    assert not gcpause.is_paused() and gc.get_freeze_count() == 0
    with startup_without_gc() as started:
        # TensorFlow's import and the model build run here
        assert gcpause.is_paused() and not gc.isenabled()
        started()
        assert not gcpause.is_paused() and gc.isenabled() == before
        assert gc.get_freeze_count() > 0
        started()  # idempotent
    assert gc.isenabled() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), startup_without_gc():
        raise RuntimeError("training failed before its first batch")
    assert gc.isenabled() == before and not gcpause.is_paused()
    assert gc.get_freeze_count() == 0


def test_progress_follows_the_time_budget_when_it_ends_the_run_first(tiny_project, monkeypatch):
    """A 1-minute budget at 1 batch/s fits 60 batches: the bar and the time left say so,
    not the 30 epochs' 600 batches."""
    from fashionseg_gui.workers import training as T

    clock = [1000.0]
    monkeypatch.setattr(T.time, "monotonic", lambda: clock[0])
    worker = TrainingWorker(TINY, tiny_project, batch_interval=0.0)
    shown: list[tuple[int, int, str]] = []
    worker.progress.connect(lambda d, t, text: shown.append((d, t, text)))
    worker._on_progress(
        {"event": "start", "epochs": 30, "batches": 20, "config": {"max_minutes": 1.0}}
    )
    for b in range(1, 21):
        clock[0] += 1.0
        worker._on_progress({"event": "batch", "epoch": 1, "batch": b, "batches": 20})
    done, total, text = shown[-1]
    assert (done, total) == (20, 60)
    assert text.endswith("40 s left")
    worker._on_progress(  # without a budget: every epoch counts
        {"event": "start", "epochs": 30, "batches": 20, "config": {"max_minutes": None}}
    )
    worker._on_progress({"event": "batch", "epoch": 1, "batch": 1, "batches": 20})
    assert shown[-1][1] == 600
