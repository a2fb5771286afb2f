"""Live training plots: loss, pixel accuracy and mean IoU curves, per-class IoU, confusion.

The widgets are passive views fed with plain dicts (the ``on_progress`` events of
``fashionseg_gui.core.train.train``). Every curve is created once and then updated with
``setData()`` on the accumulated arrays; per-batch losses arrive already coalesced (a few
updates per second), are smoothed with an exponential moving average here and redrawn at
most ``BATCH_REFRESH_MS`` apart. The shared x axis grows a whole epoch at a time, so a batch
update repaints one curve, not three re-laid-out plots (that kept the GUI busy for 30-60 ms
per batch while training competed for the CPU).

Run standalone for a demo with fake metrics: ``python -m fashionseg_gui.views.plots``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

#: Smoothing factor of the per-batch loss EMA (weight of the newest batch) by default.
EMA_ALPHA = 0.1
#: Minimum milliseconds between two redraws of the per-batch loss curves.
BATCH_REFRESH_MS = 250


def ema_alpha(batches_per_epoch: int) -> float:
    """EMA weight spanning about half an epoch (1 = no smoothing for tiny epochs), <= 50 batches."""
    span = min(max(int(batches_per_epoch) // 2, 1), 50)
    return 2.0 / (span + 1)


_TRAIN_PEN = "#1f77b4"
_VAL_PEN = "#d62728"
_RAW_PEN = (31, 119, 180, 60)
_BASELINE_PEN = "#555555"


class _Series:
    """A growable float64 (x, y) buffer that doubles when full (cheap appends, no copies)."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def extend(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        k = len(xs)
        if self.n + k > len(self._x):
            cap = max(2 * len(self._x), self.n + k)
            self._x = np.resize(self._x, cap)
            self._y = np.resize(self._y, cap)
        self._x[self.n : self.n + k] = xs
        self._y[self.n : self.n + k] = ys
        self.n += k

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]


def _finite(value: Any) -> float:
    """A float, NaN for a missing or non-numeric value (plots skip NaN with connect='finite')."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _style_plot(
    plot: pg.PlotItem, title: str, ylabel: str, legend_offset: tuple[int, int] = (-5, 5)
) -> None:
    plot.setTitle(title, color="#222222", size="10pt")
    plot.showGrid(x=True, y=True, alpha=0.25)
    # Plain numbers on both axes: pyqtgraph would otherwise rescale small values and print
    # a factor such as "(x0.001)" beside the label, which reads as part of the loss. No
    # range enables the scaling (disabling the prefix alone still scales the tick values
    # in pyqtgraph 0.14 and only hides the factor); setLabel() resets the ranges, so they
    # are given with the label.
    for name, text in (("left", ylabel), ("bottom", "epoch")):
        axis = plot.getAxis(name)
        axis.setPen("#666666")
        axis.setTextPen("#222222")
        plot.setLabel(name, text, siPrefixEnableRanges=())
        axis.enableAutoSIPrefix(False)
    legend = plot.addLegend(offset=legend_offset, labelTextColor="#222222", labelTextSize="8pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 200))


def _plot_widget(layout: QVBoxLayout) -> pg.PlotItem:
    """Add a white ``PlotWidget`` to ``layout``; return its PlotItem."""
    widget = pg.PlotWidget(background="w")
    widget.setMinimumHeight(120)
    layout.addWidget(widget)
    return widget.getPlotItem()


class TrainingCurves(QWidget):
    """Three stacked plots: loss, pixel accuracy and mean IoU (train vs validation).

    The mean-IoU plot shows the all-background baseline as a dashed line: a model that
    only learned to predict background scores exactly that.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # Separate PlotWidgets (not one GraphicsLayoutWidget, which crashes at interpreter
        # exit when it outlives the QApplication).
        self.loss_plot, self.acc_plot, self.iou_plot = (_plot_widget(layout) for _ in range(3))
        _style_plot(self.loss_plot, "Loss", "loss")
        # Legends go where the curves rarely are: accuracy rises to the top right,
        # mean IoU starts low on the left and rises.
        _style_plot(self.acc_plot, "Pixel accuracy", "accuracy", legend_offset=(-5, -5))
        _style_plot(self.iou_plot, "Mean IoU", "mIoU", legend_offset=(5, 5))
        for plot in (self.acc_plot, self.iou_plot):
            plot.setXLink(self.loss_plot)
            plot.setYRange(0.0, 1.0, padding=0.02)
        # x follows the training in whole epochs (see the module docstring) until the user
        # zooms or pans; pyqtgraph's "A" button or a new run gives it back
        self.loss_plot.enableAutoRange(x=False)
        self._x_end = 1.0
        self._follow_x = True
        self.loss_plot.setXRange(0.0, self._x_end, padding=0.02)
        for plot in (self.loss_plot, self.acc_plot, self.iou_plot):
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved_view)
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(BATCH_REFRESH_MS)
        self._refresh.timeout.connect(self._redraw_batches)

        def curve(
            plot: pg.PlotItem, name: str, pen: Any, symbol: str | None = None, **kw: Any
        ) -> pg.PlotDataItem:
            brush = pg.mkBrush(pen.color()) if symbol else None
            item = plot.plot(
                name=name,
                pen=pen,
                symbol=symbol,
                symbolSize=5,
                symbolBrush=brush,
                symbolPen=None,
                connect="finite",
                **kw,
            )
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            return item

        # === Curves: each created once, then setData() ===
        self.items: dict[str, pg.PlotDataItem] = {
            "batch_loss_raw": curve(self.loss_plot, "batch", pg.mkPen(_RAW_PEN, width=1)),
            "batch_loss": curve(self.loss_plot, "batch (EMA)", pg.mkPen(_TRAIN_PEN, width=1)),
            "loss": curve(self.loss_plot, "train", pg.mkPen(_TRAIN_PEN, width=2), "o"),
            "val_loss": curve(self.loss_plot, "val", pg.mkPen(_VAL_PEN, width=2), "o"),
            "acc": curve(self.acc_plot, "train", pg.mkPen(_TRAIN_PEN, width=2), "o"),
            "val_acc": curve(self.acc_plot, "val", pg.mkPen(_VAL_PEN, width=2), "o"),
            "miou": curve(self.iou_plot, "train", pg.mkPen(_TRAIN_PEN, width=2), "o"),
            "val_miou": curve(self.iou_plot, "val", pg.mkPen(_VAL_PEN, width=2), "o"),
            "baseline_miou": curve(
                self.iou_plot,
                "all background",
                pg.mkPen(_BASELINE_PEN, width=1.5, style=Qt.PenStyle.DashLine),
            ),
        }
        self._series = {name: _Series() for name in self.items}
        self._ema: float | None = None
        self._baseline: float = math.nan

    # --- updates ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all data (a new run starts)."""
        self._refresh.stop()
        for name, series in self._series.items():
            series.clear()
            self.items[name].setData([], [])
        self._ema = None
        self._baseline = math.nan
        self._x_end, self._follow_x = 1.0, True
        self.loss_plot.enableAutoRange(x=False)
        self.loss_plot.setXRange(0.0, self._x_end, padding=0.02)

    def _user_moved_view(self, *_: Any) -> None:
        self._follow_x = False

    def _extend_x(self, x: float) -> None:
        """Grow the shared x range to the next whole epoch past ``x`` (if we follow it)."""
        if x <= self._x_end:
            return
        self._x_end = float(math.ceil(x))
        view = self.loss_plot.getViewBox()
        if self._follow_x and not view.state["autoRange"][0]:
            self.loss_plot.setXRange(0.0, self._x_end, padding=0.02)

    def _redraw_batches(self) -> None:
        for name in ("batch_loss_raw", "batch_loss"):
            series = self._series[name]
            self.items[name].setData(series.x, series.y)

    def add_batch_losses(
        self, points: Iterable[Sequence[float]], batches_per_epoch: int | None = None
    ) -> None:
        """Append per-batch losses ``[(x_in_epochs, loss), ...]`` and update the EMA curve.

        The EMA spans about half an epoch when ``batches_per_epoch`` is given.
        """
        alpha = EMA_ALPHA if not batches_per_epoch else ema_alpha(batches_per_epoch)
        xs, ys, emas = [], [], []
        ema = self._ema
        for x, loss in points:
            loss = _finite(loss)
            if math.isnan(loss):
                continue
            ema = loss if ema is None else (1.0 - alpha) * ema + alpha * loss
            xs.append(float(x))
            ys.append(loss)
            emas.append(ema)
        if not xs:
            return
        self._ema = ema
        self._series["batch_loss_raw"].extend(xs, ys)
        self._series["batch_loss"].extend(xs, emas)
        self._extend_x(xs[-1])
        if not self._refresh.isActive():
            self._refresh.start()

    def add_epoch(self, m: Mapping[str, Any]) -> None:
        """Append the epoch-level metrics of one ``{"event": "epoch", ...}`` dict."""
        x = float(m.get("epoch", self._series["loss"].n + 1))
        for key in ("loss", "val_loss", "acc", "val_acc", "miou", "val_miou"):
            if key in m:
                self._append(key, [x], [_finite(m.get(key))])
        baseline = _finite(m.get("baseline_miou"))
        if not math.isnan(baseline):
            self._baseline = baseline
        if not math.isnan(self._baseline):
            # A horizontal dashed line from the first to the latest epoch (at least 1 wide).
            x0 = min(0.0, self._series["loss"].x.min() if self._series["loss"].n else 0.0)
            x1 = max(x, 1.0)
            series = self._series["baseline_miou"]
            series.clear()
            series.extend([x0, x1], [self._baseline, self._baseline])
            self.items["baseline_miou"].setData(series.x, series.y)

    def set_history(self, epochs: Iterable[Mapping[str, Any]]) -> None:
        """Show a finished run: its epoch rows (from ``history.csv`` or ``metrics.json``)."""
        self.reset()
        for row in epochs:
            self.add_epoch(row)

    def _append(self, name: str, xs: Sequence[float], ys: Sequence[float]) -> None:
        series = self._series[name]
        series.extend(xs, ys)
        self.items[name].setData(series.x, series.y)
        if xs:
            self._extend_x(max(xs))

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) arrays of a curve, e.g. ``"val_miou"`` (copies; for tests and export)."""
        series = self._series[name]
        return series.x.copy(), series.y.copy()


class ClassMetrics(QWidget):
    """Per-class validation IoU as a bar chart and the confusion matrix as a heat map.

    The confusion matrix is normalised per row (true class), so each cell reads as
    "fraction of the true class's pixels predicted as this class"; the cell text shows it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        # === Per-class IoU ===
        self.iou_plot = _plot_widget(layout)
        self.iou_plot.setTitle("Per-class IoU (validation)", color="#222222", size="10pt")
        self.iou_plot.setYRange(0.0, 1.0, padding=0.02)
        self.iou_plot.setMouseEnabled(x=False, y=False)
        self.iou_plot.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.iou_plot.addItem(self.bars)

        # === Confusion matrix ===
        self.cm_plot = _plot_widget(layout)
        self.cm_plot.setTitle(
            "Confusion (rows: true, columns: predicted)", color="#222222", size="10pt"
        )
        self.cm_plot.setAspectLocked(True)
        self.cm_plot.setMouseEnabled(x=False, y=False)
        self.cm_plot.invertY(True)
        self.cm_image = pg.ImageItem(axisOrder="row-major")
        self.cm_image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.cm_image.setLevels((0.0, 1.0))
        self.cm_plot.addItem(self.cm_image)
        for plot in (self.iou_plot, self.cm_plot):
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen("#666666")
                plot.getAxis(name).setTextPen("#222222")

        self._names: list[str] = []
        self._colors: list[str] = []
        self._cells: list[pg.TextItem] = []
        self.iou = np.zeros(0)
        self.confusion = np.zeros((0, 0))

    def set_classes(self, names: Sequence[str], colors: Sequence[str] = ()) -> None:
        """Set the class names (axis ticks) and colours (bars); clears the data."""
        self._names = [str(n) for n in names]
        self._colors = [str(c) for c in colors] or ["#888888"] * len(self._names)
        n = len(self._names)
        ticks = [[(i, name) for i, name in enumerate(self._names)]]
        self.iou_plot.getAxis("bottom").setTicks(ticks)
        # Columns get short names: full names would overlap under narrow cells.
        self.cm_plot.getAxis("bottom").setTicks([[(i, name[:5]) for i, name in ticks[0]]])
        self.cm_plot.getAxis("left").setTicks(ticks)
        self.iou_plot.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        for cell in self._cells:
            self.cm_plot.removeItem(cell)
        self._cells = []
        font = QFont()
        font.setPointSize(7)
        if n <= 12:  # the numbers stay readable only for a handful of classes
            for r in range(n):
                for c in range(n):
                    cell = pg.TextItem("", anchor=(0.5, 0.5))
                    cell.setFont(font)
                    cell.setPos(c, r)
                    self.cm_plot.addItem(cell)
                    self._cells.append(cell)
        self.clear()

    def clear(self) -> None:
        """Remove the data but keep the class names."""
        self.set_metrics([], [])

    def set_metrics(self, per_class_iou: Sequence[Any], confusion: Sequence[Sequence[Any]]) -> None:
        """Show one epoch's per-class IoU list and confusion matrix (counts or fractions)."""
        iou = np.array([_finite(v) for v in per_class_iou], dtype=float)
        self.iou = iou
        shown = np.nan_to_num(iou, nan=0.0)
        brushes = [pg.mkBrush(self._color(i)) for i in range(len(shown))]
        self.bars.setOpts(
            x=np.arange(len(shown)),
            height=shown,
            width=0.6,
            brushes=brushes,
            pen=pg.mkPen("#444444"),
        )
        cm = np.asarray(confusion, dtype=float)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
            cm = np.zeros((len(self._names), len(self._names)))
        rows = cm.sum(axis=1, keepdims=True)
        norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
        self.confusion = norm
        if norm.size:
            self.cm_image.setImage(norm, levels=(0.0, 1.0), autoLevels=False)
            self.cm_image.setRect(-0.5, -0.5, norm.shape[1], norm.shape[0])
        else:
            self.cm_image.clear()
        n = int(math.isqrt(len(self._cells)))
        for r in range(n):
            for c in range(n):
                cell = self._cells[r * n + c]
                if r < norm.shape[0] and c < norm.shape[1] and rows[r, 0] > 0:
                    v = norm[r, c]
                    cell.setText(f"{v:.2f}")
                    cell.setColor(QColor("#000000") if v > 0.6 else QColor("#ffffff"))
                else:
                    cell.setText("")

    def _color(self, i: int) -> str:
        color = self._colors[i] if i < len(self._colors) else "#888888"
        # Pure black (background) on the dark grid would vanish; use a neutral grey.
        return "#555555" if color.lower() == "#000000" else color


if __name__ == "__main__":  # pragma: no cover - manual demo
    import sys

    from PySide6.QtWidgets import QApplication, QHBoxLayout

    app = QApplication(sys.argv)
    win = QWidget()
    row = QHBoxLayout(win)
    curves, per_class = TrainingCurves(), ClassMetrics()
    row.addWidget(curves)
    row.addWidget(per_class)
    per_class.set_classes(
        ["background", "skin", "upper", "lower"], ["#000000", "#e6a23c", "#409eff", "#f56c6c"]
    )
    rng = np.random.default_rng(0)
    for epoch in range(1, 9):
        curves.add_batch_losses(
            [(epoch - 1 + b / 20, 1.5 / epoch + rng.normal(0, 0.1)) for b in range(1, 21)]
        )
        curves.add_epoch(
            {
                "epoch": epoch,
                "loss": 1.5 / epoch,
                "val_loss": 1.6 / epoch,
                "acc": 1 - 0.5 / epoch,
                "val_acc": 1 - 0.55 / epoch,
                "miou": 0.8 - 0.6 / epoch,
                "val_miou": 0.75 - 0.6 / epoch,
                "baseline_miou": 0.17,
            }
        )
    per_class.set_metrics([0.95, 0.6, 0.7, 0.5], rng.integers(0, 100, (4, 4)) + np.eye(4) * 400)
    win.resize(1100, 600)
    win.show()
    from fashionseg_gui.views.style import exec_demo

    sys.exit(exec_demo(app))
