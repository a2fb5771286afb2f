"""The segmentation loss and the compiled per-batch metrics (Keras 3, ``keras.ops``).

Pixels labelled ``IGNORE`` (255: unlabelled or letterbox padding) are excluded from both.
``core/model.py`` re-exports these names; the numpy scores live in ``core/confusion.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from fashionseg_gui.core.labels import IGNORE

LOSS_KINDS = ("ce_dice", "weighted_ce", "ce")


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``, else a Keras-style ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"`{name}` must be an integer; received instead {value!r} (of type {type(value).__name__})"
        )
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"`{name}` must be >= {minimum}{upper}; received instead {value}")
    return int(value)


# ----------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="fashionseg")
class SegmentationLoss(keras.losses.Loss):
    """Cross-entropy (+ soft Dice) over pixels whose label is not ``ignore_label``.

    Parameters
    ----------
    num_classes : int
        Number of classes.
    kind : str
        ``"ce_dice"`` (cross-entropy + soft Dice), ``"weighted_ce"`` (class-weighted
        cross-entropy) or ``"ce"``.
    class_weights : sequence of float, optional
        Per-class weights for ``"weighted_ce"`` (default all ones).
    dice_weight : float
        Weight of the Dice term for ``"ce_dice"``.
    ignore_label : int
        Label excluded from the loss.

    Example
    -------
    >>> loss = SegmentationLoss(5, kind="weighted_ce", class_weights=[0.2, 1, 1, 1, 2])
    """

    def __init__(
        self,
        num_classes: int,
        kind: str = "ce_dice",
        class_weights: Sequence[float] | None = None,
        dice_weight: float = 1.0,
        ignore_label: int = IGNORE,
        name: str = "segmentation_loss",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("reduction", "sum")
        super().__init__(name=name, **kwargs)
        if kind not in LOSS_KINDS:
            raise ValueError(f"`kind` must be one of {LOSS_KINDS}; received instead {kind!r}")
        if class_weights is not None and len(class_weights) != num_classes:
            raise ValueError(
                f"`class_weights` needs {num_classes} values; received {len(class_weights)}"
            )
        self.num_classes = int(num_classes)
        self.kind = kind
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.dice_weight = float(dice_weight)
        self.ignore_label = int(ignore_label)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # Few passes over the (pixels x classes) probabilities: on a CPU the loss is memory
        # bound, and each full-size element-wise pass costs milliseconds per batch.
        c = self.num_classes
        y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        probs = ops.reshape(ops.cast(y_pred, "float32"), (-1, c))
        validf = ops.cast(ops.not_equal(y_true, self.ignore_label), "float32")
        # one_hot of -1 is all zeros: ignored pixels drop out of every sum below
        onehot = ops.one_hot(ops.where(y_true == self.ignore_label, -1, y_true), c, dtype="float32")
        p_true = ops.sum(probs * onehot, axis=-1)  # probability of the true class
        ce = -ops.log(ops.maximum(p_true, 1e-7)) * validf
        if self.kind == "weighted_ce" and self.class_weights is not None:
            labels = ops.where(y_true == self.ignore_label, 0, y_true)
            w = ops.take(ops.convert_to_tensor(self.class_weights, "float32"), labels) * validf
            loss = ops.sum(ce * w) / ops.maximum(ops.sum(w), 1e-6)
        else:
            loss = ops.sum(ce) / ops.maximum(ops.sum(validf), 1.0)
        if self.kind == "ce_dice":
            # soft confusion over labelled pixels (one matrix product): its diagonal is the
            # intersection, its column sums the predicted mass of each class
            soft = ops.einsum("pk,pc->kc", onehot, probs)
            inter = ops.diagonal(soft)
            denom = ops.sum(soft, axis=0) + ops.sum(onehot, axis=0)
            dice = (2.0 * inter + 1.0) / (denom + 1.0)
            loss = loss + self.dice_weight * (1.0 - ops.mean(dice))
        return loss

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            kind=self.kind,
            class_weights=self.class_weights,
            dice_weight=self.dice_weight,
            ignore_label=self.ignore_label,
        )
        return config


# ----------------------------------------------------------------------------------------
# Metrics (compiled, per batch) and numpy helpers (per epoch / evaluation)
# ----------------------------------------------------------------------------------------


class _ConfusionMetric(keras.metrics.Metric):
    """Accumulates a confusion matrix over non-ignored pixels (rows = truth, cols = prediction).

    ``pixel_stride`` > 1 counts every n-th pixel of every n-th row only: a regular sample
    that is n² times cheaper, for the running training curves (validation counts all).
    """

    def __init__(
        self,
        num_classes: int,
        ignore_label: int = IGNORE,
        name: str = "confusion",
        pixel_stride: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.ignore_label = int(ignore_label)
        self.pixel_stride = check_int("pixel_stride", pixel_stride, 1)
        self.matrix = self.add_variable(
            shape=(self.num_classes * self.num_classes,),
            initializer="zeros",
            dtype="float32",
            name="matrix",
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.pixel_stride > 1 and len(y_pred.shape) == 4:
            n = self.pixel_stride
            y_true, y_pred = y_true[:, ::n, ::n], y_pred[:, ::n, ::n]
        y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        pred = ops.reshape(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), (-1,))
        valid = ops.not_equal(y_true, self.ignore_label)
        labels = ops.where(valid, y_true, ops.zeros_like(y_true))
        index = labels * self.num_classes + pred
        counts = ops.bincount(
            index, weights=ops.cast(valid, "float32"), minlength=self.num_classes * self.num_classes
        )
        self.matrix.assign_add(ops.cast(counts[: self.num_classes**2], "float32"))

    def reset_state(self) -> None:
        self.matrix.assign(ops.zeros_like(self.matrix))

    def confusion(self) -> np.ndarray:
        """The accumulated confusion matrix as an int64 ``(C, C)`` array."""
        return np.asarray(self.matrix).reshape(self.num_classes, self.num_classes).astype(np.int64)

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "ignore_label": self.ignore_label,
            "name": self.name,
            "dtype": self.dtype,
            "pixel_stride": self.pixel_stride,
        }


@keras.saving.register_keras_serializable(package="fashionseg")
class PixelAccuracy(_ConfusionMetric):
    """Pixel accuracy over non-ignored pixels."""

    def __init__(
        self, num_classes: int, ignore_label: int = IGNORE, name: str = "acc", **kwargs: Any
    ) -> None:
        super().__init__(num_classes, ignore_label, name=name, **kwargs)

    def result(self) -> Any:
        m = ops.reshape(self.matrix, (self.num_classes, self.num_classes))
        return ops.sum(ops.diagonal(m)) / ops.maximum(ops.sum(m), 1.0)


@keras.saving.register_keras_serializable(package="fashionseg")
class MeanIoU(_ConfusionMetric):
    """Mean intersection-over-union over classes present in truth or prediction."""

    def __init__(
        self, num_classes: int, ignore_label: int = IGNORE, name: str = "miou", **kwargs: Any
    ) -> None:
        super().__init__(num_classes, ignore_label, name=name, **kwargs)

    def result(self) -> Any:
        m = ops.reshape(self.matrix, (self.num_classes, self.num_classes))
        inter = ops.diagonal(m)
        union = ops.sum(m, axis=0) + ops.sum(m, axis=1) - inter
        present = ops.cast(union > 0, "float32")
        iou = inter / ops.maximum(union, 1.0)
        return ops.sum(iou * present) / ops.maximum(ops.sum(present), 1.0)
