"""The training run's Keras callback: progress events, cancel and time budget, the learning
rate schedule, full-resolution validation, best/last checkpoints and ``history.csv``.

:func:`fashionseg_gui.core.train.train` builds one :class:`RunCallback` per run.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from fashionseg_gui.core import data as D
from fashionseg_gui.core import model as M
from fashionseg_gui.core import runs as R
from fashionseg_gui.core.atomic import atomic_write_bytes, atomic_write_json
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.train_config import TrainConfig


class RunCallback(keras.callbacks.Callback):
    """``net`` is the full-resolution model: validated and saved. Keras' ``self.model`` is
    the model being fitted (``net`` or its low-resolution training view, same weights)."""

    def __init__(
        self,
        *,
        net: keras.Model,
        config: TrainConfig,
        val: D.CachedSet,
        num_classes: int,
        loss: M.SegmentationLoss,
        run_dir: Path,
        steps_per_epoch: int,
        cancel_token: CancelToken | None,
        emit: Callable[[dict[str, Any]], None],
        initial_epoch: int,
        checkpoint_interval_s: float = 30.0,
    ) -> None:
        super().__init__()
        self.net = net
        self.cfg = config
        self.val = val
        self.num_classes = num_classes
        self.loss_fn = loss
        self.run_dir = run_dir
        self.steps = steps_per_epoch
        self.token = cancel_token
        self.emit = emit
        self.initial_epoch = initial_epoch
        self.total_steps = max(1, steps_per_epoch * (config.epochs - initial_epoch))
        self.step = 0
        self.t0 = time.monotonic()
        self.budget = None if config.max_minutes is None else float(config.max_minutes) * 60
        self.cancelled = False
        self.time_up = False
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.history: list[dict[str, Any]] = []
        self.epoch_t0 = self.t0
        self.epoch_now = 0
        self._mean_loss = 0.0
        self.stopped = "completed"
        self._val_fn: Any = None
        self._best_weights: list[Any] | None = None  # in memory until the next checkpoint write
        self._best_dirty = False
        self._best_is_current = False  # True while no batch has run since the best epoch
        self._last_write = time.monotonic()
        self.checkpoint_interval_s = float(checkpoint_interval_s)

    # --- checkpoints ----------------------------------------------------------------------
    def _save(self, name: str) -> None:
        """``model.save`` to a temp file, then an atomic rename (a crash never tears it)."""
        ckpt = self.run_dir / "checkpoints"
        tmp = ckpt / f".{name}.partial.keras"
        self.net.save(tmp)
        os.replace(tmp, ckpt / name)

    def write_checkpoints(self) -> None:
        """Write ``last.keras`` (current weights) and, if it changed, ``best.keras``.

        Serialising a model holds the GIL for ~0.1 s; doing it every epoch of a small
        dataset stalled the GUI thread. Epochs write at most every
        ``checkpoint_interval_s`` seconds (best weights wait in memory) and ``train`` writes
        once more at the end, so a crash loses at most that interval.
        """
        self._save("last.keras")
        if self._best_weights is None and not (self.run_dir / R.BEST).is_file():
            # no validation ran yet (stopped in epoch 1): the current weights are the model
            ckpt = self.run_dir / "checkpoints"
            atomic_write_bytes(ckpt / "best.keras", (ckpt / "last.keras").read_bytes())
        elif self._best_dirty and self._best_weights is not None:
            if self._best_is_current:
                ckpt = self.run_dir / "checkpoints"  # the current weights are the best
                atomic_write_bytes(ckpt / "best.keras", (ckpt / "last.keras").read_bytes())
            else:
                current = self.net.get_weights()
                self.net.set_weights(self._best_weights)
                try:
                    self._save("best.keras")
                finally:
                    self.net.set_weights(current)
        self._best_dirty = False
        self._last_write = time.monotonic()

    # --- learning rate ------------------------------------------------------------------
    def progress(self) -> float:
        frac = self.step / self.total_steps
        if self.budget:
            frac = max(frac, (time.monotonic() - self.t0) / self.budget)
        return min(frac, 1.0)

    def lr_at(self, frac: float) -> float:
        base, warm = float(self.cfg.learning_rate), float(self.cfg.warmup_fraction)
        if self.cfg.lr_schedule == "constant":
            return base
        if warm > 0 and frac < warm:
            return base * (0.1 + 0.9 * frac / warm)
        t = (frac - warm) / max(1e-9, 1 - warm)
        return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self.lr_at(self.progress()))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_t0 = time.monotonic()
        self.epoch_now = epoch
        self._mean_loss = 0.0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        self._best_is_current = False
        logs = logs or {}
        # Keras reports the mean loss of the epoch so far; the batch's own loss is the
        # difference of two running sums (a curve of running means jumps at each epoch)
        mean = float(logs.get("loss", float("nan")))
        loss = (batch + 1) * mean - batch * self._mean_loss if batch else mean
        self._mean_loss = mean
        self.emit(
            {
                "event": "batch",
                "epoch": self.epoch_now + 1,
                "batch": batch + 1,
                "batches": self.steps,
                "loss": loss,
                "mean_loss": mean,
                "acc": float(logs.get("acc", float("nan"))),
            }
        )
        if self.token is not None and self.token.cancelled:
            self.cancelled = True
            self.stopped = "cancelled"
            self.model.stop_training = True
        elif self.budget is not None and time.monotonic() - self.t0 >= self.budget:
            self.time_up = True
            self.stopped = "time_limit"
            self.model.stop_training = True

    # --- validation ---------------------------------------------------------------------
    def validate(self) -> dict[str, Any]:
        c = self.num_classes
        cm = np.zeros((c, c), np.int64)
        loss_sum, weight = 0.0, 0.0
        bs = max(1, int(self.cfg.batch_size))
        if self._val_fn is None:  # traced once per batch shape (the letterbox size is fixed)
            self._val_fn = make_val_step(self.net, self.loss_fn, c)
        for k in range(0, len(self.val), bs):
            loss, n_valid, counts = self._val_fn(
                self.val.images[k : k + bs], self.val.masks[k : k + bs]
            )
            if float(n_valid):
                loss_sum += float(loss)
                weight += float(n_valid)
            cm += counts.numpy().reshape(c, c)
        return {
            "val_loss": loss_sum / weight if weight else float("nan"),
            "val_acc": M.pixel_accuracy(cm),
            "val_miou": M.mean_iou(cm),
            "per_class_iou": M.iou_per_class(cm),
            "confusion": cm.tolist(),
            "baseline_miou": M.background_baseline_miou(cm),
        }

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        if self.cancelled:
            return
        train_seconds = time.monotonic() - self.epoch_t0
        val: dict[str, Any] = (
            self.validate()
            if len(self.val)
            else {
                "val_loss": float("nan"),
                "val_acc": float("nan"),
                "val_miou": float("nan"),
                "per_class_iou": [],
                "confusion": [],
                "baseline_miou": float("nan"),
            }
        )
        logs.update({k: val[k] for k in ("val_loss", "val_acc", "val_miou")})
        score = float(val["val_miou"]) if len(self.val) else -float(logs.get("loss", 0.0))
        improved = self.best is None or score > self.best
        if improved:
            self.best, self.best_epoch, self.wait = score, epoch + 1, 0
            self._best_weights, self._best_dirty = self.net.get_weights(), True
            self._best_is_current = True
        else:
            self.wait += 1
        elapsed = time.monotonic() - self.t0
        done = epoch + 1 - self.initial_epoch
        left = self.cfg.epochs - (epoch + 1)
        eta = elapsed / max(done, 1) * left
        if self.budget is not None:
            eta = min(eta, max(0.0, self.budget - elapsed))
        row = {
            "event": "epoch",
            "epoch": epoch + 1,
            "epochs": self.cfg.epochs,
            "loss": float(logs.get("loss", float("nan"))),
            "val_loss": val["val_loss"],
            "acc": float(logs.get("acc", float("nan"))),
            "val_acc": val["val_acc"],
            "miou": float(logs.get("miou", float("nan"))),
            "val_miou": val["val_miou"],
            "per_class_iou": val["per_class_iou"],
            "confusion": val["confusion"],
            "baseline_miou": val["baseline_miou"],
            "seconds": train_seconds,
            "eta_s": eta,
            "lr": float(self.lr_at(self.progress())),
            "best": bool(improved),
        }
        self.history.append(row)
        if time.monotonic() - self._last_write >= self.checkpoint_interval_s:
            self.write_checkpoints()
        append_history(self.run_dir / "history.csv", row)
        atomic_write_json(
            self.run_dir / "state.json",
            {"epoch": epoch + 1, "best_epoch": self.best_epoch, "best_val_miou": self.best},
        )
        self.emit(row)
        patience = self.cfg.early_stopping_patience
        if patience is not None and self.wait >= int(patience):
            self.stopped = "early_stopping"
            self.model.stop_training = True


def make_val_step(
    model: keras.Model, loss_fn: M.SegmentationLoss, num_classes: int
) -> Callable[[Any, Any], tuple[Any, Any, Any]]:
    """Compiled ``(photos, masks) -> (loss x valid pixels, valid pixels, confusion counts)``."""
    c = int(num_classes)

    def step(x: Any, y: Any) -> tuple[Any, Any, Any]:
        probs = tf.cast(model(tf.cast(x, tf.float32), training=False), tf.float32)
        y32 = tf.cast(y, tf.int32)
        valid = tf.not_equal(y32, M.IGNORE)
        n_valid = tf.reduce_sum(tf.cast(valid, tf.float32))
        loss = tf.cast(loss_fn(y, probs), tf.float32) * n_valid
        pred = tf.argmax(probs, axis=-1, output_type=tf.int32)
        index = tf.boolean_mask(tf.clip_by_value(y32, 0, c - 1) * c + pred, valid)
        counts = tf.math.bincount(index, minlength=c * c, maxlength=c * c, dtype=tf.int64)
        return loss, n_valid, counts

    return tf.function(step, autograph=False, reduce_retracing=True)


HISTORY_FIELDS = (
    "epoch",
    "loss",
    "val_loss",
    "acc",
    "val_acc",
    "miou",
    "val_miou",
    "baseline_miou",
    "lr",
    "seconds",
)


def append_history(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(HISTORY_FIELDS)
        writer.writerow([row.get(k) for k in HISTORY_FIELDS])
