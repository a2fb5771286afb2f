"""Prediction and SavedModel export on QThreads (``core.predict`` / ``core.train`` jobs).

Both import TensorFlow only inside the worker thread. The prediction job writes
``predictions/<id>.npz`` and sets the status of images without a user mask to
"predicted" through ``core.predict.predict_project``; its result is the list of ids that
received a prediction, which the Train panel turns into ``sigPredictionsReady``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.training import preload_tensorflow_libraries, startup_without_gc

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def run_prediction(
    project: Project,
    ids: Sequence[str],
    run_dir: str | Path,
    resume: bool = True,
    upsampling: str | None = None,
    *,
    cancel_token: CancelToken,
    on_progress: Callable[..., None],
) -> list[str]:
    """Predict ``ids`` of ``project`` with the best model of ``run_dir``.

    With ``resume`` photos that already have a fresh prediction of that run (and
    ``upsampling``: default the run's) are skipped (a cancelled predict goes on where it
    stopped). The scores and ``predictions/scores.json`` are written with the predictions
    (``core.scores``).

    Returns
    -------
    list of str
        The ids that received a prediction file.
    """
    # Loading the Keras file and tracing the graph make hundreds of thousands of objects;
    # Python's full collections then held the interpreter lock for 150-190 ms each and froze
    # the window as long (`bench gui-stall --case predict`): collection waits until the
    # model is ready, and the model's objects stay out of its sight while predicting.
    with startup_without_gc() as loaded:
        preload_tensorflow_libraries()
        from fashionseg_gui.core.predict import Predictor, predict_project, remember_upsampling

        remember_upsampling(project, upsampling)
        predictor = Predictor(Path(run_dir), upsampling=upsampling)
        loaded()
        ids = predict_project(
            project,
            list(ids),
            cancel_token=cancel_token,
            on_progress=on_progress,
            predictor=predictor,
            resume=resume,
        )
    return [str(i) for i in ids]


def run_export(
    run_dir: str | Path,
    out_dir: str | Path,
    num_classes: int,
    upsampling: str | None = None,
    project: Project | None = None,
    *,
    cancel_token: CancelToken,
    on_progress: Callable[..., None],
) -> str:
    """Export the best model of ``run_dir`` as a SavedModel into ``out_dir`` (with
    ``upsampling``, default the run's, remembered in ``project`` when given); returns the
    path."""
    with startup_without_gc():  # as a prediction's start: loading and tracing the model
        preload_tensorflow_libraries()
        from fashionseg_gui.core.predict import remember_upsampling
        from fashionseg_gui.core.train import export_saved_model

        if project is not None:
            remember_upsampling(project, upsampling)

        cancel_token.raise_if_cancelled()
        on_progress(0, 1, "exporting")
        out = export_saved_model(Path(run_dir), Path(out_dir), num_classes, upsampling=upsampling)
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
    resume : bool
        Skip photos with a fresh prediction of that run (default).
    upsampling : str, optional
        ``"guided"`` or ``"bilinear"`` (``core.serving.full_size_outputs``); default the
        run's. Given, it is remembered in the project's training settings (on the job's
        thread: ``core.predict.remember_upsampling``).
    """

    def __init__(
        self,
        project: Project,
        ids: Sequence[str],
        run_dir: str | Path,
        resume: bool = True,
        upsampling: str | None = None,
    ) -> None:
        super().__init__(
            run_prediction,
            project,
            list(ids),
            Path(run_dir),
            bool(resume),
            upsampling,
            name="prediction",
        )


class ExportWorker(JobWorker):
    """Export a run's model as a TensorFlow SavedModel on a QThread (``upsampling``: as
    :class:`PredictionWorker`; remembered in ``project`` when given)."""

    def __init__(
        self,
        run_dir: str | Path,
        out_dir: str | Path,
        num_classes: int,
        upsampling: str | None = None,
        project: Project | None = None,
    ) -> None:
        super().__init__(
            run_export,
            Path(run_dir),
            Path(out_dir),
            int(num_classes),
            upsampling,
            project,
            name="export",
        )
