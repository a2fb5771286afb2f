"""The project trash (Edit ▸ Trash…): the removed photos, restore them, or empty the trash.

Photos removed from a project (the image list's Delete key or context menu, or
``fashionseg remove``) wait in the project's ``trash/`` folder with their masks, shapes and
predictions, until the trash is emptied (:mod:`fashionseg_gui.core.trash`). The user's
original files outside the project are never touched, neither by the removal nor here.
"""

from __future__ import annotations

import time
from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import Project, ProjectError
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobRefused, JobService
from fashionseg_gui.workers.project_jobs import empty_trash_job

#: Role of an item's (stamp, image id).
KeyRole = Qt.ItemDataRole.UserRole + 1


class TrashDialog(QDialog):
    """Lists what the project trash holds; restores the selected photos; empties it."""

    def __init__(
        self, project: Project, parent: QWidget | None = None, jobs: JobService | None = None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.jobs = jobs if jobs is not None else JobService.shared()
        self._emptying: JobWorker | None = None
        self.setWindowTitle(f"Trash of {project.name}")
        self.resize(460, 380)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Removed photos, newest first; select the ones to restore")
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long names: no side scroll
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.restore_button = QPushButton("Restore selected", self)
        self.restore_button.setToolTip(
            "Put the selected photos back into the project "
            "(with their masks, shapes and predictions)"
        )
        self.empty_button = QPushButton("Empty trash…", self)
        self.empty_button.setToolTip("Delete every photo in the trash for good")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addWidget(self.list, 1)
        lay.addWidget(buttons)
        self.restore_button.clicked.connect(lambda _checked=False: self.restore_selected())
        self.empty_button.clicked.connect(lambda _checked=False: self.empty())
        self.list.itemSelectionChanged.connect(self._update_enabled)
        self.refresh()

    # --- contents -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the trash again."""
        self.list.clear()
        items = self.project.trash_entries()
        for item in items:
            when = (
                time.strftime("%Y-%m-%d %H:%M", time.localtime(item.removed_at))
                if item.removed_at
                else "?"
            )
            row = QListWidgetItem(f"{when}   {item.original_name or item.image_id}")
            row.setData(KeyRole, (item.stamp, item.image_id))
            row.setToolTip(
                f"{item.original_name}\nRemoved {when}\nId: {item.image_id}\nRemoval: {item.stamp}"
            )
            self.list.addItem(row)
        if items:
            self.info.setText(
                f"{len(items)} photo(s) in the trash. Restore puts them back with "
                "their masks; emptying deletes them for good. Your original "
                "files outside the project are never touched."
            )
        else:
            self.info.setText("The trash is empty.")
        self._update_enabled()

    def trashed_ids(self) -> list[str]:
        """The image ids listed, in order."""
        return [self.list.item(r).data(KeyRole)[1] for r in range(self.list.count())]

    def select_ids(self, ids: list[str]) -> None:
        for r in range(self.list.count()):
            item = self.list.item(r)
            item.setSelected(item.data(KeyRole)[1] in ids)

    def _writable(self) -> bool:
        return not self.project.read_only and self._emptying is None

    def _update_enabled(self) -> None:
        self.restore_button.setEnabled(self._writable() and bool(self.list.selectedItems()))
        self.empty_button.setEnabled(self._writable() and self.list.count() > 0)

    # --- actions ------------------------------------------------------------------------
    def restore_selected(self) -> list[str]:
        """Restore the selected photos; returns the ids restored.

        A removal whose photos are all selected is restored as one (one save of the
        project); otherwise photo by photo.
        """
        chosen: dict[str, list[str]] = defaultdict(list)
        for item in self.list.selectedItems():
            stamp, image_id = item.data(KeyRole)
            chosen[stamp].append(image_id)
        if not chosen or not self._writable():
            return []
        per_stamp: dict[str, int] = defaultdict(int)
        for r in range(self.list.count()):
            per_stamp[self.list.item(r).data(KeyRole)[0]] += 1
        restored: list[str] = []
        errors: list[str] = []
        for stamp, ids in chosen.items():
            keys = [stamp] if len(ids) == per_stamp[stamp] else ids
            for key in keys:
                try:
                    restored.extend(self.project.restore_from_trash(key))
                except (ProjectError, OSError) as exc:
                    errors.append(str(exc))
        self.refresh()
        if errors:
            QMessageBox.warning(
                self, "Restore", "Some photos were not restored:\n" + "\n".join(errors)
            )
        return restored

    def empty(self, confirm: bool = True) -> JobWorker | None:
        """Ask, then delete the whole trash for good (a job; the list follows when done)."""
        n = self.list.count()
        if n == 0 or not self._writable():
            return None
        if confirm:
            answer = QMessageBox.question(
                self,
                "Empty trash",
                f"Delete the {n} photo(s) in the trash for good, with their masks?\n"
                "This cannot be undone. (Your original files outside the project are not "
                "touched.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        worker = JobWorker(empty_trash_job, self.project, name="empty trash")
        worker.finished.connect(self._on_emptied)
        worker.failed.connect(self._on_empty_failed)
        try:
            self.jobs.submit(worker, "empty trash", scope=self.project.root, owner=self)
        except JobRefused as exc:
            QMessageBox.information(self, "Empty trash", f"{exc}.")
            return None
        self._emptying = worker
        self._update_enabled()
        return worker

    def is_busy(self) -> bool:
        return self._emptying is not None

    def _on_emptied(self, _n: int) -> None:
        self._emptying = None
        self.refresh()

    def _on_empty_failed(self, message: str) -> None:
        self._emptying = None
        self.refresh()
        QMessageBox.warning(self, "Empty trash", message)


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.trash_dialog [PROJECT]
    import sys

    from fashionseg_gui.views.style import apply_style, exec_demo, open_demo_project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    demo = Project.open(sys.argv[1], read_only=True) if len(sys.argv) > 1 else open_demo_project()
    dialog = TrashDialog(demo)
    dialog.show()
    code = exec_demo(app)
    demo.close()
    raise SystemExit(code)
