"""The image browser's list model, filter proxy and row delegate.

:class:`ImageListModel` is a ``QAbstractListModel`` over the project's ids whose display data
is read live from the records (thumbnails come from a
:class:`~fashionseg_gui.workers.thumbnails.ThumbnailLoader`); :class:`ImageFilterProxy`
filters by status / split / score and sorts; :class:`ThumbnailDelegate` paints a row (the
thumbnail, the elided name, the status badge, the split and the score). The widget that puts
them together is :class:`fashionseg_gui.views.browser.ImageBrowser`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from fashionseg_gui.core.project import Project
from fashionseg_gui.views.style import BORDER, MUTED, SPLIT_LABELS, STATUS_COLORS, STATUS_LABELS
from fashionseg_gui.workers.thumbnails import ThumbnailLoader

IdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
SplitRole = Qt.ItemDataRole.UserRole + 3
NameRole = Qt.ItemDataRole.UserRole + 4
ScoreRole = Qt.ItemDataRole.UserRole + 5
SortRole = Qt.ItemDataRole.UserRole + 6
ScoreLabelRole = Qt.ItemDataRole.UserRole + 7

ROW_HEIGHT = 64
#: The narrowest row the delegate asks for; a wider dock gives the row its whole width.
MIN_ROW_WIDTH = 120

#: Filter combo entries beside the statuses: a split, or the photos that have a score.
SPLIT_FILTERS = (
    ("split:train", "Training set"),
    ("split:val", "Validation set"),
    ("split:test", "Test set"),
    ("split:none", "No split yet"),
)
SCORED = "scored"
#: Sort combo entries (the score entry is added by ``set_scores``).
SORT_ORDER, SORT_NAME, SORT_SCORE = "order", "name", "score"
#: Combos that do not widen the dock to their longest entry.
ADJUST_TO_MINIMUM = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
SPLIT_NAMES = {"train": "training set", "val": "validation set", "test": "test set"}


class ImageListModel(QAbstractListModel):
    """The project's images in order; display data is read live from the records."""

    def __init__(self, thumbs: ThumbnailLoader, parent: Any = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._thumbs = thumbs
        self._scores: dict[str, float] = {}
        self.score_label = ""
        thumbs.sigThumbnailReady.connect(self._on_thumb)

    def set_scores(self, scores: dict[str, float]) -> None:
        """Scores to show (and sort by) for some images; {} shows none."""
        self._scores = {str(k): float(v) for k, v in scores.items()}
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))

    def score(self, image_id: str) -> float | None:
        return self._scores.get(image_id)

    def set_project(self, project: Project | None) -> None:
        """Show another project (or none)."""
        self.beginResetModel()
        self._project = project
        self._ids = list(project.images) if project is not None else []
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._row = {i: r for r, i in enumerate(self._ids)}

    def sync_ids(self) -> None:
        """Re-read the list of ids after images were added or removed."""
        if self._project is None:
            return
        new = list(self._project.images)
        if new == self._ids:
            return
        if new[: len(self._ids)] == self._ids:  # appended (the usual import case)
            self.beginInsertRows(QModelIndex(), len(self._ids), len(new) - 1)
            self._ids = new
            self._reindex()
            self.endInsertRows()
            return
        self.beginResetModel()
        self._ids = new
        self._reindex()
        self.endResetModel()

    def refresh(self, image_id: str) -> None:
        """Repaint one row (its status, split or thumbnail changed)."""
        row = self._row.get(image_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)

    def row_of(self, image_id: str) -> int:
        return self._row.get(image_id, -1)

    def image_id(self, row: int) -> str:
        return self._ids[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or self._project is None:
            return None
        image_id = self._ids[index.row()]
        if role == IdRole:  # known even while a removed image's row is still listed
            return image_id
        rec = self._project.images.get(image_id)
        if rec is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, NameRole):
            return rec.original_name or rec.file
        if role == StatusRole:
            return rec.status
        if role == SplitRole:
            return rec.split
        if role == Qt.ItemDataRole.DecorationRole:
            img = self._thumbs.get(image_id)
            if img is None and not self._thumbs.has_failed(image_id):
                self._thumbs.request(image_id, self._project.image_path(image_id))
            return img
        if role == ScoreRole:
            return self._scores.get(image_id)
        if role == ScoreLabelRole:
            return self.score_label
        if role == SortRole:
            return index.row()
        if role == Qt.ItemDataRole.ToolTipRole:
            split = SPLIT_NAMES.get(rec.split or "", "not assigned yet (at the first training)")
            tip = (
                f"{rec.original_name or rec.file}\n{rec.width}×{rec.height} · "
                f"{STATUS_LABELS[rec.status]} · split: {split}"
            )
            if rec.style:
                tip += f" · style: {rec.style}"
            if rec.source:
                tip += f"\nImported from: {rec.source}"
            tip += f"\nId: {image_id}"
            score = self._scores.get(image_id)
            if score is not None:
                tip += f"\nScore: {score:.4g}"
            if rec.warnings:
                tip += "\n" + "\n".join(rec.warnings)
            return tip
        return None

    def _on_thumb(self, image_id: str) -> None:
        self.refresh(image_id)


class ImageFilterProxy(QSortFilterProxyModel):
    """Filters by status, split or score (``None`` = all) and by a name fragment; sorts.

    ``set_status`` takes a status, ``"split:train"`` / ``"split:val"`` / ``"split:test"`` /
    ``"split:none"``, or ``"scored"`` (photos with a score). ``set_sort`` takes
    ``"order"`` (the project's order), ``"name"`` or ``"score"`` (highest first, unscored
    photos last).
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self._text = ""
        self._sort = SORT_ORDER
        self.setSortRole(SortRole)

    def _refilter(self, apply: Any) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateRowsFilter()

    def set_status(self, status: str | None) -> None:
        self._refilter(lambda: setattr(self, "_status", status))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().casefold()))

    def refilter(self) -> None:
        """Apply the filters again (a record's status changed)."""
        self._refilter(lambda: None)

    def sort_key(self) -> str:
        return self._sort

    def set_sort(self, key: str) -> None:
        self._sort = key
        if key == SORT_ORDER:
            self.sort(-1)  # back to the source (project) order
            self.invalidate()
        elif key == SORT_SCORE:
            self.sort(0, Qt.SortOrder.DescendingOrder)
            self.invalidate()
        else:
            self.sort(0, Qt.SortOrder.AscendingOrder)
            self.invalidate()

    def lessThan(
        self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if self._sort == SORT_SCORE:
            a, b = left.data(ScoreRole), right.data(ScoreRole)
            a = float("-inf") if a is None else a
            b = float("-inf") if b is None else b
            if a != b:
                return a < b
            return left.row() > right.row()  # ties keep the project order (descending sort)
        if self._sort == SORT_NAME:
            a, b = str(left.data(NameRole)).casefold(), str(right.data(NameRole)).casefold()
            if a != b:
                return a < b
        return left.row() < right.row()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        idx = model.index(source_row, 0, source_parent)
        status = self._status
        if status is not None:
            if status == SCORED:
                if model.data(idx, ScoreRole) is None:
                    return False
            elif status.startswith("split:"):
                split = model.data(idx, SplitRole) or "none"
                if split != status[len("split:") :]:
                    return False
            elif model.data(idx, StatusRole) != status:
                return False
        if self._text and self._text not in str(model.data(idx, NameRole)).casefold():
            return False
        return True


class ThumbnailDelegate(QStyledItemDelegate):
    """Thumbnail, name, a coloured status badge, the split and the score, fitted to the row.

    The row is as wide as the list (never wider, so no horizontal scroll bar): the name is
    elided in the middle; the badge, the split and the score keep their whole text and
    wrap onto a third line when the row is too narrow for them side by side.
    """

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(MIN_ROW_WIDTH, ROW_HEIGHT)

    @staticmethod
    def small_font(font: QFont) -> QFont:
        small = QFont(font)
        small.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        return small

    def layout(
        self, rect: QRect, font: QFont, index: QModelIndex | QPersistentModelIndex
    ) -> dict[str, tuple[QRect, str]]:
        """Where each part of a row goes: ``{part: (rect, text)}`` for ``thumb``, ``name``,
        ``badge``, ``split`` and ``score`` (the last two only when there is one)."""
        thumb = QRect(rect.left() + 8, rect.top() + 4, ROW_HEIGHT - 8, ROW_HEIGHT - 8)
        left = thumb.right() + 10
        right = rect.right() - 6
        width = max(1, right - left)
        fm = QFontMetrics(font)
        name = fm.elidedText(str(index.data(NameRole)), Qt.TextElideMode.ElideMiddle, width)
        parts: dict[str, tuple[QRect, str]] = {
            "thumb": (thumb, ""),
            "name": (QRect(left, rect.top() + 6, width, fm.height() + 2), name),
        }
        sfm = QFontMetrics(self.small_font(font))
        h = sfm.height() + 4
        status = index.data(StatusRole) or "unlabelled"
        label = STATUS_LABELS.get(status, status)
        x, y = left, rect.top() + 6 + fm.height() + 6
        badge_w = min(sfm.horizontalAdvance(label) + 14, width)
        parts["badge"] = (QRect(x, y, badge_w, h), label)
        x += badge_w + 8
        extra = []
        split = SPLIT_LABELS.get(index.data(SplitRole), "")
        if split:
            extra.append(("split", split))
        score = index.data(ScoreRole)
        if score is not None:
            score_label = index.data(ScoreLabelRole) or "score"
            extra.append(("score", f"{score_label} {score:.3g}"))
        for part, text in extra:
            w = sfm.horizontalAdvance(text) + 4
            if x + w > right and x > left:  # no room beside: next line
                x, y = left, y + h + 1
            parts[part] = (QRect(x, y, min(w, width), h), text)
            x += w + 8
        return parts

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        r = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(r, QColor("#dbe7fb") if selected else QColor("#ffffff"))
        if selected:
            painter.fillRect(QRect(r.left(), r.top(), 3, r.height()), QColor("#2f6fde"))
        painter.setPen(QColor(BORDER))
        painter.drawLine(r.bottomLeft(), r.bottomRight())
        font = QFont(option.font)
        parts = self.layout(r, font, index)
        thumb_box = parts["thumb"][0]
        img = index.data(Qt.ItemDataRole.DecorationRole)
        if img is not None and not img.isNull():
            scaled = img.scaled(
                thumb_box.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = thumb_box.left() + (thumb_box.width() - scaled.width()) // 2
            y = thumb_box.top() + (thumb_box.height() - scaled.height()) // 2
            painter.drawImage(x, y, scaled)
        else:
            painter.fillRect(thumb_box, QColor("#eceef1"))
        painter.setFont(font)
        painter.setPen(QColor("#1f2328"))
        name_rect, name = parts["name"]
        left_centre = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(name_rect, left_centre, name)
        painter.setFont(self.small_font(font))
        badge, label = parts["badge"]
        status = index.data(StatusRole) or "unlabelled"
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLORS.get(status, "#999999")))
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(QPen(QColor("#ffffff")))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        for part, colour in (("split", MUTED), ("score", "#1f2328")):
            if part in parts:
                rect, text = parts[part]
                painter.setPen(QColor(colour))
                painter.drawText(rect, left_centre, text)
        painter.restore()
