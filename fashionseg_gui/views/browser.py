"""The image browser (left dock): a virtual list with thumbnails, status badges and filters.

``QListView`` + :class:`ImageListModel` (a ``QAbstractListModel`` over the project's ids)
+ a filter proxy. Thumbnails are requested only when an item is painted, made off the GUI
thread by :class:`~fashionseg_gui.workers.thumbnails.ThumbnailLoader`, so a project with
thousands of images opens instantly and scrolls smoothly.

Each row fits the dock's width (the name is elided in the middle, no horizontal scroll bar)
and shows the status badge, the split (train / val / test) and, when a score was given with
:meth:`ImageBrowser.set_scores`, the score. The list has an extended selection: its context
menu and the Delete key remove the selected photos (the window moves them to the project
trash), and move them between the training and the validation set.

Score API (for review queues): ``set_scores({id: score}, label)`` shows ``label score`` on
each scored row, adds the sort "By <label> (highest first)" and the filter "Scored by
<label>", and sorts by it; ``clear_scores()`` takes them away again. ``visible_ids()`` is the
order shown and ``select_next()`` moves to the next photo of it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import STATUSES, Project, ProjectError
from fashionseg_gui.views.style import BORDER, MUTED, SPLIT_LABELS, STATUS_COLORS, STATUS_LABELS
from fashionseg_gui.workers.thumbnails import THUMB_SIZE, ThumbnailLoader

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
SPLIT_FILTERS = (("split:train", "Training set"), ("split:val", "Validation set"),
                 ("split:test", "Test set"), ("split:none", "No split yet"))
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
            tip = (f"{rec.original_name or rec.file}\n{rec.width}×{rec.height} · "
                   f"{STATUS_LABELS[rec.status]} · split: {split}")
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

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,
                 right: QModelIndex | QPersistentModelIndex) -> bool:
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

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        idx = model.index(source_row, 0, source_parent)
        status = self._status
        if status is not None:
            if status == SCORED:
                if model.data(idx, ScoreRole) is None:
                    return False
            elif status.startswith("split:"):
                split = model.data(idx, SplitRole) or "none"
                if split != status[len("split:"):]:
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

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(MIN_ROW_WIDTH, ROW_HEIGHT)

    @staticmethod
    def small_font(font: QFont) -> QFont:
        small = QFont(font)
        small.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        return small

    def layout(self, rect: QRect, font: QFont, index: QModelIndex | QPersistentModelIndex
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
        font = QFont(option.font)
        parts = self.layout(r, font, index)
        thumb_box = parts["thumb"][0]
        img = index.data(Qt.ItemDataRole.DecorationRole)
        if img is not None and not img.isNull():
            scaled = img.scaled(thumb_box.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation)
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


class ImageBrowser(QWidget):
    """Search box, status / split / score filter, sort, and the image list.

    Signals
    -------
    sigImageSelected(str)
        The user picked an image (click, keyboard, next/previous).
    sigPositionChanged(int, int)
        The current image's 1-based position in the shown list and the list's length
        changed (another image, a filter, a sort, images added or removed).
    sigRemoveRequested(list)
        The user asked to remove these images (context menu or Delete on the list); the
        window asks to confirm and moves them to the project trash.
    sigTrashRequested()
        The user asked for the trash (context menu "Restore from trash…").
    sigError(str)
        An edit (moving photos to a split) was refused.
    """

    sigImageSelected = Signal(str)
    sigPositionChanged = Signal(int, int)
    sigRemoveRequested = Signal(list)
    sigTrashRequested = Signal()
    sigError = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = ThumbnailLoader(THUMB_SIZE, parent=self)
        self.model = ImageListModel(self.thumbs, self)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._project: Project | None = None
        self._last_position = (-1, -1)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by name…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only images whose name contains this text")
        self.search.setMinimumWidth(60)
        self.status_combo = QComboBox(self)
        self.status_combo.addItem("All images", None)
        for s in STATUSES:
            self.status_combo.addItem(STATUS_LABELS[s], s)
        self.status_combo.insertSeparator(self.status_combo.count())
        for key, text in SPLIT_FILTERS:
            self.status_combo.addItem(text, key)
        self.status_combo.setToolTip("Show only images with this status or in this split")
        self.status_combo.setSizeAdjustPolicy(ADJUST_TO_MINIMUM)
        self.status_combo.setMinimumContentsLength(6)
        self.sort_combo = QComboBox(self)
        self.sort_combo.addItem("Project order", SORT_ORDER)
        self.sort_combo.addItem("Name", SORT_NAME)
        self.sort_combo.setToolTip("Order of the list")
        self.sort_combo.setSizeAdjustPolicy(ADJUST_TO_MINIMUM)
        self.sort_combo.setMinimumContentsLength(6)
        self.view = QListView(self)
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(ThumbnailDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setMinimumWidth(MIN_ROW_WIDTH)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("muted")

        # Actions of the list (its context menu; Delete works while the list has the focus,
        # so Delete in the editor still deletes a shape).
        self.remove_action = QAction("Remove from project…", self)
        self.remove_action.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.setToolTip("Move the selected photos to the project trash "
                                      "(restorable; the original files are not touched)")
        self.remove_action.triggered.connect(lambda _c=False: self.request_remove())
        self.view.addAction(self.remove_action)
        self.to_train_action = QAction("Move to training set", self)
        self.to_train_action.triggered.connect(lambda _c=False: self.move_selected_to("train"))
        self.to_val_action = QAction("Move to validation set", self)
        self.to_val_action.triggered.connect(lambda _c=False: self.move_selected_to("val"))
        self.trash_action = QAction("Restore from trash…", self)
        self.trash_action.triggered.connect(lambda _c=False: self.sigTrashRequested.emit())

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 3)
        top.addWidget(self.status_combo, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        sort_row = QHBoxLayout()
        sort_row.setContentsMargins(0, 0, 0, 0)
        sort_label = QLabel("Sort:", self)
        sort_label.setObjectName("muted")
        sort_row.addWidget(sort_label)
        sort_row.addWidget(self.sort_combo, 1)
        lay.addLayout(sort_row)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.count_label)

        self.search.textChanged.connect(self._on_filter_text)
        self.status_combo.currentIndexChanged.connect(self._on_filter_status)
        self.sort_combo.currentIndexChanged.connect(self._on_sort)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())
        self.view.customContextMenuRequested.connect(self._show_context_menu)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._emitting = True
        self._update_count()
        self._update_actions()

    # --- project ------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Show ``project``'s images (thumbnails from its ``.cache/thumbs``)."""
        self._project = project
        self.thumbs.set_project_root(project.root if project is not None else None)
        self.clear_scores()
        self.model.set_project(project)
        self._update_count()
        self._update_actions()

    def on_images_changed(self, _ids: list[str]) -> None:
        """Slot for ``images_changed``: images were added or removed.

        When the current image was removed, the one that took its place in the list (or
        the new last one) becomes current and is announced with ``sigImageSelected``.
        """
        current = self.current_image_id()
        row = self.view.currentIndex().row()
        self.model.sync_ids()
        if current is not None and self.model.row_of(current) >= 0:
            self.select_image(current, emit=False)
        elif current is not None and self._project is not None:
            n = self.proxy.rowCount()
            if n:
                pidx = self.proxy.index(max(0, min(row, n - 1)), 0)
                self.view.setCurrentIndex(pidx)
                self.view.scrollTo(pidx)
        self._update_count()
        self._update_actions()

    def on_image_changed(self, image_id: str) -> None:
        """Slot for ``image_changed``: repaint the row; re-filter if the status changed."""
        self.model.refresh(image_id)
        if self.proxy._status is not None:
            current = self.current_image_id()
            self.proxy.refilter()
            if current is not None:
                self.select_image(current, emit=False)
            self._update_count()

    # --- scores (review queues) -----------------------------------------------------------
    def set_scores(self, scores: dict[str, float], label: str) -> None:
        """Show a score beside each thumbnail and sort by it (highest first).

        ``scores`` maps image ids to numbers (ids not in the project are ignored, images
        without a score come last); ``label`` names it ("uncertainty"): the rows read
        ``label 0.42``, the sort combo gains "By <label> (highest first)", the filter combo
        "Scored by <label>" (only the scored photos). Calling it again replaces both.
        """
        self.clear_scores(keep_sort=True)
        self.model.score_label = label
        self.model.set_scores(scores)
        self.sort_combo.addItem(f"By {label} (highest first)", SORT_SCORE)
        self.status_combo.addItem(f"Scored by {label}", SCORED)
        self.sort_combo.setCurrentIndex(self.sort_combo.findData(SORT_SCORE))
        self._on_sort(self.sort_combo.currentIndex())

    def clear_scores(self, keep_sort: bool = False) -> None:
        """Remove the scores, their sort and their filter (back to the project order)."""
        had = self.model.score_label or self.model._scores
        i = self.sort_combo.findData(SORT_SCORE)
        if i >= 0:
            if self.sort_combo.currentIndex() == i and not keep_sort:
                self.sort_combo.setCurrentIndex(0)
            self.sort_combo.removeItem(i)
        i = self.status_combo.findData(SCORED)
        if i >= 0:
            if self.status_combo.currentIndex() == i:
                self.status_combo.setCurrentIndex(0)
            self.status_combo.removeItem(i)
        if had:
            self.model.score_label = ""
            self.model.set_scores({})

    def scores(self) -> dict[str, float]:
        """The scores shown now ({} when none)."""
        return dict(self.model._scores)

    # --- selection ----------------------------------------------------------------------
    def current_image_id(self) -> str | None:
        # read from the list of ids, not the record: a removed image has no record left
        # when ``images_changed`` arrives
        idx = self.proxy.mapToSource(self.view.currentIndex())
        return self.model.image_id(idx.row()) if idx.isValid() else None

    def visible_ids(self) -> list[str]:
        """Ids shown with the current filters, in the order shown."""
        return [self.proxy.index(r, 0).data(IdRole) for r in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[str]:
        """The selected images in the order shown (the current one when none is selected)."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        ids = [self.proxy.index(r, 0).data(IdRole) for r in rows]
        if not ids and self.current_image_id() is not None:
            ids = [self.current_image_id()]
        return [i for i in ids if i is not None]

    def set_selected_ids(self, ids: list[str]) -> None:
        """Select these images (those shown); the first becomes current without opening."""
        sel = QItemSelection()
        first = None
        for image_id in ids:
            row = self.model.row_of(image_id)
            pidx = self.proxy.mapFromSource(self.model.index(row)) if row >= 0 else QModelIndex()
            if pidx.isValid():
                sel.select(pidx, pidx)
                first = first or pidx
        sm = self.view.selectionModel()
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if first is not None:
            self._emitting = False
            try:
                sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            finally:
                self._emitting = True
        self._update_actions()

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

    def select_next(self) -> str | None:
        """Move to the next photo in the order shown (opened like a click); None at the end."""
        return self.step(1)

    # --- edits from the list -------------------------------------------------------------
    def _writable(self) -> bool:
        return self._project is not None and not self._project.read_only

    def _update_actions(self) -> None:
        has = self._writable() and bool(self.selected_ids())
        for act in (self.remove_action, self.to_train_action, self.to_val_action):
            act.setEnabled(has)
        self.trash_action.setEnabled(self._writable())

    def request_remove(self) -> None:
        """Ask the window to remove the selected images (it confirms first)."""
        ids = self.selected_ids()
        if ids and self._writable():
            self.sigRemoveRequested.emit(ids)

    def move_selected_to(self, split: str) -> list[str]:
        """Put the selected images in ``split`` (``"train"`` or ``"val"``); saved at once.

        The split is kept from then on: training assigns splits only to images that have
        none. Returns the ids moved.
        """
        ids = [i for i in self.selected_ids()
               if self._project is not None and i in self._project.images
               and self._project.images[i].split != split]
        if not ids or not self._writable():
            return []
        assert self._project is not None
        try:
            with self._project.batch():
                for image_id in ids:
                    self._project.set_split(image_id, split, save=False)
                self._project.save()
        except (ProjectError, OSError) as exc:
            message = f"Could not move the photos to the {SPLIT_NAMES[split]}: {exc}"
            self.sigError.emit(message)
            QMessageBox.warning(self, "Split", message)
            return []
        current = self.current_image_id()
        for image_id in ids:
            self.model.refresh(image_id)
        if self.proxy._status is not None and self.proxy._status.startswith("split:"):
            self.proxy.refilter()
            if current is not None:
                self.select_image(current, emit=False)
        self._update_count()
        return ids

    def context_menu(self) -> QMenu:
        """The list's context menu for the current selection (shown by a right click)."""
        self._update_actions()
        menu = QMenu(self)
        n = len(self.selected_ids())
        self.remove_action.setText(f"Remove {n} photos from project…" if n > 1
                                   else "Remove from project…")
        menu.addAction(self.remove_action)
        menu.addSeparator()
        menu.addAction(self.to_train_action)
        menu.addAction(self.to_val_action)
        menu.addSeparator()
        menu.addAction(self.trash_action)
        return menu

    def _show_context_menu(self, pos: QPoint) -> None:
        idx = self.view.indexAt(pos)
        if idx.isValid() and not self.view.selectionModel().isSelected(idx):
            self.view.setCurrentIndex(idx)  # a right click on another row picks that row
        menu = self.context_menu()
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

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

    def _on_sort(self, _i: int) -> None:
        key = self.sort_combo.currentData() or SORT_ORDER
        current = self.current_image_id()
        self.proxy.set_sort(key)
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
        if (pos, shown) != self._last_position:
            self._last_position = (pos, shown)
            self.sigPositionChanged.emit(pos, shown)


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.browser PROJECT
    from fashionseg_gui.views.style import run_panel_demo

    raise SystemExit(run_panel_demo(ImageBrowser, 320, 700))
