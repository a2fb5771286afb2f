"""The Train panel: settings, Train/Stop, live curves, past runs, prediction and export.

A QDockWidget-friendly widget. It holds no domain state: the settings are saved in the
project (``settings["train"]``), runs are read from ``<project>/runs/*/metrics.json``, and
every long job (training, prediction, SavedModel export, augmentation preview) runs in a
worker on its own QThread. TensorFlow is never imported on the GUI thread: constructing
the panel, showing it and reading runs do not touch it.

Standalone: ``python -m fashionseg_gui.views.train_panel [PROJECT]`` (without a project it
trains on a temporary copy of the demo project).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.runs import read_history, read_run  # noqa: F401 - used by callers
from fashionseg_gui.views.elided_label import ElidedProgressBar
from fashionseg_gui.views.panel_predict import PredictActions
from fashionseg_gui.views.plots import ClassMetrics, TrainingCurves
from fashionseg_gui.views.round_history import RoundHistory
from fashionseg_gui.views.runs_tab import RUN_COLUMNS, RunsTab, run_state  # noqa: F401 (re-exported)
from fashionseg_gui.views.runs_tab import fmt_metric as _fmt
from fashionseg_gui.views.train_settings import (  # noqa: F401 (re-exported)
    AUGMENTATIONS,
    FITTED_KEYS,
    PANEL_KEYS,
    TrainSettingsForm,
    panel_defaults,
)
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobRefused, JobService
from fashionseg_gui.workers.training import TrainingWorker

log = logging.getLogger(__name__)

#: Seconds a worker may take to stop when the window closes.
SHUTDOWN_WAIT_MS = 30000
#: The panel's job names -> their kinds in :data:`fashionseg_gui.workers.jobs.POLICY`.
JOB_KINDS = {"train": "train", "predict": "predict", "export": "model export"}


class VerticalScrollArea(QScrollArea):
    """Scrolls its widget vertically only: as wide as the widget needs, any height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        inner = self.widget()
        width = inner.minimumSizeHint().width() if inner is not None else 0
        width += self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, 120)


def _predicted_text(project: Any, ids: list[str]) -> str:
    """What a finished prediction of ``ids`` tells the user to do next."""
    n = len(ids)
    photos = f"{n} photo{'s' if n != 1 else ''}"
    images = getattr(project, "images", {})
    to_review = sum(1 for i in ids if i in images and images[i].status == "predicted")
    if to_review == n:
        them, masks = ("them", "the masks") if n != 1 else ("it", "its mask")
        return (
            f"Predicted {photos}: review {them} (status \u201cpredicted\u201d) and correct {masks}."
        )
    kept = n - to_review
    also = f"; {to_review} to review (status \u201cpredicted\u201d)" if to_review else ""
    return (
        f"Predicted {photos}{also}; {kept} labelled or corrected "
        f"photo{'s' if kept != 1 else ''} kept {'their masks' if kept != 1 else 'its mask'}."
    )


class TrainPanel(PredictActions, TrainSettingsForm, RunsTab, QWidget):
    """Train a U-Net on the project, watch it learn, predict and export.

    Signals
    -------
    sigPredictionsReady(list)
        Ids of the images that received a prediction (their status is now "predicted").
    sigRunFinished(str)
        The run folder of a training that ended (finished or stopped).
    sigStatusMessage(str)
        A one-line message for the window's status bar.
    """

    sigPredictionsReady = Signal(list)
    sigRunFinished = Signal(str)
    sigStatusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None, jobs: JobService | None = None) -> None:
        super().__init__(parent)
        self.project: Any = None
        #: The job service that runs (and keeps alive) this panel's workers.
        self.jobs = jobs if jobs is not None else JobService.shared()
        #: The job this panel shows (training, prediction or model export), if any.
        self._job: JobWorker | None = None
        self._job_kind = ""
        self._run_dir: str | None = None
        self._cancelled_worker: JobWorker | None = None
        self._t_start = 0.0
        #: Gives the photos "Predict selected" predicts (the main window sets it to the
        #: browser's selection); None disables the button.
        self.selection: Callable[[], list[str]] | None = None
        self.setObjectName("TrainPanel")
        self._build_ui()
        content = self.scroll.widget()
        self.scroll.setMinimumWidth(
            content.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
        )
        self._set_busy("")
        self.set_project(None)

    # --- construction -------------------------------------------------------------------
    def _build_ui(self) -> None:
        # The panel scrolls vertically, so it fits a 768-pixel screen; it is laid out in
        # one narrow column, so the window never has to widen for it.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = VerticalScrollArea(self)
        content = QWidget(self.scroll)
        content.setObjectName("TrainPanelContent")
        self.scroll.setWidget(content)
        outer.addWidget(self.scroll)
        root = QVBoxLayout(content)
        root.setContentsMargins(6, 6, 6, 6)

        root.addWidget(self._build_settings_box())

        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a new model on the labelled images (Ctrl+T)")
        self.train_button.setShortcut("Ctrl+T")
        self.train_button.clicked.connect(lambda: self.start_training())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the best model is kept")
        self.stop_button.clicked.connect(self.stop)
        self.predict_button = QPushButton("Predict unlabelled")
        self.predict_button.setToolTip(
            "Predict masks for the images you have not labelled, with the selected (or latest) run"
        )
        self.predict_button.clicked.connect(lambda: self.predict_unlabelled())
        self.predict_selected_button = QPushButton("Predict selected")
        self.predict_selected_button.setToolTip(
            "Predict the photo selected in the browser with the selected (or latest) run"
        )
        self.predict_selected_button.clicked.connect(lambda: self.predict_selected())
        self.predict_queue_button = QPushButton("Predict queue")
        self.predict_queue_button.setToolTip(
            "Predict the top of the label-next queue again with the selected (or latest) run"
        )
        self.predict_queue_button.clicked.connect(lambda: self.predict_queue())
        self.queue_top = self._spin(1, 100_000, "How many photos of the queue to predict")
        self.queue_top.setValue(20)
        for b in (self.train_button, self.stop_button, self.predict_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        root.addLayout(buttons)
        more = QHBoxLayout()
        for b in (self.predict_selected_button, self.predict_queue_button, self.queue_top):
            more.addWidget(b)
        more.addStretch(1)
        root.addLayout(more)

        self.progress = ElidedProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        root.addWidget(self.progress)
        root.addWidget(self.status)
        root.addWidget(self.message)

        self.tabs = QTabWidget()
        self.curves = TrainingCurves()
        self.class_metrics = ClassMetrics()
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(self.class_metrics, "Per class")
        self.tabs.addTab(self._build_runs_tab(), "Runs")
        self.round_history = RoundHistory()
        self.round_history.sigFineTune.connect(lambda run: self.start_training(resume_from=run))
        self.tabs.addTab(self.round_history, "Rounds")
        root.addWidget(self.tabs, 1)

    # --- project -----------------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        """Show ``project`` (or nothing); a job running on another project is cancelled."""
        if self._job is not None and project is not self.project:
            self._cancel_job()  # it ends at its next batch/image; its signals still arrive
            self.status.setText("Stopping the job of the previous project…")
        self.project = project
        settings: dict[str, Any] = {}
        if project is not None:
            saved = project.settings.get("train")
            if isinstance(saved, dict):
                settings = {k: v for k, v in saved.items() if k in PANEL_KEYS}
        self.set_config(settings)  # on top of panel_defaults()
        names = [c.name for c in project.classes] if project is not None else []
        colors = [c.color for c in project.classes] if project is not None else []
        if not self.is_busy():
            self.curves.reset()
            self.class_metrics.set_classes(names, colors)
        self.refresh_runs()
        self._update_buttons()

    # --- jobs --------------------------------------------------------------------------
    def is_busy(self) -> bool:
        """Whether a training, prediction or export job is running."""
        return self._job is not None

    def start_training(self, resume_from: str | None = None) -> bool:
        """Start a training with the current settings; False (with a message) if it cannot."""
        if not self._can_start("train"):
            return False
        cfg = self.config_dict()
        if resume_from:
            cfg["resume_from"] = str(resume_from)
        if not self.project.read_only:
            try:  # remember the settings with the project (not the one-off resume path)
                self.project.set_setting(
                    "train", {k: v for k, v in cfg.items() if k != "resume_from"}
                )
            except Exception as exc:  # noqa: BLE001 - a settings write must not block training
                log.warning("could not save training settings: %s", exc)
        self.curves.reset()
        self.class_metrics.set_classes(
            [c.name for c in self.project.classes], [c.color for c in self.project.classes]
        )
        worker = TrainingWorker(cfg, self.project)
        worker.metrics.connect(self._on_train_metrics)
        return self._start_job(worker, "train", "Starting training (loading TensorFlow)…")

    def stop(self) -> None:
        """Ask the running job to stop (training stops after the current batch)."""
        if self._job is not None:
            self._cancel_job()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after the current batch…")

    def show_augmentation_preview(self) -> None:
        """Open the augmentation preview dialog for the current settings."""
        if self.project is None:
            self._show_error("Open a project first.")
            return
        from fashionseg_gui.views.augment_preview import AugmentPreviewDialog

        dialog = AugmentPreviewDialog(self.project, self.config_dict(), parent=self, jobs=self.jobs)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self._preview = dialog

    def shutdown(self) -> None:
        """Stop every worker and wait for it (call when the window closes)."""
        from fashionseg_gui.views import augment_preview

        preview = getattr(self, "_preview", None)
        if preview is not None:
            try:
                preview.shutdown()
            except RuntimeError:  # already deleted
                pass
        augment_preview.wait_all(SHUTDOWN_WAIT_MS, self.jobs)
        self.jobs.stop(owner=self, msecs=SHUTDOWN_WAIT_MS)

    def _cancel_job(self) -> None:
        job = self.jobs.job_of(self._job) if self._job is not None else None
        if job is not None:
            self.jobs.cancel(job)  # the status bar shows it stopping
        elif self._job is not None:
            self._job.cancel()

    def _can_start(self, kind: str) -> bool:
        if self.project is None:
            self._show_error("Open a project first.")
            return False
        if self._job is not None:
            self._show_error("Another job is running; stop it first.")
            return False
        reason = self.jobs.check(JOB_KINDS[kind], self.project.root)
        if reason is not None:
            self._show_error(f"{reason}; wait for it or stop it first.")
            return False
        if kind in ("train", "predict") and self.project.read_only:
            self._show_error(
                f"The project is read-only ({self.project.read_only_reason}); cannot {kind}."
            )
            return False
        return True

    def _start_job(self, worker: JobWorker, kind: str, text: str) -> bool:
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        try:
            self.jobs.submit(worker, JOB_KINDS[kind], scope=self.project.root, owner=self)
        except JobRefused as exc:  # checked by _can_start; a race with another view
            self._show_error(f"{exc}; wait for it or stop it first.")
            return False
        self._job, self._job_kind = worker, kind
        self._t_start = time.monotonic()
        self.message.hide()
        self._set_busy(kind)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setFormat(text)
        self.status.setText(text)
        self.sigStatusMessage.emit(text)
        return True

    def _end_job(self) -> JobWorker | None:
        worker, self._job = self._job, None  # the job service keeps it until its thread ends
        self._set_busy("")
        self.progress.setRange(0, 1)
        return worker

    # --- worker signals ------------------------------------------------------------------
    def _current(self) -> bool:
        """Whether the signal being handled comes from the running job."""
        return self._job is not None and self.sender() is self._job

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        if not self._current():
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.progress.setFormat(f"%p%  {text}" if total > 0 else text)

    @Slot(dict)
    def _on_train_metrics(self, m: dict) -> None:
        if not self._current():
            return
        kind = m.get("event")
        if kind == "batch":
            self.curves.add_batch_losses(m.get("losses", ()), int(m.get("batches") or 0))
        elif kind == "epoch":
            self.curves.add_epoch(m)
            self.class_metrics.set_metrics(m.get("per_class_iou", ()), m.get("confusion", ()))
            self.status.setText(
                f"Epoch {m.get('epoch')}/{m.get('epochs')}: loss {_fmt(m.get('loss'))}, "
                f"val mIoU {_fmt(m.get('val_miou'))} (all-background "
                f"{_fmt(m.get('baseline_miou'))}), {_fmt(m.get('seconds'), 1)} s"
            )
        elif kind == "probe":
            self.status.setText(str(m.get("text") or ""))
        elif kind == "recipe":
            self.recipe_text.setText(f"Chosen: {m.get('text', '')}")
        elif kind == "start":
            self._run_dir = str(m.get("run_dir") or "") or None
            self.status.setText(
                f"Training on {m.get('train_images', '?')} images, validating "
                f"on {m.get('val_images', '?')}…"
            )

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        worker = self.sender()
        if worker is self._cancelled_worker:  # the partial result of a stopped training
            self._cancelled_worker = None
            self._report_training(result, stopped=True)
            return
        if not self._current():
            return
        kind = self._job_kind
        self._end_job()
        if kind == "train":
            self._report_training(result, stopped=bool(getattr(result, "cancelled", False)))
        elif kind == "predict":
            ids = [str(i) for i in (result or [])]
            if ids:
                self._done(_predicted_text(self.project, ids))
            else:
                self._done(
                    "Nothing new to predict: these photos already have a fresh "
                    "prediction of this run."
                )
            self.sigPredictionsReady.emit(ids)
        elif kind == "export":
            self._done(f"SavedModel written to {result}")
        self._update_buttons()

    def _report_training(self, result: Any, stopped: bool) -> None:
        run_dir = str(getattr(result, "run_dir", "") or self._run_dir or "")
        best = getattr(result, "best_val_miou", None)
        how = "cancelled" if stopped else str(getattr(result, "stopped", "completed"))
        text = {
            "cancelled": "Training stopped",
            "early_stopping": "Training stopped early (validation mIoU no longer improved)",
            "time_limit": "Training reached its time limit",
        }.get(how, "Training finished")
        if how == "cancelled" and (getattr(result, "metrics", None) or {}).get("model_kept"):
            text = "Training stopped, model kept"
        if best is not None:
            text += f": best val mIoU {_fmt(best)}"
        self._done(text)
        self.refresh_runs()
        if run_dir:
            self.sigRunFinished.emit(run_dir)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if not self._current():
            return
        kind = self._job_kind
        self._end_job()
        self.progress.setFormat("failed")
        what = {"train": "Training", "predict": "Prediction", "export": "Export"}.get(kind, "Job")
        self._show_error(f"{what} failed: {message}")
        if kind == "train":
            self.refresh_runs()
        self._update_buttons()

    @Slot()
    def _on_cancelled(self) -> None:
        if not self._current():
            return
        kind = self._job_kind
        worker = self._end_job()
        if kind == "train":  # a finished(result) with the partial run may follow
            self._cancelled_worker = worker
            self.refresh_runs()
        self._done(
            {
                "train": "Training stopped",
                "predict": "Prediction stopped",
                "export": "Export stopped",
            }.get(kind, "Stopped")
        )
        self._update_buttons()

    def _done(self, text: str) -> None:
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(text)
        self.status.setText(f"{text} ({time.monotonic() - self._t_start:.0f} s)")
        self.sigStatusMessage.emit(text)

    # --- messages and state ------------------------------------------------------------
    def _show_error(self, text: str) -> None:
        self.message.setStyleSheet(
            "QLabel { background: #fde7e9; color: #8a1c24; "
            "border: 1px solid #f1b5bb; border-radius: 4px; "
            "padding: 6px; }"
        )
        self.message.setText(text)
        self.message.show()
        self.sigStatusMessage.emit(text)

    def _show_info(self, text: str) -> None:
        self.message.setStyleSheet(
            "QLabel { background: #e8f0fe; color: #1a3d7c; border-radius: 4px; padding: 6px; }"
        )
        self.message.setText(text)
        self.message.show()

    def _set_busy(self, kind: str) -> None:
        self.settings_box.setEnabled(not kind)
        self.stop_button.setEnabled(bool(kind))
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._job is None and self.project is not None
        writable = idle and not self.project.read_only
        has_model = idle and self._model_run() is not None
        self.train_button.setEnabled(writable)
        self.predict_button.setEnabled(writable and has_model)
        self.predict_selected_button.setEnabled(
            writable and has_model and self.selection is not None
        )
        self.predict_queue_button.setEnabled(writable and has_model)
        self.preview_button.setEnabled(self.project is not None)
        self.finetune_button.setEnabled(writable and self._selected_run() is not None)
        self.round_history.set_enabled_for_training(writable)
        self.export_button.setEnabled(has_model)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    """Show the panel on its own for ``PROJECT`` (default: a temporary copy of the demo)."""
    import shutil
    import signal
    import sys
    import tempfile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.project import Project
    from fashionseg_gui.views.style import exec_demo

    args = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if args:
        project = Project.open(args[0])
    else:
        demo = Path(__file__).resolve().parents[2] / "projects" / "demo"
        tmp = Path(tempfile.mkdtemp(prefix="fashionseg-demo-"))
        shutil.copytree(demo, tmp / "demo", ignore=shutil.ignore_patterns(".fashionseg.lock"))
        project = Project.open(tmp / "demo")
        print(f"training on a copy of the demo project: {project.root}")
    panel = TrainPanel()
    panel.setWindowTitle(f"Train — {project.name}")
    panel.set_project(project)
    panel.sigPredictionsReady.connect(lambda ids: print(f"predictions ready: {len(ids)}"))
    panel.resize(900, 900)
    panel.show()
    app.aboutToQuit.connect(panel.shutdown)
    signal.signal(signal.SIGINT, lambda *_: app.quit())  # Ctrl+C in the terminal
    timer = QTimer()  # let Python see the signal while Qt's loop runs
    timer.start(200)
    timer.timeout.connect(lambda: None)
    code = exec_demo(app)
    panel.deleteLater()
    del panel
    project.close()
    if not args:
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
