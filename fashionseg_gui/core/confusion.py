"""Scores from a confusion matrix: pixel accuracy, IoU per class, mean IoU (numpy only).

The Keras metrics of :mod:`fashionseg_gui.core.model` compute the same numbers inside a
training step; these read a finished confusion matrix (evaluation, run reports, benches)
and need no TensorFlow.
"""

from __future__ import annotations

import numpy as np

from fashionseg_gui.core.labels import IGNORE


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, ignore_label: int = IGNORE
) -> np.ndarray:
    """Confusion matrix (rows = truth, columns = prediction) over non-ignored pixels.

    Parameters
    ----------
    y_true, y_pred : np.ndarray
        Integer label maps of the same shape.
    num_classes : int
        Number of classes.
    ignore_label : int
        Truth value excluded from the count.

    Returns
    -------
    np.ndarray
        int64 ``(num_classes, num_classes)``.
    """
    t = np.asarray(y_true).reshape(-1).astype(np.int64)
    p = np.asarray(y_pred).reshape(-1).astype(np.int64)
    if t.shape != p.shape:
        raise ValueError(f"truth and prediction differ in size: {t.size} vs {p.size}")
    keep = (t != ignore_label) & (t < num_classes) & (p < num_classes)
    return np.bincount(
        t[keep] * num_classes + p[keep], minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)


def iou_per_class(confusion: np.ndarray) -> list[float | None]:
    """IoU of each class from a confusion matrix; ``None`` where the class never occurs."""
    cm = np.asarray(confusion, dtype=np.float64)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    return [float(i / u) if u > 0 else None for i, u in zip(inter, union, strict=True)]


def mean_iou(confusion: np.ndarray) -> float:
    """Mean IoU over classes present in truth or prediction (0.0 for an empty matrix)."""
    values = [v for v in iou_per_class(confusion) if v is not None]
    return float(np.mean(values)) if values else 0.0


def pixel_accuracy(confusion: np.ndarray) -> float:
    """Fraction of correctly classified non-ignored pixels."""
    cm = np.asarray(confusion, dtype=np.float64)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def background_baseline_miou(confusion: np.ndarray) -> float:
    """mIoU of a model that predicts background (class 0) everywhere, for the same truth."""
    cm = np.asarray(confusion)
    truth = cm.sum(axis=1)
    baseline = np.zeros_like(cm)
    baseline[:, 0] = truth
    return mean_iou(baseline)
