"""The image browser (left dock): a virtual list with thumbnails, status badges and filters.

``QListView`` + :class:`ImageListModel` (a ``QAbstractListModel`` over the project's ids,
in :mod:`fashionseg_gui.views.browser_items` with the proxy and the row delegate)
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
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import STATUSES, Project, ProjectError
from fashionseg_gui.views.browser_items import (  # noqa: F401 (re-exported)
    ADJUST_TO_MINIMUM,
    MIN_ROW_WIDTH,
    ROW_HEIGHT,
    SCORED,
    SORT_NAME,
    SORT_ORDER,
    SORT_SCORE,
    SPLIT_FILTERS,
    SPLIT_NAMES,
    IdRole,
    ImageFilterProxy,
    ImageListModel,
    NameRole,
    ScoreLabelRole,
    ScoreRole,
    SortRole,
    SplitRole,
    StatusRole,
    ThumbnailDelegate,
)
from fashionseg_gui.views.style import STATUS_LABELS
from fashionseg_gui.workers.thumbnails import THUMB_SIZE, ThumbnailLoader


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
        self.remove_action.setToolTip(
            "Move the selected photos to the project trash "
            "(restorable; the original files are not touched)"
        )
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
        ids = [
            i
            for i in self.selected_ids()
            if self._project is not None
            and i in self._project.images
            and self._project.images[i].split != split
        ]
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
        self.remove_action.setText(
            f"Remove {n} photos from project…" if n > 1 else "Remove from project…"
        )
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
