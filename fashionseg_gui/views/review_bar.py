"""The review bar shown above the canvas while a predicted photo is open.

It says whose prediction this is ("Prediction of run X"), how many predicted photos are
left to review, and holds the review controls: confidence heat-map (H), low-confidence
outlines with their threshold, the label-vs-prediction difference, **Accept** (Enter) and
**Reject** (Shift+Delete). The bar is a passive view: the editor connects its signals.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.views.elided_label import ElidedLabel


class ReviewBar(QWidget):
    """Review controls for one predicted photo.

    Signals
    -------
    sigAccept(), sigReject()
    sigHeatmap(bool), sigOutlines(bool), sigThreshold(float), sigDiff(bool)
    """

    sigAccept = Signal()
    sigReject = Signal()
    sigHeatmap = Signal(bool)
    sigOutlines = Signal(bool)
    sigThreshold = Signal(float)
    sigDiff = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewBar")
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#reviewBar { background: #fff4d6; border-bottom: 1px solid #e0b84c; }"
            "#reviewBar QLabel { color: #4a3700; }"
        )
        self.title = ElidedLabel("", self)  # cut with "…" when narrow, whole in the tooltip
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.left_label = ElidedLabel("", self)
        self.left_label.setStyleSheet("color: #6b5200;")
        self.left_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # the texts give way (clipped, the full text in the tooltip) before the controls do:
        # the bar never widens the window beyond a 1366-pixel screen
        self.heatmap_box = QCheckBox("Heat-map (H)", self)
        self.heatmap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.heatmap_box.setToolTip("Show the model's confidence: red where it is unsure (H)")
        self.heatmap_box.toggled.connect(self.sigHeatmap)
        self.outline_box = QCheckBox("Unsure below", self)
        self.outline_box.setChecked(True)
        self.outline_box.setToolTip("Outline the regions whose confidence is below the threshold")
        self.outline_box.toggled.connect(self.sigOutlines)
        self.threshold_spin = QDoubleSpinBox(self)
        self.threshold_spin.setRange(0.05, 0.99)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(0.6)
        self.threshold_spin.setToolTip("Confidence threshold of the outlines")
        self.threshold_spin.valueChanged.connect(self.sigThreshold)
        self.diff_box = QCheckBox("Changes", self)
        self.diff_box.setToolTip(
            "Show the pixels you changed against the prediction, "
            "coloured by the model's confidence there"
        )
        self.diff_box.toggled.connect(self.sigDiff)
        self.accept_button = QPushButton("Accept (Enter)", self)
        self.accept_button.setToolTip(
            "Keep this as the label (status corrected) and open the next photo to review"
        )
        self.accept_button.clicked.connect(self.sigAccept)
        self.reject_button = QPushButton("Reject (Shift+Del)", self)
        self.reject_button.setToolTip(
            "Discard the prediction (the photo becomes unlabelled "
            "again; the file is kept in predictions/rejected)"
        )
        self.reject_button.clicked.connect(self.sigReject)
        for b in (self.accept_button, self.reject_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Enter stays with the canvas
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 3, 8, 3)
        outer.setSpacing(2)
        texts = QHBoxLayout()
        texts.addWidget(self.title, 3)
        texts.addWidget(self.left_label, 2)
        outer.addLayout(texts)
        row = QHBoxLayout()
        outer.addLayout(row)
        for w in (
            self.heatmap_box,
            self.outline_box,
            self.threshold_spin,
            self.diff_box,
            self.accept_button,
            self.reject_button,
        ):
            row.addWidget(w)
            if w is self.diff_box:
                row.addStretch(1)

    def show_review(self, run: str, left: int, stale: str | None = None) -> None:
        """Show the bar for a prediction of ``run`` with ``left`` photos left to review."""
        who = f"run {run}" if run else "an earlier run"
        if stale:
            self.title.setText(f"Prediction of {who} \u2014 cannot be accepted: {stale}")
            self.title.setStyleSheet("color: #b00020;")
        else:
            self.title.setText(f"Prediction of {who} \u2014 correct it, then accept")
            self.title.setStyleSheet("")
        self.set_left(left)
        self.accept_button.setEnabled(stale is None)
        self.show()

    def set_left(self, left: int) -> None:
        word = "photo" if left == 1 else "photos"
        self.left_label.setText(f"{left} predicted {word} left to review")

    def threshold(self) -> float:
        return float(self.threshold_spin.value())


def main() -> int:  # pragma: no cover - manual use
    """Show the bar on its own (the signals print what they would do)."""
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.style import exec_demo

    app = QApplication.instance() or QApplication(sys.argv[:1])
    bar = ReviewBar()
    bar.show_review("20261201-101500-ab12", 12)
    bar.sigAccept.connect(lambda: print("accept"))
    bar.sigReject.connect(lambda: print("reject"))
    bar.sigHeatmap.connect(lambda on: print(f"heat-map {on}"))
    bar.resize(1000, 60)
    bar.show()
    return int(exec_demo(app))


if __name__ == "__main__":
    raise SystemExit(main())
