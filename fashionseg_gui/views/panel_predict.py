"""The Train panel's predict and export actions (:class:`PredictActions`, a mixin).

Predict the unlabelled photos, given ids, the browser's selection or the top of the
label-next queue with a run (the selected one, else the latest with a model), and export a
run as a SavedModel. Each starts one worker through the panel's job service.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from fashionseg_gui.workers.prediction import ExportWorker, PredictionWorker

if TYPE_CHECKING:
    from PySide6.QtWidgets import QComboBox, QSpinBox

    from fashionseg_gui.workers.base import JobWorker


class PredictActions:
    """Predict and export (a mixin of the Train panel, which provides ``project``,
    ``selection``, ``queue_top``, ``_can_start()``, ``_model_run()``, ``_start_job()``,
    ``_show_error()``, ``_show_info()`` and ``_update_buttons()``)."""

    if TYPE_CHECKING:
        project: Any
        selection: Callable[[], list[str]] | None
        queue_top: QSpinBox
        upsampling: QComboBox

        def _can_start(self, kind: str) -> bool: ...
        def _model_run(self) -> Path | None: ...
        def _start_job(self, worker: JobWorker, kind: str, text: str) -> bool: ...
        def _show_error(self, text: str) -> None: ...
        def _show_info(self, text: str) -> None: ...
        def _update_buttons(self) -> None: ...

    def _predict_run(self, run_dir: str | Path | None) -> Path | None:
        """The run to predict with (given, else the selected or latest one with a model), or
        None after saying why not (a job in the way, no model yet)."""
        if not self._can_start("predict"):
            return None
        run = Path(run_dir) if run_dir else self._model_run()
        if run is None:
            self._show_error("No trained model yet: train first (or select a run with a model).")
        return run

    def predict_unlabelled(self, run_dir: str | Path | None = None) -> bool:
        """Predict every image without a user mask with ``run_dir`` (default: selected/latest)."""
        run = self._predict_run(run_dir)
        if run is None:
            return False
        ids = [i for i, r in self.project.images.items() if r.status in ("unlabelled", "predicted")]
        if not ids:
            self._show_info("Every image has a user mask; nothing to predict.")
            return False
        return self.predict_ids(ids, run)

    def predict_ids(
        self, ids: list[str], run_dir: str | Path | None = None, resume: bool = True
    ) -> bool:
        """Predict ``ids`` with ``run_dir`` (default: the selected run, else the latest).

        With ``resume`` (default) photos that already have a fresh prediction of that run
        are skipped, so predicting again after a Stop goes on where it stopped.
        """
        run = self._predict_run(run_dir)
        if run is None:
            return False
        ids = [str(i) for i in ids if str(i) in self.project.images]
        if not ids:
            self._show_info("No photo to predict.")
            return False
        worker = PredictionWorker(
            self.project, ids, run, resume=resume, upsampling=self.upsampling.currentData()
        )
        return self._start_job(worker, "predict", f"Predicting {len(ids)} images with {run.name}…")

    def predict_selected(self, run_dir: str | Path | None = None) -> bool:
        """Predict the photos :attr:`selection` gives (the browser's selected photo), again
        even if they have a fresh prediction of that run."""
        ids = list(self.selection()) if self.selection is not None else []
        if not ids:
            self._show_info("Select a photo in the browser first.")
            return False
        return self.predict_ids(ids, run_dir, resume=False)

    def predict_queue(self, top: int | None = None, run_dir: str | Path | None = None) -> bool:
        """Predict the ``top`` (default: the spin box) photos of the label-next queue."""
        from fashionseg_gui.core.queue import build_queue

        if self.project is None:
            return self._can_start("predict")
        queue = build_queue(self.project, "uncertainty")
        if not queue.items:
            self._show_info(
                "The label-next queue is empty: predict the unlabelled photos "
                f"first ({queue.summary()})."
            )
            return False
        n = int(top if top is not None else self.queue_top.value())
        return self.predict_ids(queue.ids[:n], run_dir)

    def set_selection_source(self, source: Callable[[], list[str]] | None) -> None:
        """Where "Predict selected" takes its photos from (None disables it)."""
        self.selection = source
        self._update_buttons()

    def export_saved_model(
        self, out_dir: str | Path | None = None, run_dir: str | Path | None = None
    ) -> bool:
        """Export the selected (or latest) run as a SavedModel into ``out_dir`` (asks if None)."""
        if not self._can_start("export"):
            return False
        run = Path(run_dir) if run_dir else self._model_run()
        if run is None:
            self._show_error("No trained model to export: train first.")
            return False
        if out_dir is None:
            chosen = QFileDialog.getExistingDirectory(
                self, "Export SavedModel into folder", str(self.project.root)
            )
            if not chosen:
                return False
            out_dir = Path(chosen) / f"saved_model_{run.name}"
        worker = ExportWorker(
            run,
            Path(out_dir),
            len(self.project.classes),
            self.upsampling.currentData(),
            None if self.project.read_only else self.project,
        )
        return self._start_job(worker, "export", f"Exporting {run.name} to {out_dir}…")
