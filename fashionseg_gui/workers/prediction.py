"""Prediction and SavedModel export on QThreads (``core.predict`` / ``core.train`` jobs).

Both import TensorFlow only inside the worker thread. The prediction job writes
``predictions/<id>.npz`` and sets the status of images without a user mask to
"predicted" through ``core.predict.predict_project``; its result is the list of ids that
received a prediction, which the Train panel turns into ``sigPredictionsReady``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.training import preload_tensorflow_libraries


def run_prediction(project: Any, ids: Sequence[str], run_dir: str | Path, *,
                   cancel_token: CancelToken, on_progress: Any) -> list[str]:
    """Predict ``ids`` of ``project`` with the best model of ``run_dir``.

    Returns
    -------
    list of str
        The ids that received a prediction file.
    """
    preload_tensorflow_libraries()
    from fashionseg_gui.core.predict import predict_project

    result = predict_project(project, list(ids), cancel_token=cancel_token,
                             on_progress=named_progress(project, on_progress),
                             run_dir=Path(run_dir))
    return _predicted_ids(project, ids, result)


def display_name(project: Any, image_id: str) -> str:
    """The photo's original file name (what the user knows it by), else its id."""
    rec = project.images.get(image_id)
    name = getattr(rec, "original_name", "") if rec is not None else ""
    return str(name or image_id)


def named_progress(project: Any, on_progress: Any) -> Any:
    """Wrap ``on_progress`` so that image ids in the text become file names.

    ``predicting 49d8d1236991`` reads ``predicting outfit_012.jpg`` in the status bar.
    """
    if on_progress is None:
        return None

    def progress(*args: Any) -> None:
        if len(args) >= 3 and isinstance(args[2], str):
            words = [display_name(project, w) if w in project.images else w
                     for w in args[2].split(" ")]
            args = (*args[:2], " ".join(words), *args[3:])
        on_progress(*args)

    return progress


def _predicted_ids(project: Any, ids: Sequence[str], result: Any) -> list[str]:
    """Normalise what ``predict_project`` returned to a list of predicted ids."""
    if isinstance(result, dict):
        result = result.get("predicted", result.get("ids", list(result)))
    elif result is not None and hasattr(result, "predicted"):
        result = result.predicted
    if result is None:  # fall back on what is on disk
        result = [i for i in ids if project.prediction_path(i).exists()]
    return [str(i) for i in result]


def run_export(run_dir: str | Path, out_dir: str | Path, num_classes: int, *,
               cancel_token: CancelToken, on_progress: Any) -> str:
    """Export the best model of ``run_dir`` as a SavedModel into ``out_dir``; returns the path."""
    preload_tensorflow_libraries()
    from fashionseg_gui.core.train import export_saved_model

    cancel_token.raise_if_cancelled()
    on_progress(0, 1, "exporting")
    out = export_saved_model(Path(run_dir), Path(out_dir), num_classes)
    on_progress(1, 1, "exported")
    return str(out or out_dir)


class PredictionWorker(JobWorker):
    """Predict images of a project on a QThread.

    Parameters
    ----------
    project : Project
        The project (predictions are written into it).
    ids : sequence of str
        Images to predict.
    run_dir : path
        The run whose ``checkpoints/best.keras`` predicts.
    """

    def __init__(self, project: Any, ids: Sequence[str], run_dir: str | Path) -> None:
        super().__init__(run_prediction, project, list(ids), Path(run_dir), name="prediction")


class ExportWorker(JobWorker):
    """Export a run's model as a TensorFlow SavedModel on a QThread."""

    def __init__(self, run_dir: str | Path, out_dir: str | Path, num_classes: int) -> None:
        super().__init__(run_export, Path(run_dir), Path(out_dir), int(num_classes),
                         name="export")
