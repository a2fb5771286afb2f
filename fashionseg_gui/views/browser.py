"""The image browser (left dock): a virtual list with thumbnails, status badges and filters.

``QListView`` + :class:`ImageListModel` (a ``QAbstractListModel`` over the project's ids)
+ a filter proxy. Thumbnails are requested only when an item is painted, made off the GUI
thread by :class:`~fashionseg_gui.workers.thumbnails.ThumbnailLoader`, so a project with
thousands of images opens instantly and scrolls smoothly.
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
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import STATUSES, Project
from fashionseg_gui.views.style import BORDER, MUTED, SPLIT_LABELS, STATUS_COLORS, STATUS_LABELS
from fashionseg_gui.workers.thumbnails import THUMB_SIZE, ThumbnailLoader

IdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
SplitRole = Qt.ItemDataRole.UserRole + 3
NameRole = Qt.ItemDataRole.UserRole + 4

ROW_HEIGHT = 64


class ImageListModel(QAbstractListModel):
    """The project's images in order; display data is read live from the records."""

    def __init__(self, thumbs: ThumbnailLoader, parent: Any = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._thumbs = thumbs
        thumbs.sigThumbnailReady.connect(self._on_thumb)

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
        if new[:len(self._ids)] == self._ids:  # appended (the usual import case)
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

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._project is None:
            return None
        image_id = self._ids[index.row()]
        rec = self._project.images.get(image_id)
        if rec is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, NameRole):
            return rec.original_name or rec.file
        if role == IdRole:
            return image_id
        if role == StatusRole:
            return rec.status
        if role == SplitRole:
            return rec.split
        if role == Qt.ItemDataRole.DecorationRole:
            img = self._thumbs.get(image_id)
            if img is None and not self._thumbs.has_failed(image_id):
                self._thumbs.request(image_id, self._project.image_path(image_id))
            return img
        if role == Qt.ItemDataRole.ToolTipRole:
            split = rec.split or "unassigned"
            tip = (f"{rec.original_name}\n{rec.width}×{rec.height} · {STATUS_LABELS[rec.status]}"
                   f" · split: {split}")
            if rec.style:
                tip += f" · style: {rec.style}"
            if rec.warnings:
                tip += "\n" + "\n".join(rec.warnings)
            return tip
        return None

    def _on_thumb(self, image_id: str) -> None:
        self.refresh(image_id)


class ImageFilterProxy(QSortFilterProxyModel):
    """Filters by status (``None`` = all) and by a case-insensitive name fragment."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self._text = ""

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

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        idx = model.index(source_row, 0, source_parent)
        if self._status is not None and model.data(idx, StatusRole) != self._status:
            return False
        if self._text and self._text not in str(model.data(idx, NameRole)).casefold():
            return False
        return True


class ThumbnailDelegate(QStyledItemDelegate):
    """Thumbnail, name, a coloured status badge and the split."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(220, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        r = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(r, QColor("#dbe7fb") if selected else QColor("#ffffff"))
        if selected:
            painter.fillRect(QRect(r.left(), r.top(), 3, r.height()), QColor("#2f6fde"))
        painter.setPen(QColor(BORDER))
        painter.drawLine(r.bottomLeft(), r.bottomRight())
        thumb_box = QRect(r.left() + 8, r.top() + 4, ROW_HEIGHT - 8, ROW_HEIGHT - 8)
        img = index.data(Qt.ItemDataRole.DecorationRole)
        if img is not None and not img.isNull():
            scaled = img.scaled(thumb_box.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation)
            x = thumb_box.left() + (thumb_box.width() - scaled.width()) // 2
            y = thumb_box.top() + (thumb_box.height() - scaled.height()) // 2
            painter.drawImage(x, y, scaled)
        else:
            painter.fillRect(thumb_box, QColor("#eceef1"))
        text_left = thumb_box.right() + 10
        name_rect = QRect(text_left, r.top() + 8, r.right() - text_left - 6, 20)
        font = QFont(option.font)
        painter.setFont(font)
        painter.setPen(QColor("#1f2328"))
        name = option.fontMetrics.elidedText(str(index.data(NameRole)),
                                             Qt.TextElideMode.ElideMiddle, name_rect.width())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        status = index.data(StatusRole) or "unlabelled"
        small = QFont(font)
        small.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        painter.setFont(small)
        label = STATUS_LABELS.get(status, status)
        fm = painter.fontMetrics()
        badge = QRect(text_left, r.top() + 34, fm.horizontalAdvance(label) + 14, fm.height() + 4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLORS.get(status, "#999999")))
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(QPen(QColor("#ffffff")))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        split = SPLIT_LABELS.get(index.data(SplitRole), "")
        if split:
            painter.setPen(QColor(MUTED))
            painter.drawText(QRect(badge.right() + 8, badge.top(), 60, badge.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, split)
        painter.restore()


class ImageBrowser(QWidget):
    """Search box, status filter and the image list.

    Signals
    -------
    sigImageSelected(str)
        The user picked an image (click, keyboard, next/previous).
    """

    sigImageSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = ThumbnailLoader(THUMB_SIZE, parent=self)
        self.model = ImageListModel(self.thumbs, self)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._project: Project | None = None

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by name…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only images whose name contains this text")
        self.status_combo = QComboBox(self)
        self.status_combo.addItem("All images", None)
        for s in STATUSES:
            self.status_combo.addItem(STATUS_LABELS[s], s)
        self.status_combo.setToolTip("Show only images with this status")
        self.view = QListView(self)
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(ThumbnailDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("muted")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 3)
        top.addWidget(self.status_combo, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.count_label)

        self.search.textChanged.connect(self._on_filter_text)
        self.status_combo.currentIndexChanged.connect(self._on_filter_status)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._emitting = True
        self._update_count()

    # --- project ------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Show ``project``'s images (thumbnails from its ``.cache/thumbs``)."""
        self._project = project
        self.thumbs.set_project_root(project.root if project is not None else None)
        self.model.set_project(project)
        self._update_count()

    def on_images_changed(self, _ids: list[str]) -> None:
        """Slot for ``images_changed``: images were added or removed."""
        current = self.current_image_id()
        self.model.sync_ids()
        if current is not None and self.model.row_of(current) >= 0:
            self.select_image(current, emit=False)
        self._update_count()

    def on_image_changed(self, image_id: str) -> None:
        """Slot for ``image_changed``: repaint the row; re-filter if the status changed."""
        self.model.refresh(image_id)
        if self.proxy._status is not None:
            current = self.current_image_id()
            self.proxy.refilter()
            if current is not None:
                self.select_image(current, emit=False)
            self._update_count()

    # --- selection ----------------------------------------------------------------------
    def current_image_id(self) -> str | None:
        idx = self.view.currentIndex()
        return idx.data(IdRole) if idx.isValid() else None

    def visible_ids(self) -> list[str]:
        """Ids shown with the current filters, in order."""
        return [self.proxy.index(r, 0).data(IdRole) for r in range(self.proxy.rowCount())]

    def position(self) -> tuple[int, int]:
        """(1-based position of the current image in the filtered list, filtered count)."""
        idx = self.view.currentIndex()
        return (idx.row() + 1 if idx.isValid() else 0), self.proxy.rowCount()

    def select_image(self, image_id: str | None, emit: bool = True) -> bool:
        """Make ``image_id`` current; False when it is filtered out or unknown."""
        if image_id is None:
            self.view.setCurrentIndex(QModelIndex())
            return False
        row = self.model.row_of(image_id)
        if row < 0:
            return False
        pidx = self.proxy.mapFromSource(self.model.index(row))
        if not pidx.isValid():
            return False
        self._emitting = emit
        try:
            self.view.setCurrentIndex(pidx)
            self.view.scrollTo(pidx)
        finally:
            self._emitting = True
        return True

    def step(self, delta: int) -> str | None:
        """Go ``delta`` images forward (negative: back) in the filtered list."""
        n = self.proxy.rowCount()
        if n == 0:
            return None
        idx = self.view.currentIndex()
        row = idx.row() + delta if idx.isValid() else (0 if delta > 0 else n - 1)
        row = max(0, min(n - 1, row))
        if idx.isValid() and row == idx.row():
            return None
        pidx = self.proxy.index(row, 0)
        self.view.setCurrentIndex(pidx)
        self.view.scrollTo(pidx)
        return pidx.data(IdRole)

    def next_image(self) -> str | None:
        return self.step(1)

    def previous_image(self) -> str | None:
        return self.step(-1)

    # --- internals ----------------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self._emitting:
            self.sigImageSelected.emit(current.data(IdRole))
        self._update_count()

    def _on_filter_text(self, text: str) -> None:
        current = self.current_image_id()
        self.proxy.set_text(text)
        if current:
            self.select_image(current, emit=False)
        self._update_count()

    def _on_filter_status(self, _i: int) -> None:
        current = self.current_image_id()
        self.proxy.set_status(self.status_combo.currentData())
        if current:
            self.select_image(current, emit=False)
        self._update_count()

    def _update_count(self, *_args: Any) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        pos, _ = self.position()
        text = f"{shown} of {total} images" if shown != total else f"{total} images"
        if pos:
            text = f"{pos} / {shown} · " + text
        self.count_label.setText(text)


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.browser PROJECT
    from fashionseg_gui.views.style import run_panel_demo

    raise SystemExit(run_panel_demo(ImageBrowser, 320, 700))
