"""The round history of the correction loop: a table of the runs and a plot of validation
mIoU against labelled photos, with "Fine-tune from best run" one click away.

A passive view of ``core.rounds.history``; the Train panel refreshes it and starts the
fine-tune it asks for (``sigFineTune(run_dir)``).
"""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core import rounds as RD

ROUND_COLUMNS = (
    "Round",
    "Run",
    "Started",
    "Labelled",
    "Corrected",
    "Val mIoU",
    "Reviewed",
    "Pixels changed",
    "Minutes",
)


def _num(value: Any, fmt: str = "{}") -> str:
    return "\u2013" if value is None else fmt.format(value)


class RoundHistory(QWidget):
    """Rounds table + mIoU-vs-labelled plot + fine-tune from the best run.

    Signals
    -------
    sigFineTune(str run_dir)
        "Fine-tune from best run" was clicked.
    """

    sigFineTune = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rounds: list[RD.Round] = []
        self._best: RD.Round | None = None
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(ROUND_COLUMNS))
        self.table.setHorizontalHeaderLabels(ROUND_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, tip in (
            (3, "Photos the run trained and validated on (hand-labelled and corrected)"),
            (4, "Of those, corrected predictions"),
            (5, "Best validation mIoU, on the stable validation split"),
            (6, "Predictions accepted in review since the previous round"),
            (7, "Pixels changed against the predictions in those reviews"),
            (8, "Active review minutes since the previous round"),
        ):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(150)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "labelled photos")
        self.plot.setLabel("left", "val mIoU")
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.curve = self.plot.plot(
            [],
            [],
            pen=pg.mkPen("#d62728", width=2),
            symbol="o",
            symbolSize=8,
            symbolBrush="#d62728",
        )
        self.finetune_button = QPushButton("Fine-tune from best run")
        self.finetune_button.setToolTip(
            "Continue training the best round's model on the photos labelled and corrected so far"
        )
        self.finetune_button.clicked.connect(self._finetune_best)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 2)
        layout.addWidget(self.table, 3)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.finetune_button)
        layout.addLayout(row)
        self.set_rounds([])

    def refresh(self, project: Any) -> None:
        """Re-read the project's rounds (nothing for None)."""
        self.set_rounds(RD.history(project) if project is not None else [])

    def set_rounds(self, rounds: list[RD.Round]) -> None:
        self.rounds = list(rounds)
        self._best = RD.best(self.rounds)
        self.table.setRowCount(0)
        for r in reversed(self.rounds):  # newest on top, as the runs list
            row = self.table.rowCount()
            self.table.insertRow(row)
            started = (
                time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
                if r.created is not None
                else "\u2013"
            )
            values = (
                str(r.number),
                r.name,
                started,
                _num(r.labelled),
                _num(r.corrected),
                _num(r.val_miou, "{:.3f}"),
                str(r.effort_photos),
                f"{r.effort_pixels:,}",
                f"{r.effort_minutes:.1f}",
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, str(r.path))
                if col >= 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if r is self._best:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        xs, ys = RD.curve(self.rounds)
        self.curve.setData(xs, ys)
        if xs:
            self.plot.setXRange(0, max(xs) * 1.1 + 1, padding=0)
            self.plot.setYRange(0, min(1.0, max(ys) * 1.15 + 0.05), padding=0)
        self.finetune_button.setEnabled(self._best is not None)
        if self._best is not None:
            self.finetune_button.setText(
                f"Fine-tune from best run (round {self._best.number}, "
                f"mIoU {self._best.val_miou:.3f})"
            )
        else:
            self.finetune_button.setText("Fine-tune from best run")
        if not self.rounds:
            self.summary.setText("No rounds yet: train a model, predict, review, fine-tune.")
        else:
            last = self.rounds[-1]
            first_miou = next((r.val_miou for r in self.rounds if r.val_miou is not None), None)
            gain = ""
            if first_miou is not None and last.val_miou is not None and len(self.rounds) > 1:
                gain = f"; val mIoU {first_miou:.3f} \u2192 {last.val_miou:.3f}"
            photos = sum(r.effort_photos for r in self.rounds)
            minutes = sum(r.effort_minutes for r in self.rounds)
            self.summary.setText(
                f"{len(self.rounds)} rounds{gain}; {photos} predictions "
                f"corrected in review ({minutes:.1f} active minutes)"
            )

    def best_run(self) -> str | None:
        return str(self._best.path) if self._best is not None else None

    def set_enabled_for_training(self, enabled: bool) -> None:
        self.finetune_button.setEnabled(enabled and self._best is not None)

    def _finetune_best(self) -> None:
        if self._best is not None:
            self.sigFineTune.emit(str(self._best.path))


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    """Show the round history of ``PROJECT`` (default: an empty history)."""
    import argparse
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.style import exec_demo

    parser = argparse.ArgumentParser(prog="python -m fashionseg_gui.views.round_history")
    parser.add_argument("project", nargs="?", help="project folder (read-only)")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = RoundHistory()
    project = None
    if args.project:
        from fashionseg_gui.core.project import Project

        project = Project.open(args.project, read_only=True)
    view.refresh(project)
    view.sigFineTune.connect(lambda run: print(f"fine-tune from {run}"))
    view.resize(1000, 620)
    view.show()
    rc = int(exec_demo(app))
    if project is not None:
        project.close()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
