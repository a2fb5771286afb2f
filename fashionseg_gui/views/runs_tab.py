"""The Train panel's "Runs" tab: the past runs of the project, fine-tune and export.

:class:`RunsTab` is mixed into :class:`~fashionseg_gui.views.train_panel.TrainPanel`. The
table lists ``<project>/runs/*`` newest first (by the runs' recorded creation time); the
selected run (or the newest one with a model) is the one prediction and export use, and
selecting a run shows its curves and per-class metrics.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core import runs as R

if TYPE_CHECKING:
    from fashionseg_gui.views.plots import ClassMetrics, TrainingCurves
    from fashionseg_gui.views.round_history import RoundHistory

RUN_COLUMNS = ("Run", "Started", "Epochs", "Val mIoU", "Baseline", "State")


def run_state(summary: dict[str, Any], has_model: bool) -> str:
    """The "State" column: how the run ended and whether it kept a model."""
    how = str(summary.get("stopped") or summary.get("state") or "–")
    if how == "cancelled":
        return "stopped, model kept" if has_model else "stopped (no model)"
    how = how.replace("_", " ")
    return how if has_model else f"{how} (no model)"


def fmt_metric(value: Any, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; "–" when it is missing or not finite."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.{digits}f}" if math.isfinite(v) else "–"


class RunsTab:
    """The runs table and its buttons (a mixin of the Train panel, which provides
    ``project``, ``curves``, ``class_metrics``, ``round_history``, ``recipe_text``,
    ``is_busy()``, ``start_training()``, ``export_saved_model()`` and
    ``_update_buttons()``)."""

    if TYPE_CHECKING:
        project: Any
        curves: TrainingCurves
        class_metrics: ClassMetrics
        round_history: RoundHistory
        recipe_text: QLabel

        def is_busy(self) -> bool: ...
        def start_training(self, resume_from: str | None = None) -> bool: ...
        def export_saved_model(
            self, out_dir: str | Path | None = None, *args: Any, **kwargs: Any
        ) -> bool: ...
        def _update_buttons(self) -> None: ...

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
        self.finetune_button.setToolTip(
            "Continue training the selected run's best model (e.g. after correcting predictions)"
        )
        self.finetune_button.clicked.connect(self._finetune_selected)
        self.export_button = QPushButton("Export SavedModel…")
        self.export_button.setToolTip(
            "Write the selected run's model as a TensorFlow SavedModel that takes uint8 photos"
        )
        self.export_button.clicked.connect(lambda: self.export_saved_model())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_runs)
        row.addWidget(self.finetune_button, 0, 0)
        row.addWidget(self.export_button, 0, 1)
        row.addWidget(self.refresh_button, 1, 0)
        row.setColumnStretch(2, 1)
        layout.addLayout(row)
        return tab

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
            values = (
                info.name,
                started,
                str(epochs),
                fmt_metric(m.get("best_val_miou", m.get("val_miou"))),
                fmt_metric(m.get("baseline_miou")),
                state,
            )
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
