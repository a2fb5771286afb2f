"""core.train: learning on a tiny synthetic set, cancel, resume, config, project source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic import CLASSES, synthetic_samples

from fashionseg_gui.core.cancel import Cancelled, CancelSource
from fashionseg_gui.core.train import TrainConfig, TrainData, TrainError, train

TINY = dict(
    batch_size=2,
    input_height=32,
    input_width=48,
    depth=2,
    base_width=8,
    learning_rate=1e-2,
    warmup_fraction=0.0,
    augment_rotate=False,
    augment_scale=False,
    augment_color=False,
    early_stopping_patience=None,
)


def _data(n_train: int = 8, n_val: int = 2) -> TrainData:
    s = synthetic_samples(n_train + n_val)
    return TrainData(s[:n_train], s[n_train:], CLASSES)


def test_small_dataset_is_repeated_to_the_minimum_steps_per_epoch(tmp_path: Path) -> None:
    events: list[dict] = []
    train(
        TrainConfig(epochs=1, min_steps_per_epoch=7, **TINY),
        _data(),
        on_progress=events.append,
        run_dir=tmp_path / "run",
    )  # 8 photos, batch 2: 4 steps, raised to 7
    batches = [e for e in events if e["event"] == "batch"]
    assert len(batches) == 7 and batches[0]["batches"] == 7
    with pytest.raises(TrainError, match="min steps per epoch"):
        TrainConfig(min_steps_per_epoch=0)


def test_the_run_s_network_is_freed_when_training_returns(tmp_path: Path, monkeypatch) -> None:
    """The network, datasets and photo cache sit in reference cycles: without a collection
    at the end they stayed until the collector's next full pass (383 MB after a default
    run), while the caller already loaded its next model."""
    import gc

    import keras

    from fashionseg_gui.core import gcpause

    monkeypatch.setattr(gcpause, "_manual", False)  # the command line (a GUI: test_gc_guard)
    before = {id(o) for o in gc.get_objects() if isinstance(o, keras.Model)}
    was_enabled = gc.isenabled()
    gc.disable()  # only the training's own collection may free it
    try:
        train(TrainConfig(epochs=1, min_steps_per_epoch=1, **TINY), _data(), run_dir=tmp_path)
        left = [o for o in gc.get_objects() if isinstance(o, keras.Model) and id(o) not in before]
    finally:
        if was_enabled:
            gc.enable()
    assert left == []


def test_loss_falls_and_run_folder(tmp_path: Path) -> None:
    events: list[dict] = []
    result = train(
        TrainConfig(epochs=2, min_steps_per_epoch=1, **TINY),
        _data(),
        on_progress=events.append,
        run_dir=tmp_path / "run",
    )
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert epochs[1]["loss"] < epochs[0]["loss"]
    assert events[0]["event"] == "prepare" and events[-1]["event"] == "end"
    batches = [e for e in events if e["event"] == "batch"]
    assert len(batches) == 8 and batches[0]["batches"] == 4
    for k, epoch in enumerate(epochs):  # each batch's own loss; they average to the epoch's
        own = [b["loss"] for b in batches[4 * k : 4 * k + 4]]
        assert np.mean(own) == pytest.approx(epoch["loss"], rel=1e-3)
        assert batches[4 * k + 3]["mean_loss"] == pytest.approx(epoch["loss"], rel=1e-5)
    e = epochs[-1]
    assert len(e["per_class_iou"]) == 3 and np.array(e["confusion"]).shape == (3, 3)
    assert 0.0 <= e["baseline_miou"] <= 1.0 and e["eta_s"] == 0.0
    assert result.stopped == "completed" and not result.cancelled and result.epochs_run == 2
    for name in (
        "config.json",
        "history.csv",
        "metrics.json",
        "state.json",
        "dataset.json",
        "checkpoints/best.keras",
        "checkpoints/last.keras",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 3


def test_cancel_stops_within_one_batch(tmp_path: Path) -> None:
    source = CancelSource()
    events: list[dict] = []

    def on_progress(event: dict) -> None:
        events.append(event)
        if event["event"] == "batch":
            source.cancel()

    result = train(
        TrainConfig(epochs=3, **TINY), _data(), source.token, on_progress, tmp_path / "run"
    )
    assert sum(e["event"] == "batch" for e in events) == 1
    assert not any(e["event"] == "epoch" for e in events)
    assert result.cancelled and result.stopped == "cancelled"


def test_cancel_before_start_raises_during_preparation(tmp_path: Path) -> None:
    source = CancelSource()
    source.cancel()
    with pytest.raises(Cancelled):
        train(TrainConfig(epochs=1, **TINY), _data(), source.token, None, tmp_path / "run")


def test_resume_starts_from_checkpoint(tmp_path: Path) -> None:
    import keras

    first = train(TrainConfig(epochs=2, **TINY), _data(), run_dir=tmp_path / "a")
    before = keras.saving.load_model(first.run_dir / "checkpoints" / "last.keras", compile=False)
    events: list[dict] = []
    cfg = TrainConfig(epochs=1, resume_from=str(first.run_dir), **{**TINY, "learning_rate": 1e-9})
    train(cfg, _data(), on_progress=events.append, run_dir=tmp_path / "b")
    after = keras.saving.load_model(tmp_path / "b" / "checkpoints" / "last.keras", compile=False)
    # with a negligible learning rate the resumed trainable weights are the checkpoint's
    fresh = keras.saving.load_model(tmp_path / "a" / "checkpoints" / "best.keras", compile=False)
    for w0, w1 in zip(before.trainable_weights, after.trainable_weights, strict=True):
        np.testing.assert_allclose(np.asarray(w0), np.asarray(w1), atol=1e-5)
    assert any(
        not np.allclose(np.asarray(a), np.asarray(b))
        for a, b in zip(
            fresh.trainable_weights, keras.models.clone_model(fresh).trainable_weights, strict=True
        )
    )
    with pytest.raises(TrainError, match="no checkpoint"):
        train(
            TrainConfig(epochs=1, resume_from=str(tmp_path / "none"), **TINY),
            _data(),
            run_dir=tmp_path / "c",
        )
    bad = TrainConfig(epochs=1, resume_from=str(first.run_dir), **{**TINY, "base_width": 4})
    with pytest.raises(TrainError, match="does not match"):
        train(bad, _data(), run_dir=tmp_path / "d")


def test_config_dict_roundtrip_and_validation() -> None:
    cfg = TrainConfig(epochs=3, loss="weighted_ce", mixed_precision="bf16")
    again = TrainConfig.from_dict({**cfg.to_dict(), "unknown_key": 1})
    assert again == cfg
    for bad in (
        {"epochs": 0},
        {"loss": "focal"},
        {"strategy": "tpu"},
        {"depth": 9},
        {"input_height": 8, "depth": 4},
        {"mixed_precision": "fp8"},
        {"stem_stride": 3},
        {"decoder": "fpn"},
        {"input_height": 16, "depth": 2, "stem_stride": 8},
    ):
        with pytest.raises(TrainError):
            TrainConfig(**bad)


def test_multiworker_without_tf_config_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(TrainError, match="TF_CONFIG"):
        train(
            TrainConfig(epochs=1, strategy="multiworker", **TINY), _data(), run_dir=tmp_path / "r"
        )


def test_train_on_project_writes_splits(tmp_path: Path) -> None:
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(
        tmp_path / "proj", [("background", "#000000"), ("red", "#ff0000"), ("green", "#00ff00")]
    )
    for k, s in enumerate(synthetic_samples(6, seed=4)):
        path = tmp_path / f"p{k}.png"
        Image.fromarray(s.load_image()).save(path)
        image_id = project.add_image_file(path).image_id
        project.write_mask(image_id, s.load_mask())
    events: list[dict] = []
    result = train(
        TrainConfig(epochs=1, weight_decay=0.0, **{**TINY, "loss": "weighted_ce"}),
        project,
        on_progress=events.append,
    )
    assert result.run_dir.parent == project.runs_dir
    splits = [r.split for r in project.images.values()]
    assert set(splits) == {"train", "val"}
    reopened = Project.open(tmp_path / "proj", read_only=True)
    assert [r.split for r in reopened.images.values()] == splits
    assert events[1]["event"] == "start" or any(e["event"] == "start" for e in events)


def test_mirrored_strategy_single_device(tmp_path: Path) -> None:
    result = train(
        TrainConfig(epochs=1, strategy="mirrored", mixed_precision="off", **TINY),
        _data(4, 2),
        run_dir=tmp_path / "m",
    )
    assert result.stopped == "completed" and result.best_epoch == 1


def test_checkpoints_are_atomic_and_best_keeps_the_best_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    import fashionseg_gui.core.train as T

    monkeypatch.setattr(T, "CHECKPOINT_INTERVAL_S", 0.0)  # write at every epoch
    result = train(TrainConfig(epochs=3, **TINY), _data(), None, None, tmp_path / "run")
    ckpt = tmp_path / "run" / "checkpoints"
    assert (ckpt / "best.keras").is_file() and (ckpt / "last.keras").is_file()
    assert not list(ckpt.glob(".*partial*"))
    best = keras.saving.load_model(ckpt / "best.keras", compile=False)
    epochs_val = [row["val_miou"] for row in result.history]
    assert result.best_epoch == 1 + int(np.argmax(epochs_val))
    if result.best_epoch == len(epochs_val):  # best is the last epoch: both files agree
        last = keras.saving.load_model(ckpt / "last.keras", compile=False)
        for a, b in zip(best.get_weights(), last.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_stop_in_epoch_one_keeps_the_current_weights(tmp_path: Path) -> None:
    import keras

    from fashionseg_gui.core import runs as R
    from fashionseg_gui.core.predict import Predictor

    source = CancelSource()

    def on_progress(event: dict) -> None:
        if event["event"] == "batch" and event["batch"] == 2:
            source.cancel()

    result = train(
        TrainConfig(epochs=3, **TINY), _data(), source.token, on_progress, tmp_path / "run"
    )
    assert result.cancelled and result.epochs_run == 0
    assert result.metrics["model_kept"] and result.metrics["steps_run"] == 2
    assert R.has_model(result.run_dir) and (result.run_dir / R.LAST).is_file()
    best = keras.saving.load_model(result.run_dir / R.BEST, compile=False)
    last = keras.saving.load_model(result.run_dir / R.LAST, compile=False)
    for a, b in zip(best.weights, last.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    ids, _ = Predictor(result.run_dir).predict(np.zeros((20, 30, 3), np.uint8))
    assert ids.shape == (20, 30)
    assert R.read_run(result.run_dir)["model_kept"] is True


def test_stop_after_an_epoch_keeps_the_best_epoch(tmp_path: Path) -> None:
    from fashionseg_gui.core import runs as R

    source = CancelSource()

    def on_progress(event: dict) -> None:
        if event["event"] == "batch" and event["epoch"] == 2:
            source.cancel()

    result = train(
        TrainConfig(epochs=3, min_steps_per_epoch=1, **TINY),
        _data(),
        source.token,
        on_progress,
        tmp_path / "run",
    )
    assert result.cancelled and result.epochs_run == 1 and result.best_epoch == 1
    assert result.metrics["model_kept"] and R.has_model(result.run_dir)
    assert R.created(result.run_dir) is not None


def test_a_fine_tune_keeps_the_checkpoints_position_channel(tmp_path: Path) -> None:
    """Runs trained before the row-position channel became the default can still be
    fine-tuned: the new run follows the checkpoint's input channels."""
    old = train(
        TrainConfig(epochs=1, position_channel=False, **TINY), _data(), run_dir=tmp_path / "a"
    )
    assert TrainConfig().position_channel  # the default now has the channel
    tuned = train(
        TrainConfig(epochs=1, resume_from=str(old.run_dir), **TINY), _data(), run_dir=tmp_path / "b"
    )
    from fashionseg_gui.core.serving import load_model_file

    names = {
        layer.name for layer in load_model_file(tuned.run_dir / "checkpoints" / "best.keras").layers
    }
    assert "row_position" not in names
    fresh = train(TrainConfig(epochs=1, **TINY), _data(), run_dir=tmp_path / "c")
    names = {
        layer.name for layer in load_model_file(fresh.run_dir / "checkpoints" / "best.keras").layers
    }
    assert "row_position" in names
