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
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core import runs as R
from fashionseg_gui.core.runs import read_history, read_run  # noqa: F401 - used by callers
from fashionseg_gui.core.train_config import GUI_TIME_BUDGET_MIN, defaults
from fashionseg_gui.views.plots import ClassMetrics, TrainingCurves
from fashionseg_gui.views.round_history import RoundHistory
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobRefused, JobService
from fashionseg_gui.workers.prediction import ExportWorker, PredictionWorker
from fashionseg_gui.workers.training import TrainingWorker

log = logging.getLogger(__name__)

#: The settings the panel edits; their defaults are ``core.train_config``'s.
PANEL_KEYS = ("epochs", "batch_size", "learning_rate", "input_height", "input_width", "depth",
              "base_width", "batch_norm", "dropout", "loss", "augment_flip", "augment_rotate",
              "augment_scale", "augment_color", "mixed_precision", "early_stopping_patience",
              "max_minutes", "recipe")
#: The recipe settings a fitted ("auto") recipe chooses itself.
FITTED_KEYS = ("input_height", "input_width", "depth", "base_width", "mixed_precision")
AUGMENTATIONS = (("augment_flip", "flip"), ("augment_rotate", "rotate ±10°"),
                 ("augment_scale", "scale/crop"), ("augment_color", "colour jitter"))
RUN_COLUMNS = ("Run", "Started", "Epochs", "Val mIoU", "Baseline", "State")
#: Seconds a worker may take to stop when the window closes.
SHUTDOWN_WAIT_MS = 30000
#: The panel's job names -> their kinds in :data:`fashionseg_gui.workers.jobs.POLICY`.
JOB_KINDS = {"train": "train", "predict": "predict", "export": "model export"}


def panel_defaults() -> dict[str, Any]:
    """The panel's settings for a project that saved none: the core defaults, trained for
    a time budget with the recipe fitted to the machine (the default way to train)."""
    values = {k: v for k, v in defaults().items() if k in PANEL_KEYS}
    values.update(max_minutes=GUI_TIME_BUDGET_MIN, recipe="auto")
    return values


def run_state(summary: dict[str, Any], has_model: bool) -> str:
    """The "State" column: how the run ended and whether it kept a model."""
    how = str(summary.get("stopped") or summary.get("state") or "–")
    if how == "cancelled":
        return "stopped, model kept" if has_model else "stopped (no model)"
    how = how.replace("_", " ")
    return how if has_model else f"{how} (no model)"


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


def _fmt(value: Any, digits: int = 3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.{digits}f}" if math.isfinite(v) else "–"


class TrainPanel(QWidget):
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
        self.scroll.setMinimumWidth(content.minimumSizeHint().width()
                                    + self.scroll.verticalScrollBar().sizeHint().width())
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

        self.settings_box = QGroupBox("Settings")
        box = QVBoxLayout(self.settings_box)
        budget_form = QFormLayout()
        budget_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.time_budget = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=100000.0,
                                          singleStep=5.0, suffix=" min")
        self.time_budget.setSpecialValueText("no limit")
        self.time_budget.setToolTip("Wall-clock budget of a training (0 = no limit). With the "
                                    "recipe fitted to it, a probe of a few seconds picks the "
                                    "input size, width, depth and precision for this machine")
        self.recipe = QComboBox()
        self.recipe.addItem("Fit to time budget", "auto")
        self.recipe.addItem("Manual (settings below)", "manual")
        self.recipe.setToolTip("Fit: this machine's speed decides the network for the budget; "
                               "Manual: train exactly the settings below")
        budget_form.addRow("Time budget", self.time_budget)
        budget_form.addRow("Recipe", self.recipe)
        box.addLayout(budget_form)
        self.recipe_text = QLabel("")
        self.recipe_text.setObjectName("muted")
        self.recipe_text.setWordWrap(True)
        box.addWidget(self.recipe_text)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        form_l, form_r = QFormLayout(), QFormLayout()
        for form in (form_l, form_r):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        grid.addLayout(form_l, 0, 0)
        grid.addLayout(form_r, 1, 0)

        self.epochs = self._spin(1, 10000, "Passes over the training images")
        self.batch_size = self._spin(1, 512, "Photos per training step")
        self.learning_rate = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1.0,
                                            singleStep=1e-4)
        self.learning_rate.setToolTip("Peak learning rate of the optimiser")
        size = QWidget()
        size_row = QHBoxLayout(size)
        size_row.setContentsMargins(0, 0, 0, 0)
        self.input_height = self._spin(32, 2048, "Input height (multiple of 2^depth)", step=32)
        self.input_width = self._spin(32, 2048, "Input width (multiple of 2^depth)", step=32)
        size_row.addWidget(self.input_height)
        times = QLabel("×")
        times.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        size_row.addWidget(times)
        size_row.addWidget(self.input_width)
        form_l.addRow("Epochs", self.epochs)
        form_l.addRow("Batch size", self.batch_size)
        form_l.addRow("Learning rate", self.learning_rate)
        form_l.addRow("Input H × W", size)

        self.depth = self._spin(1, 6, "Number of down-sampling levels of the U-Net")
        self.base_width = self._spin(4, 256, "Filters of the first U-Net level", step=4)
        self.loss = QComboBox()
        self.loss.addItem("Cross-entropy + Dice", "ce_dice")
        self.loss.addItem("Class-weighted cross-entropy", "weighted_ce")
        self.loss.setToolTip("Both counter the dominance of background pixels")
        self.mixed_precision = QComboBox()
        self.mixed_precision.addItem("Auto (bfloat16 on AMX CPUs)", "auto")
        self.mixed_precision.addItem("Off (float32)", "off")
        self.mixed_precision.addItem("bfloat16", "bf16")
        self.mixed_precision.setToolTip("Auto: bfloat16 on CPUs with AMX, else float32 "
                                        "(bfloat16 is slower without AMX/AVX512-BF16)")
        form_r.addRow("Depth", self.depth)
        form_r.addRow("Base width", self.base_width)
        form_r.addRow("Loss", self.loss)
        form_r.addRow("Mixed precision", self.mixed_precision)
        box.addLayout(grid)

        aug = QGridLayout()
        aug.addWidget(QLabel("Augment:"), 0, 0)
        self.augment: dict[str, QCheckBox] = {}
        for i, (key, label) in enumerate(AUGMENTATIONS):
            check = QCheckBox(label)
            self.augment[key] = check
            aug.addWidget(check, 1 + i // 2, i % 2)
        aug.setColumnStretch(2, 1)
        self.preview_button = QPushButton("Augmentation preview…")
        self.preview_button.setToolTip("Show a few augmented photo/mask pairs")
        self.preview_button.clicked.connect(self.show_augmentation_preview)
        aug.addWidget(self.preview_button, 3, 0, 1, 2)
        box.addLayout(aug)
        root.addWidget(self.settings_box)
        self.time_budget.valueChanged.connect(self._update_recipe_fields)
        self.recipe.currentIndexChanged.connect(self._update_recipe_fields)

        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a new model on the labelled images (Ctrl+T)")
        self.train_button.setShortcut("Ctrl+T")
        self.train_button.clicked.connect(lambda: self.start_training())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the best model is kept")
        self.stop_button.clicked.connect(self.stop)
        self.predict_button = QPushButton("Predict unlabelled")
        self.predict_button.setToolTip("Predict masks for the images you have not labelled, "
                                       "with the selected (or latest) run")
        self.predict_button.clicked.connect(lambda: self.predict_unlabelled())
        self.predict_selected_button = QPushButton("Predict selected")
        self.predict_selected_button.setToolTip(
            "Predict the photo selected in the browser with the selected (or latest) run")
        self.predict_selected_button.clicked.connect(lambda: self.predict_selected())
        self.predict_queue_button = QPushButton("Predict queue")
        self.predict_queue_button.setToolTip(
            "Predict the top of the label-next queue again with the selected (or latest) run")
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

        self.progress = QProgressBar()
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
        self.round_history.sigFineTune.connect(
            lambda run: self.start_training(resume_from=run))
        self.tabs.addTab(self.round_history, "Rounds")
        root.addWidget(self.tabs, 1)

    def _build_runs_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        self.runs = QTableWidget(0, len(RUN_COLUMNS))
        self.runs.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.verticalHeader().hide()
        self.runs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.horizontalHeader().setStretchLastSection(True)
        self.runs.itemSelectionChanged.connect(self._on_run_selected)
        layout.addWidget(self.runs, 1)
        row = QGridLayout()
        self.finetune_button = QPushButton("Fine-tune from selected run")
        self.finetune_button.setToolTip("Continue training the selected run's best model "
                                        "(e.g. after correcting predictions)")
        self.finetune_button.clicked.connect(self._finetune_selected)
        self.export_button = QPushButton("Export SavedModel…")
        self.export_button.setToolTip("Write the selected run's model as a TensorFlow "
                                      "SavedModel that takes uint8 photos")
        self.export_button.clicked.connect(lambda: self.export_saved_model())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_runs)
        row.addWidget(self.finetune_button, 0, 0)
        row.addWidget(self.export_button, 0, 1)
        row.addWidget(self.refresh_button, 1, 0)
        row.setColumnStretch(2, 1)
        layout.addLayout(row)
        return tab

    def _spin(self, lo: int, hi: int, tip: str, step: int = 1) -> QSpinBox:
        box = QSpinBox(minimum=lo, maximum=hi, singleStep=step)
        box.setToolTip(tip)
        return box

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

    def config_dict(self) -> dict[str, Any]:
        """The settings as a ``TrainConfig`` dict (plain types)."""
        budget = float(self.time_budget.value())
        cfg: dict[str, Any] = {
            "epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
            "learning_rate": self.learning_rate.value(),
            "input_height": self.input_height.value(), "input_width": self.input_width.value(),
            "depth": self.depth.value(), "base_width": self.base_width.value(),
            "loss": self.loss.currentData(), "mixed_precision": self.mixed_precision.currentData(),
            "max_minutes": budget if budget > 0 else None,
            "recipe": self.recipe.currentData(),
        }
        for key, check in self.augment.items():
            cfg[key] = check.isChecked()
        base = defaults()
        for key in ("batch_norm", "dropout", "early_stopping_patience"):
            cfg[key] = self._extra.get(key, base[key])
        return cfg

    def set_config(self, cfg: dict[str, Any]) -> None:
        """Show settings (unknown keys are kept and passed on unchanged).

        Settings that give an input size, depth, width or precision but no ``recipe``
        (a project saved before the time budget existed, or a caller's explicit recipe)
        are a manual recipe: an explicit setting always wins.
        """
        merged = panel_defaults()
        merged.update(cfg)
        if "recipe" not in cfg and any(k in cfg for k in FITTED_KEYS):
            merged["recipe"] = "manual"
        for name in ("epochs", "batch_size", "input_height", "input_width", "depth",
                     "base_width"):
            getattr(self, name).setValue(int(merged[name]))
        self.learning_rate.setValue(float(merged["learning_rate"]))
        budget = merged.get("max_minutes")
        self.time_budget.setValue(float(budget) if budget else 0.0)
        for combo, key in ((self.loss, "loss"), (self.mixed_precision, "mixed_precision"),
                           (self.recipe, "recipe")):
            i = combo.findData(merged[key])
            combo.setCurrentIndex(max(i, 0))
        for key, check in self.augment.items():
            check.setChecked(bool(merged[key]))
        self._extra = {k: v for k, v in merged.items()
                       if k in ("batch_norm", "dropout", "early_stopping_patience")}
        self._update_recipe_fields()

    def fitted(self) -> bool:
        """Whether the next training fits its recipe to the time budget."""
        return self.time_budget.value() > 0 and self.recipe.currentData() == "auto"

    def _update_recipe_fields(self) -> None:
        fitted = self.fitted()
        for name in FITTED_KEYS:
            getattr(self, name).setEnabled(not fitted)
        if fitted:
            self.recipe_text.setText("Input size, width, depth and precision: chosen for "
                                     "this machine and the budget when training starts.")
        elif self.time_budget.value() > 0:
            self.recipe_text.setText("Manual recipe: trains the settings below until the "
                                     "budget or the last epoch.")
        else:
            self.recipe_text.setText("No time budget: trains the settings below for the "
                                     "epochs given.")

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
                self.project.set_setting("train", {k: v for k, v in cfg.items()
                                                   if k != "resume_from"})
            except Exception as exc:  # noqa: BLE001 - a settings write must not block training
                log.warning("could not save training settings: %s", exc)
        self.curves.reset()
        self.class_metrics.set_classes([c.name for c in self.project.classes],
                                       [c.color for c in self.project.classes])
        worker = TrainingWorker(cfg, self.project)
        worker.metrics.connect(self._on_train_metrics)
        return self._start_job(worker, "train", "Starting training (loading TensorFlow)…")

    def stop(self) -> None:
        """Ask the running job to stop (training stops after the current batch)."""
        if self._job is not None:
            self._cancel_job()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after the current batch…")

    def predict_unlabelled(self, run_dir: str | Path | None = None) -> bool:
        """Predict every image without a user mask with ``run_dir`` (default: selected/latest)."""
        if not self._can_start("predict"):
            return False
        run = Path(run_dir) if run_dir else self._model_run()
        if run is None:
            self._show_error("No trained model yet: train first (or select a run with a model).")
            return False
        ids = [i for i, r in self.project.images.items()
               if r.status in ("unlabelled", "predicted")]
        if not ids:
            self._show_info("Every image has a user mask; nothing to predict.")
            return False
        return self.predict_ids(ids, run)

    def predict_ids(self, ids: list[str], run_dir: str | Path | None = None,
                    resume: bool = True) -> bool:
        """Predict ``ids`` with ``run_dir`` (default: the selected run, else the latest).

        With ``resume`` (default) photos that already have a fresh prediction of that run
        are skipped, so predicting again after a Stop goes on where it stopped.
        """
        if not self._can_start("predict"):
            return False
        run = Path(run_dir) if run_dir else self._model_run()
        if run is None:
            self._show_error("No trained model yet: train first (or select a run with a model).")
            return False
        ids = [str(i) for i in ids if str(i) in self.project.images]
        if not ids:
            self._show_info("No photo to predict.")
            return False
        worker = PredictionWorker(self.project, ids, run, resume=resume)
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
            self._show_info("The label-next queue is empty: predict the unlabelled photos "
                            f"first ({queue.summary()}).")
            return False
        n = int(top if top is not None else self.queue_top.value())
        return self.predict_ids(queue.ids[:n], run_dir)

    def set_selection_source(self, source: Callable[[], list[str]] | None) -> None:
        """Where "Predict selected" takes its photos from (None disables it)."""
        self.selection = source
        self._update_buttons()

    def export_saved_model(self, out_dir: str | Path | None = None,
                           run_dir: str | Path | None = None) -> bool:
        """Export the selected (or latest) run as a SavedModel into ``out_dir`` (asks if None)."""
        if not self._can_start("export"):
            return False
        run = Path(run_dir) if run_dir else self._model_run()
        if run is None:
            self._show_error("No trained model to export: train first.")
            return False
        if out_dir is None:
            chosen = QFileDialog.getExistingDirectory(
                self, "Export SavedModel into folder", str(self.project.root))
            if not chosen:
                return False
            out_dir = Path(chosen) / f"saved_model_{run.name}"
        worker = ExportWorker(run, Path(out_dir), len(self.project.classes))
        return self._start_job(worker, "export", f"Exporting {run.name} to {out_dir}…")

    def show_augmentation_preview(self) -> None:
        """Open the augmentation preview dialog for the current settings."""
        if self.project is None:
            self._show_error("Open a project first.")
            return
        from fashionseg_gui.views.augment_preview import AugmentPreviewDialog

        dialog = AugmentPreviewDialog(self.project, self.config_dict(), parent=self,
                                      jobs=self.jobs)
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
            self._show_error("The project is read-only "
                             f"({self.project.read_only_reason}); cannot {kind}.")
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
                f"{_fmt(m.get('baseline_miou'))}), {_fmt(m.get('seconds'), 1)} s")
        elif kind == "probe":
            self.status.setText(str(m.get("text") or ""))
        elif kind == "recipe":
            self.recipe_text.setText(f"Chosen: {m.get('text', '')}")
        elif kind == "start":
            self._run_dir = str(m.get("run_dir") or "") or None
            self.status.setText(f"Training on {m.get('train_images', '?')} images, validating "
                                f"on {m.get('val_images', '?')}…")

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
                self._done(f"Predicted {len(ids)} images: review them (status "
                           "\u201cpredicted\u201d) and correct the masks.")
            else:
                self._done("Nothing new to predict: these photos already have a fresh "
                           "prediction of this run.")
            self.sigPredictionsReady.emit(ids)
        elif kind == "export":
            self._done(f"SavedModel written to {result}")
        self._update_buttons()

    def _report_training(self, result: Any, stopped: bool) -> None:
        run_dir = str(getattr(result, "run_dir", "") or self._run_dir or "")
        best = getattr(result, "best_val_miou", None)
        how = "cancelled" if stopped else str(getattr(result, "stopped", "completed"))
        text = {"cancelled": "Training stopped",
                "early_stopping": "Training stopped early (validation mIoU no longer improved)",
                "time_limit": "Training reached its time limit"}.get(how, "Training finished")
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
        self._done({"train": "Training stopped", "predict": "Prediction stopped",
                    "export": "Export stopped"}.get(kind, "Stopped"))
        self._update_buttons()

    def _done(self, text: str) -> None:
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(text)
        self.status.setText(f"{text} ({time.monotonic() - self._t_start:.0f} s)")
        self.sigStatusMessage.emit(text)

    # --- messages and state ------------------------------------------------------------
    def _show_error(self, text: str) -> None:
        self.message.setStyleSheet("QLabel { background: #fde7e9; color: #8a1c24; "
                                   "border: 1px solid #f1b5bb; border-radius: 4px; "
                                   "padding: 6px; }")
        self.message.setText(text)
        self.message.show()
        self.sigStatusMessage.emit(text)

    def _show_info(self, text: str) -> None:
        self.message.setStyleSheet("QLabel { background: #e8f0fe; color: #1a3d7c; "
                                   "border-radius: 4px; padding: 6px; }")
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
        self.predict_selected_button.setEnabled(writable and has_model
                                                and self.selection is not None)
        self.predict_queue_button.setEnabled(writable and has_model)
        self.preview_button.setEnabled(self.project is not None)
        self.finetune_button.setEnabled(writable and self._selected_run() is not None)
        self.round_history.set_enabled_for_training(writable)
        self.export_button.setEnabled(has_model)

    # --- runs ----------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """Re-read ``runs/`` (newest first, by the runs' recorded creation time)."""
        self.runs.blockSignals(True)
        self.runs.setRowCount(0)
        infos = R.list_runs(self.project.runs_dir) if self.project is not None else []
        for info in infos:
            m = info.summary
            row = self.runs.rowCount()
            self.runs.insertRow(row)
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started))
            epochs = m.get("epochs_run", m.get("epochs_done", "–"))
            state = run_state(m, info.has_model)
            values = (info.name, started, str(epochs),
                      _fmt(m.get("best_val_miou", m.get("val_miou"))),
                      _fmt(m.get("baseline_miou")), state)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, str(info.path))
                if m.get("recipe"):
                    item.setToolTip(f"Recipe: {m['recipe']}")
                self.runs.setItem(row, col, item)
        self.runs.blockSignals(False)
        self.round_history.refresh(self.project)
        self._update_buttons()

    def _selected_run(self) -> Path | None:
        rows = self.runs.selectionModel().selectedRows() if self.runs.selectionModel() else []
        if not rows:
            return None
        item = self.runs.item(rows[0].row(), 0)
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _model_run(self) -> Path | None:
        """The selected run if it has a model, else the newest run that has one."""
        if self.project is None:
            return None
        selected = self._selected_run()
        if selected is not None and R.has_model(selected):
            return selected
        for row in range(self.runs.rowCount()):  # newest first: the one latest-run rule
            run = Path(self.runs.item(row, 0).data(Qt.ItemDataRole.UserRole))
            if R.has_model(run):
                return run
        return None

    def _on_run_selected(self) -> None:
        run = self._selected_run()
        self._update_buttons()
        if run is None or self.is_busy():
            return
        self.curves.set_history(R.read_history(run))
        m = R.read_run(run) or {}
        self.class_metrics.set_metrics(m.get("per_class_iou", ()), m.get("confusion", ()))
        if m.get("recipe"):
            self.recipe_text.setText(f"{run.name}: {m['recipe']}")

    def _finetune_selected(self) -> None:
        run = self._selected_run()
        if run is not None:
            self.start_training(resume_from=str(run))


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
