"""Opening, creating, closing and taking over a project in the main window.

:class:`ProjectSession` is mixed into :class:`~fashionseg_gui.views.main_window.MainWindow`:
it hands the project to every widget, keeps the recent-projects list, and shows the
read-only banner (with "Take over" when another instance holds the project's lock).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
)

from fashionseg_gui.core.project import Project, ProjectError
from fashionseg_gui.core.settings import existing_recent, push_recent

#: How the project words "read-only because another instance holds the lock".
LOCKED_REASON = "the project is open in"
#: How long closing waits for the jobs of the project to stop (a training ends its batch).
STOP_WAIT_MS = 120_000


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (it words the take-over question)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


class ProjectSession:
    """Open / create / close / take over a project and the read-only banner (a mixin
    of the main window)."""

    def open_project(self, path: str | Path, read_only: bool = False) -> bool:
        """Open the project at ``path`` (closing the current one first); False on failure."""
        if not self.close_project():
            return False
        try:
            project = Project.open(path, read_only=read_only)
        except ProjectError as exc:
            QMessageBox.critical(self, "Open project", str(exc))
            return False
        self._show_project(project)
        return True

    def create_project(self, path: str | Path) -> bool:
        """Create a project (default classes) at ``path`` and open it."""
        if not self.close_project():
            return False
        try:
            project = Project.create(path)
        except ProjectError as exc:
            QMessageBox.critical(self, "New project", str(exc))
            return False
        self._show_project(project)
        return True

    def _show_project(self, project: Project) -> None:
        self.project = project
        self.queue.reset()
        self.project_signals.set_project(project)
        self.editor.set_project(project)
        self.browser.set_project(project)
        self.classes.set_project(project)
        if self.train_panel is not None:
            self.train_panel.set_project(project)
        self._add_recent(project.root)
        self._update_banner()
        for w in project.open_warnings:
            self.statusBar().showMessage(w, 15000)
        writable = not project.read_only
        for act in (
            self.actions_.import_images,
            self.actions_.import_folder,
            self.actions_.import_via,
            self.actions_.import_masks,
        ):
            act.setEnabled(writable)
        self._update_title()
        self._update_class_label()
        self.sigProjectOpened.emit(project)
        ids = self.browser.visible_ids()
        if ids:
            self.browser.select_image(ids[0])
        else:
            self._update_position()

    def close_project(self) -> bool:
        """Save and close the current project; False if the user chose to stay."""
        if self.project is None:
            return True
        if not self._confirm_saved() or not self._confirm_stop_training("Close the project"):
            return False
        self.jobs.stop(scope=self.project.root, msecs=STOP_WAIT_MS)
        if self.trash_dialog is not None:
            self.trash_dialog.close()
            self.trash_dialog = None
        self.editor.open_image(None)
        self.editor.set_project(None)
        self.browser.set_project(None)
        self.queue.reset()
        self.classes.set_project(None)
        if self.train_panel is not None:
            self.train_panel.set_project(None)
        self.project_signals.set_project(None)
        self.project.close()
        self.project = None
        self.banner_bar.hide()
        self._update_title()
        self._update_class_label()
        self.sigProjectOpened.emit(None)
        return True

    def _locked_elsewhere(self) -> bool:
        """Whether the open project is read-only because another instance holds its lock."""
        p = self.project
        return (
            p is not None
            and p.read_only
            and not p.lock_owned
            and p.read_only_reason.startswith(LOCKED_REASON)
        )

    def _update_banner(self) -> None:
        p = self.project
        if p is None or not p.read_only:
            self.banner_bar.hide()
            return
        text = (
            f"Read-only: {p.read_only_reason}. You can look around, but edits and "
            "imports are not saved."
        )
        locked = self._locked_elsewhere()
        if locked:
            text += " Take over to edit here (the other instance can no longer save)."
        self.banner.setText(text)
        self.take_over_button.setVisible(locked)
        self.banner_bar.show()

    def take_over_project(self, confirm: bool = True) -> bool:
        """Break the lock of the instance that has the project open and edit it here.

        Asks first (``confirm``), more insistently when the holder is a live process of
        this machine. The project is re-read from disk and shown read-write. True on success.
        """
        if not self._locked_elsewhere():
            return False
        assert self.project is not None
        holder = self.project.lock_holder()
        who = holder.describe() if holder is not None else "another instance"
        alive = (
            holder is not None
            and holder.pid is not None
            and holder.host == socket.gethostname()
            and _pid_alive(holder.pid)
        )
        if confirm:
            risk = (
                f"{who} is still running: if you take over, its unsaved edits are lost "
                "and it can no longer save this project."
                if alive
                else f"The project was opened by {who}; if that instance still runs, it can "
                "no longer save this project."
            )
            answer = QMessageBox.question(
                self,
                "Take over the project",
                f"{risk}\n\nTake over and edit here?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        current = self.editor.current_image_id()
        try:
            self.project.take_over()
        except ProjectError as exc:
            QMessageBox.warning(self, "Take over the project", f"Cannot take over: {exc}")
            return False
        self._show_project(self.project)  # every widget again, now read-write
        if current is not None and current in self.project.images:
            self.browser.select_image(current)
        self.statusBar().showMessage(
            f"Took over the project from {who}; it is yours to edit", 10000
        )
        return True

    def new_project_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the new project (empty)")
        if path:
            self.create_project(path)

    def open_project_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if path:
            self.open_project(path)

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return existing_recent(value or [])

    def _add_recent(self, root: Path) -> None:
        self.settings.setValue("recent_projects", push_recent(self.recent_projects(), root))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_projects()
        if not recent:
            act = self.recent_menu.addAction("No recent projects")
            act.setEnabled(False)
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _checked=False, p=path: self.open_project(p))
