"""A one-line label and a progress bar that never widen their window: long text is cut with
"…" and shown whole in the tooltip."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A plain-text, single-line label whose minimum width is small and constant.

    Its text may be of any length: it is elided to the width the layout gives, so a long tool
    hint or status message never changes the size of the window (nor the canvas beside it).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(0, super().sizeHint().height())

    def is_elided(self) -> bool:
        """Whether the text is cut at the current width."""
        rect = self.contentsRect()
        return self.fontMetrics().horizontalAdvance(self.text()) > rect.width() - 2 * self.margin()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        rect = self.contentsRect().adjusted(self.margin(), 0, -self.margin(), 0)
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)
        painter.end()


class ElidedProgressBar(QProgressBar):
    """A progress bar whose text stays on one line: cut with "…" to the bar's width (Qt's
    styles otherwise wrap a long format onto two lines clipped by the bar's height), the
    whole message in the tooltip. ``format()`` keeps the text as set."""

    #: Room left for the style's frame and text padding, in pixels.
    PADDING = 12

    def setFormat(self, text: str) -> None:  # noqa: N802 (Qt API)
        super().setFormat(text)
        self.setToolTip(text.replace("%p%", "").strip())

    def text(self) -> str:
        full = super().text()
        room = max(self.contentsRect().width() - self.PADDING, 0)
        return self.fontMetrics().elidedText(full, Qt.TextElideMode.ElideRight, room)
