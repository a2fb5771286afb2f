"""The training worker: signal order, batch coalescing, cancel within one batch, failures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.workers.training import TrainingWorker  # noqa: E402

#: A 2-level U-Net on 32x48 photos: seconds per epoch on a laptop CPU.
TINY = {"epochs": 2, "batch_size": 2, "learning_rate": 5e-3, "input_height": 32,
        "input_width": 48, "depth": 2, "base_width": 4, "early_stopping_patience": 0}


def make_tiny_project(root: Path, n: int = 5, labelled: int = 5) -> Project:
    """``n`` synthetic 32x48 photos (a red and a blue box on grey); the first ``labelled`` have masks."""
    project = Project.create(root / "tiny", [("background", "#000000"), ("red", "#ff0000"),
                                             ("blue", "#0000ff")])
    rng = np.random.default_rng(1)
    for i in range(n):
        photo = np.full((32, 48, 3), 90, np.uint8)
        mask = np.zeros((32, 48), np.uint8)
        for cls, color in ((1, (230, 20, 20)), (2, (20, 20, 230))):
            y, x = int(rng.integers(0, 20)), int(rng.integers(0, 34))
            photo[y:y + 12, x:x + 14] = color
            mask[y:y + 12, x:x + 14] = cls
        path = root / f"src{i}.png"
        Image.fromarray(photo).save(path)
        image_id = project.add_image_file(path, source="test").image_id
        if i < labelled:
            project.write_mask(image_id, mask)
    project.save()
    return project


@pytest.fixture
def tiny_project(tmp_path: Path):
    project = make_tiny_project(tmp_path)
    yield project
    project.close()


def _collect(worker: TrainingWorker) -> list[dict]:
    events: list[dict] = []
    worker.metrics.connect(events.append)
    return events


def test_batch_events_are_coalesced_to_the_rate_limit(tiny_project):
    """1000 batch callbacks in a burst become 1-2 signals that still carry every loss."""
    worker = TrainingWorker(TINY, tiny_project, batch_interval=0.1)
    emitted: list[dict] = []
    worker.metrics.connect(emitted.append)
    worker._on_progress({"event": "start", "epochs": 2})
    for b in range(1000):
        worker._on_progress({"event": "batch", "epoch": 1, "batch": b + 1, "batches": 1000,
                             "loss": 1.0 / (b + 1), "acc": 0.5})
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
    events = _collect(worker)
    progress: list[tuple[int, int, str]] = []
    worker.progress.connect(lambda d, t, s: progress.append((d, t, s)))
    failures: list[str] = []
    worker.failed.connect(failures.append)
    with qtbot.waitSignal(worker.finished, timeout=180_000) as blocker:
        worker.start()
    assert worker.wait(10_000)
    assert not failures
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end", kinds
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    # Batches of epoch k come after the start and before epoch k's summary.
    first_epoch = kinds.index("epoch")
    assert "batch" in kinds[1:first_epoch]
    for e in epochs:
        assert {"loss", "val_loss", "val_miou", "baseline_miou", "per_class_iou",
                "confusion"} <= set(e)
        assert len(e["per_class_iou"]) == 3
        assert np.asarray(e["confusion"]).shape == (3, 3)
    assert progress and progress[-1][0] == worker.steps
    result = blocker.args[0]
    assert not getattr(result, "cancelled", False)
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
    events = _collect(worker)
    t0 = time.monotonic()
    with qtbot.waitSignal(worker.cancelled, timeout=180_000):
        worker.start()
    assert worker.wait(30_000)
    assert worker.steps - worker.steps_at_cancel <= 1
    assert sum(e["event"] == "epoch" for e in events) <= 1
    assert time.monotonic() - t0 < 120


def test_gui_stop_cancels_a_running_training(qtbot, tiny_project):
    """Stop from the GUI thread while batches run: the worker ends soon, cancelled."""
    worker = TrainingWorker(dict(TINY, epochs=500, batch_size=1), tiny_project)
    events = _collect(worker)
    worker.start()
    qtbot.waitUntil(lambda: any(e["event"] == "batch" for e in events), timeout=180_000)
    with qtbot.waitSignal(worker.cancelled, timeout=30_000):
        worker.cancel()
    assert worker.wait(30_000)
    assert sum(e["event"] == "epoch" for e in events) < 500


def test_training_without_labelled_images_fails_with_a_message(qtbot, tmp_path):
    project = make_tiny_project(tmp_path, n=2, labelled=0)
    worker = TrainingWorker(TINY, project)
    with qtbot.waitSignal(worker.failed, timeout=180_000) as blocker:
        worker.start()
    assert worker.wait(10_000)
    message = blocker.args[0]
    assert "labelled" in message and "\n" not in message
    project.close()


def test_unwritable_runs_folder_fails_with_a_message(qtbot, tiny_project):
    runs = tiny_project.runs_dir
    runs.rmdir()
    runs.write_text("not a folder")  # blocks the run folder even for root
    worker = TrainingWorker(TINY, tiny_project)
    with qtbot.waitSignal(worker.failed, timeout=180_000) as blocker:
        worker.start()
    assert worker.wait(10_000)
    assert blocker.args[0]
