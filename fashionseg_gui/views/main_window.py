"""The main window: a wiring hub between the project, the docks, the editor and the jobs.

Layout: image browser (left dock), editor canvas (centre), classes panel and the Train
panel (right docks, tabified), editing tools (right tool bar), status bar at the bottom.
The window holds no domain state: it opens a :class:`~fashionseg_gui.core.project.Project`,
hands it to the widgets, and turns menu actions, drops and shortcuts into calls.
"""

from __future__ import annotations

import html
import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import Project, ProjectError
from fashionseg_gui.core.settings import existing_recent, push_recent
from fashionseg_gui.views.browser import ImageBrowser
from fashionseg_gui.views.classes_panel import ClassesPanel
from fashionseg_gui.views.current_class import CurrentClass
from fashionseg_gui.views.elided_label import ElidedLabel
from fashionseg_gui.views.icons import icon
from fashionseg_gui.views.import_dialogs import ImportReportDialog, ViaImportFlow, report_lines
from fashionseg_gui.views.jobs_bar import JobsBar
from fashionseg_gui.views.protocols import EditorLike
from fashionseg_gui.views.style import STATUS_LABELS
from fashionseg_gui.views.trash_dialog import TrashDialog
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.bridge import ProjectSignals
from fashionseg_gui.workers.importer import (
    EXPORT_FORMATS,
    ImportResult,
    ViaJob,
    export_job,
    import_job,
    mask_folder_job,
    plan_paths,
)
from fashionseg_gui.workers.jobs import POLICY, Job, JobRefused, JobService
from fashionseg_gui.workers.project_jobs import remove_images_job

log = logging.getLogger(__name__)

APP_TITLE = "FashionSeg Studio"
DEFAULT_SIZE = (1400, 900)
#: Room left on the screen around a first-start window (title bar, a desktop panel).
SCREEN_MARGIN = (16, 60)
#: Starting widths of the left (images) and right (classes, train) docks.
DOCK_WIDTHS = (250, 390)
#: Widest class name in the status bar (pixels; a longer one is cut in the middle).
CLASS_LABEL_WIDTH = 180
#: How the project words "read-only because another instance holds the lock".
LOCKED_REASON = "the project is open in"
#: QSettings key of the folder the last export went to.
EXPORT_FOLDER_KEY = "export/last_folder"
#: How long closing waits for the jobs of the project to stop (a training ends its batch).
STOP_WAIT_MS = 120_000
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"
VIA_FILTER = "VIA annotations (*.json *.csv);;All files (*)"
#: Removing more photos than this at once runs as a job (off the GUI thread).
REMOVE_IN_JOB = 20


class FolderDialog(QFileDialog):
    """Choose a folder; a new folder name typed in the name field is created on OK.

    (Qt's own folder dialog refuses a name that does not exist yet.)
    """

    def __init__(self, parent: QWidget | None, title: str, start: str) -> None:
        super().__init__(parent, title, start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.setLabelText(QFileDialog.DialogLabel.FileName, "Folder:")
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Choose")

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if chosen:
            path = Path(chosen[0])
            if not path.exists():
                try:
                    path.mkdir(parents=True)
                except OSError as exc:
                    QMessageBox.warning(self, self.windowTitle(),
                                        f"Cannot create {path}: {exc.strerror or exc}")
                    return
        super().accept()


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (it words the take-over question)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


@dataclass
class _Actions:
    new_project: QAction
    open_project: QAction
    save: QAction
    import_images: QAction
    import_folder: QAction
    import_via: QAction
    import_masks: QAction
    quit: QAction
    next_image: QAction
    prev_image: QAction
    shortcuts_help: QAction
    about: QAction
    class_keys: list[QAction]


@dataclass
class _Docks:
    browser: QDockWidget
    classes: QDockWidget
    train: QDockWidget


class MainWindow(QMainWindow):
    """FashionSeg Studio's window.

    Signals
    -------
    sigProjectOpened(object)
        A project (or None) is now shown.
    sigJobFinished(str)
        A background job (``import``, ``export``, ...) ended; its report is in
        :attr:`last_report_lines`.
    """

    sigProjectOpened = Signal(object)
    sigJobFinished = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None,
                 editor: EditorLike | None = None, jobs: JobService | None = None) -> None:
        super().__init__(parent)

        self.settings = settings if settings is not None else QSettings()
        self.project: Project | None = None
        #: The job service every part of the window submits its jobs to.
        self.jobs = jobs if jobs is not None else JobService.shared()
        self.project_signals = ProjectSignals(self)
        self.last_report_lines: list[str] = []
        self.report_dialog: ImportReportDialog | None = None
        self.shortcuts_dialog: QDialog | None = None
        self.train_panel: Any = None
        self.trash_dialog: TrashDialog | None = None
        #: The painting class: one state that the editor, the Classes panel and the status
        #: bar all follow (a key, the panel or the tool bar combo writes it).
        self.current_class = CurrentClass(self)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        # --- centre: read-only banner above the editor ------------------------------------
        if editor is None:
            from fashionseg_gui.views.editor import EditorWidget

            editor = EditorWidget(self, jobs=self.jobs, project_signals=self.project_signals,
                                  current_class=self.current_class)
        self.editor: EditorLike = editor
        # The read-only banner: why, and (when another instance holds the lock) Take over.
        self.banner_bar = QFrame(self)
        self.banner_bar.setObjectName("bannerBar")
        self.banner = QLabel(self.banner_bar)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.take_over_button = QPushButton("Take over", self.banner_bar)
        self.take_over_button.setToolTip("Break the other instance's lock and edit here")
        self.take_over_button.clicked.connect(lambda _checked=False: self.take_over_project())
        bar_lay = QHBoxLayout(self.banner_bar)
        bar_lay.setContentsMargins(0, 0, 6, 0)
        bar_lay.addWidget(self.banner, 1)
        bar_lay.addWidget(self.take_over_button)
        self.banner_bar.hide()
        centre = QWidget(self)
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner_bar)
        lay.addWidget(self.editor, 1)
        self.setCentralWidget(centre)

        # --- docks --------------------------------------------------------------------------
        self.browser = ImageBrowser(self)
        self.classes = ClassesPanel(self, jobs=self.jobs, current_class=self.current_class)
        self.docks = _Docks(self._dock("Images", "browser", self.browser,
                                       Qt.DockWidgetArea.LeftDockWidgetArea),
                            self._dock("Classes", "classes", self.classes,
                                       Qt.DockWidgetArea.RightDockWidgetArea),
                            self._dock("Train", "train", QWidget(self),
                                       Qt.DockWidgetArea.RightDockWidgetArea))
        self.tabifyDockWidget(self.docks.classes, self.docks.train)
        self.docks.classes.raise_()
        self.resizeDocks([self.docks.browser, self.docks.classes], list(DOCK_WIDTHS),
                         Qt.Orientation.Horizontal)
        self.docks.train.visibilityChanged.connect(self._on_train_visible)

        self.actions_ = self._make_actions()
        self._make_menus_and_toolbars()
        self._make_status_bar()
        self._wire()
        for widget in (centre, self.docks.browser, self.docks.classes, self.docks.train):
            self._take_file_drops(widget)
        self.resize(*self.default_size())
        self._restore_geometry()
        self._update_title()

    # --- construction -----------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None,
                tip: str = "", icon_name: str | None = None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            keys = " or ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText)
                               for s in shortcuts)
            tip = f"{tip or text.rstrip('…')} ({keys})"
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        if icon_name:
            act.setIcon(icon(icon_name, self))
        act.triggered.connect(lambda _checked=False: slot())
        self.addAction(act)  # shortcuts work wherever the focus is in the window
        return act

    def _make_actions(self) -> _Actions:
        class_keys = []
        for k in range(10):
            act = QAction(f"Class {k}", self)
            act.setShortcut(QKeySequence(str(k)))
            act.triggered.connect(lambda _checked=False, k=k: self.select_class(k))
            act.setProperty("help_group", "Classes")
            self.addAction(act)
            class_keys.append(act)
        return _Actions(
            new_project=self._action("&New project…", self.new_project_dialog,
                                     QKeySequence.StandardKey.New, icon_name="new"),
            open_project=self._action("&Open project…", self.open_project_dialog,
                                      QKeySequence.StandardKey.Open, icon_name="open"),
            save=self._action("&Save", self.save_now,
                              None,  # the editor's save_action owns Ctrl+S
                              "Save the current mask now (Ctrl+S)", "save"),
            import_images=self._action("Import &images…", self.import_images_dialog,
                                       "Ctrl+I", "Import photos into the project", "import"),
            import_folder=self._action("Import &folder…", self.import_folder_dialog,
                                       "Ctrl+Shift+I", "Import every photo of a folder"),
            import_via=self._action("Import &VIA annotations…", self.import_via_dialog,
                                    None, "Import a VIA JSON or CSV file"),
            import_masks=self._action("Import &mask folder…", self.import_masks_dialog,
                                      None, "Import label masks with a value-to-class mapping"),
            quit=self._action("&Quit", self.close, QKeySequence.StandardKey.Quit,
                              icon_name="quit"),
            next_image=self._action("&Next image", self.next_image, ["PgDown", "D"],
                                    "Next image", "next"),
            prev_image=self._action("&Previous image", self.previous_image, ["PgUp", "A"],
                                    "Previous image", "prev"),
            shortcuts_help=self._action("&Keyboard shortcuts…", self.show_shortcuts,
                                        QKeySequence.StandardKey.HelpContents,
                                        "List every keyboard shortcut"),
            about=self._action("&About FashionSeg Studio", self.show_about, None,
                               "Version and a word about the app"),
            class_keys=class_keys,
        )

    def _make_menus_and_toolbars(self) -> None:
        a = self.actions_
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addActions([a.new_project, a.open_project])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(a.save)
        file_menu.addSeparator()
        file_menu.addActions([a.import_images, a.import_folder, a.import_via, a.import_masks])
        self.export_menu = file_menu.addMenu(icon("export", self), "&Export")
        self.export_actions: dict[str, QAction] = {}
        for key, (text, _single) in EXPORT_FORMATS.items():
            act = self.export_menu.addAction(text)
            act.triggered.connect(lambda _checked=False, key=key: self.export_dialog(key))
            self.export_actions[key] = act
        file_menu.addSeparator()
        file_menu.addAction(a.quit)

        self.editor.save_action.setProperty("help_group", "File")  # File ▸ Save's key
        edit_menu = mb.addMenu("&Edit")
        edit_menu.addActions([self.editor.undo_action, self.editor.redo_action])
        tools = list(self.editor.tool_actions())
        if tools:
            edit_menu.addSeparator()
            edit_menu.addActions(tools)
        edit_menu.addSeparator()
        edit_menu.addAction(self.browser.remove_action)
        self.trash_menu_action = edit_menu.addAction(icon("remove", self), "&Trash…")
        self.trash_menu_action.setToolTip("Photos removed from the project: restore them or "
                                          "empty the trash")
        self.trash_menu_action.triggered.connect(lambda _checked=False: self.show_trash())

        view_menu = mb.addMenu("&View")
        view_menu.addActions([a.prev_image, a.next_image])
        view_actions = [act for act in self.editor.view_actions()
                        if act is not self.editor.save_action]
        if view_actions:
            view_menu.addSeparator()
            view_menu.addActions(view_actions)
        view_menu.addSeparator()
        for dock in (self.docks.browser, self.docks.classes, self.docks.train):
            view_menu.addAction(dock.toggleViewAction())

        from fashionseg_gui.views.queue_menu import QueueMenu

        #: The Queue menu: the browser sorted by the label-next queue or the label errors.
        self.queue = QueueMenu(self)
        mb.addMenu(self.queue.menu)
        help_menu = mb.addMenu("&Help")
        help_menu.addActions([a.shortcuts_help, a.about])

        main_bar = QToolBar("Main", self)
        main_bar.setObjectName("toolbar_main")
        main_bar.setMovable(False)
        main_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        main_bar.addActions([a.open_project, a.save, a.import_images])
        main_bar.addSeparator()
        main_bar.addActions([a.prev_image, a.next_image])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, main_bar)
        # The editing tools sit in the editor's own tool bar, above the canvas.

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.cursor_label = ElidedLabel("", self)  # long texts are cut, never widen the bar
        self.position_label = QLabel(self)
        self.class_label = QLabel(self)
        self.save_label = QLabel(self)
        #: Every job of the app (import, export, training, prediction...), each cancellable.
        self.jobs_bar = JobsBar(self.jobs, self)
        self.progress = self.jobs_bar.progress
        self.cancel_button = self.jobs_bar.cancel_button
        self.retry_button = QPushButton("Retry save", self)
        self.retry_button.setToolTip("Try to save the current mask again")
        self.retry_button.hide()
        self.retry_button.clicked.connect(self.save_now)
        sb.addWidget(self.cursor_label, 1)
        for w in (self.jobs_bar, self.retry_button, self.class_label,
                  self.position_label, self.save_label):
            sb.addPermanentWidget(w)

    def _wire(self) -> None:
        ps = self.project_signals
        ps.images_changed.connect(self.browser.on_images_changed)
        ps.images_changed.connect(lambda _ids: self._update_position())
        ps.image_changed.connect(self.browser.on_image_changed)
        ps.image_changed.connect(lambda _id: self._update_position())
        ps.classes_changed.connect(self.classes.refresh)
        ps.classes_changed.connect(self._update_class_label)
        self.browser.sigImageSelected.connect(self._on_image_selected)
        self.browser.sigPositionChanged.connect(lambda _pos, _n: self._update_position())
        self.browser.sigRemoveRequested.connect(self.remove_images)
        self.browser.sigTrashRequested.connect(self.show_trash)
        self.browser.sigError.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.current_class.changed.connect(self._on_current_class)
        self.classes.sigClassVisibilityChanged.connect(self.editor.set_class_visible)
        self.classes.sigError.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.editor.sigCursorInfo.connect(self.cursor_label.setText)
        self.editor.sigImageSaved.connect(self._on_saved)
        self.editor.sigSaveFailed.connect(self._on_save_failed)
        self.editor.sigDirtyChanged.connect(self._on_dirty)
        self.editor.sigCurrentClassChanged.connect(self._on_class_from_editor)
        self.editor.next_photo = self.next_image  # after an accepted review
        self.jobs.jobAdded.connect(self._on_service_job_added)
        self.jobs.jobChanged.connect(self._update_editing_lock)
        self.jobs.jobRemoved.connect(self._update_editing_lock)

    # --- projects ---------------------------------------------------------------------------
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
        for act in (self.actions_.import_images, self.actions_.import_folder,
                    self.actions_.import_via, self.actions_.import_masks):
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
        return p is not None and p.read_only and not p.lock_owned \
            and p.read_only_reason.startswith(LOCKED_REASON)

    def _update_banner(self) -> None:
        p = self.project
        if p is None or not p.read_only:
            self.banner_bar.hide()
            return
        text = f"Read-only: {p.read_only_reason}. You can look around, but edits and " \
               "imports are not saved."
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
        alive = holder is not None and holder.pid is not None \
            and holder.host == socket.gethostname() and _pid_alive(holder.pid)
        if confirm:
            risk = (f"{who} is still running: if you take over, its unsaved edits are lost "
                    "and it can no longer save this project." if alive else
                    f"The project was opened by {who}; if that instance still runs, it can "
                    "no longer save this project.")
            answer = QMessageBox.question(
                self, "Take over the project", f"{risk}\n\nTake over and edit here?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
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
        self.statusBar().showMessage(f"Took over the project from {who}; it is yours to edit",
                                     10000)
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

    # --- images -----------------------------------------------------------------------------
    def _on_image_selected(self, image_id: str) -> None:
        if self.project is None or image_id == self.editor.current_image_id():
            return
        self.editor.open_image(image_id)
        self.classes.set_image(image_id)
        self._update_position()

    def remove_images(self, ids: list[str], confirm: bool = True) -> JobWorker | None:
        """Move photos to the project trash after asking (the image list's Delete key).

        Only the project's copies move (with their masks, shapes and predictions); the
        user's original files are not touched, and Edit ▸ Trash… restores them until the
        trash is emptied. More than :data:`REMOVE_IN_JOB` photos are moved in a job.
        Returns the job's worker when one was started.
        """
        if not self._can_write("Remove photos") or not ids:
            return None
        assert self.project is not None
        project = self.project
        ids = [i for i in dict.fromkeys(ids) if i in project.images]
        if not ids:
            return None
        if confirm:
            what = (f"“{project.images[ids[0]].original_name or ids[0]}”" if len(ids) == 1
                    else f"these {len(ids)} photos")
            answer = QMessageBox.question(
                self, "Remove from project",
                f"Move {what} to the project trash, with their masks?\n\nYour original "
                "files outside the project are not touched. Edit ▸ Trash… restores them "
                "until the trash is emptied.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Yes)
            if answer != QMessageBox.StandardButton.Yes:
                return None
        self.editor.save_now()  # unsaved edits go to the trash with the photo
        if len(ids) > REMOVE_IN_JOB:
            return self.start_job("remove", remove_images_job, project, ids)
        try:
            project.remove_images(ids)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, "Remove from project", f"Nothing was removed: {exc}")
            return None
        self.statusBar().showMessage(f"{len(ids)} photo(s) moved to the trash "
                                     "(Edit ▸ Trash… restores them)", 8000)
        if self.trash_dialog is not None and self.trash_dialog.isVisible():
            self.trash_dialog.refresh()
        return None

    def show_trash(self) -> TrashDialog | None:
        """Open the project trash (restore photos, empty it)."""
        if self.project is None:
            QMessageBox.information(self, "Trash", "Open or create a project first.")
            return None
        if self.trash_dialog is not None:
            self.trash_dialog.close()
            self.trash_dialog.deleteLater()
        self.trash_dialog = TrashDialog(self.project, self, jobs=self.jobs)
        self.trash_dialog.open()
        return self.trash_dialog

    def next_image(self) -> None:
        """Go to the next image in the browser's filtered list (the editor saves first)."""
        self.browser.next_image()

    def previous_image(self) -> None:
        self.browser.previous_image()

    def _update_position(self) -> None:
        pos, n = self.browser.position()
        image_id = self.editor.current_image_id()
        status = ""
        if self.project is not None and image_id in self.project.images:
            status = " · " + STATUS_LABELS[self.project.images[image_id].status]
        self.position_label.setText(f"Image {pos} / {n}{status}" if n else "No images")

    # --- classes ----------------------------------------------------------------------------
    def select_class(self, class_id: int) -> None:
        """Make ``class_id`` the painting class (keys 0–9; ignored if there is no such class)."""
        if self.project is not None:
            self.current_class.set(class_id)

    def _on_current_class(self, class_id: int) -> None:
        # An editor that does not share the state (a stand-in) is told; ours already follows.
        if self.editor.current_class() != class_id:
            self.editor.set_current_class(class_id)
        self._update_class_label()

    def _on_class_from_editor(self, class_id: int) -> None:
        self.current_class.set(class_id)

    def _update_class_label(self) -> None:
        if self.project is None:
            self.class_label.setText("")
            return
        cid = self.current_class.value()
        if 0 <= cid < len(self.project.classes):
            c = self.project.classes[cid]
            name = self.class_label.fontMetrics().elidedText(
                c.name, Qt.TextElideMode.ElideMiddle, CLASS_LABEL_WIDTH)
            self.class_label.setText(f'<span style="color:{c.color}">■</span> '
                                     f'{html.escape(name)} ({cid})')
            self.class_label.setToolTip(f"Painting with {c.name} (class {cid})")

    # --- saving -----------------------------------------------------------------------------
    def save_now(self) -> bool:
        ok = bool(self.editor.save_now())
        if ok:
            self.retry_button.hide()
            self.save_label.setText("Saved")
        return ok

    def _on_saved(self, _image_id: str) -> None:
        self.retry_button.hide()
        self.save_label.setText("Saved")
        self._update_position()

    def _on_save_failed(self, _image_id: str, message: str) -> None:
        self.save_label.setText("Not saved")
        self.retry_button.show()
        self.statusBar().showMessage(f"Save failed: {message}", 0)

    def _on_dirty(self, dirty: bool) -> None:
        self.save_label.setText("Unsaved changes" if dirty else "Saved")

    def _confirm_saved(self) -> bool:
        """Save the editor; if that fails, ask Retry / Discard / Cancel. True: go on."""
        if self.project is None or self.project.read_only:
            return True
        while not self.editor.save_now():
            answer = QMessageBox.warning(
                self, "Save failed",
                "The current mask could not be saved. Retry, discard the unsaved edits, "
                "or cancel and stay?",
                QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Retry)
            if answer == QMessageBox.StandardButton.Discard:
                return True
            if answer != QMessageBox.StandardButton.Retry:
                return False
        return True

    # --- import / export jobs ------------------------------------------------------------------
    def _can_write(self, what: str) -> bool:
        if self.project is None:
            QMessageBox.information(self, what, "Open or create a project first.")
            return False
        if self.project.read_only:
            QMessageBox.information(self, what, f"The project is read-only "
                                                f"({self.project.read_only_reason}).")
            return False
        return True

    def import_images_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import images", "", IMAGE_FILTER)
        if files:
            self.import_paths(files)

    def import_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import every image of a folder")
        if folder:
            self.import_paths([folder])

    def import_via_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import VIA annotations", "", VIA_FILTER)
        if path:
            self.import_paths([path])

    def import_masks_dialog(self) -> None:
        if not self._can_write("Import masks"):
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder of label masks")
        if not folder:
            return
        mapping, _ = QFileDialog.getOpenFileName(
            self, "Value-to-class mapping JSON (cancel: mask values are class ids)", folder,
            "Mapping (*.json)")
        assert self.project is not None
        self.start_job("import masks", mask_folder_job, self.project, Path(folder),
                       Path(mapping) if mapping else None)

    def import_paths(self, paths: Iterable[str | Path]) -> JobWorker | None:
        """Import files, folders (recursive) and VIA files in a background job.

        VIA files first ask for their class attribute and label mapping. Folders are walked
        in the job, not here. A second import waits for the first. The report dialog opens
        when the job ends.
        """
        if not self._can_write("Import"):
            return None
        assert self.project is not None
        plan = plan_paths(paths)
        errors = list(plan.ignored)
        if not plan.via:
            return self._start_import(plan.images, [], errors)
        # VIA files are parsed once, on a worker; their dialogs open when they are read.
        flow = ViaImportFlow(plan.via, [c.name for c in self.project.classes], self)
        project = self.project
        flow.ready.connect(lambda jobs, errs: self._start_import(
            plan.images, jobs, errors + errs, project))
        self._via_flow = flow
        return flow.start()

    def _start_import(self, images: list[Path], via_jobs: list[ViaJob], errors: list[str],
                      project: Project | None = None) -> JobWorker | None:
        self._via_flow = None
        if self.project is None or (project is not None and project is not self.project):
            return None  # the project was closed while the VIA files were read
        if not images and not via_jobs:
            if errors:
                self._show_report("Import", ["Nothing imported."] + errors)
            return None
        return self.start_job("import", import_job, self.project, images, via_jobs,
                              errors=errors)

    def export_dialog(self, fmt: str) -> None:
        if self.project is None:
            return
        reason = self.jobs.check("export", self.project.root)
        if reason is not None:
            QMessageBox.information(self, "Export", f"{reason}; it starts when that ends.")
        text, single = EXPORT_FORMATS[fmt]
        start = self.export_start_folder()
        if single:
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export {text.rstrip('…')}", str(start / f"{self.project.name}_{fmt}.json"),
                "JSON (*.json)")
        else:
            path = self.choose_folder(f"Export {text.rstrip('…')} to folder", start)
        if path:
            folder = Path(path) if not single else Path(path).parent
            self.settings.setValue(EXPORT_FOLDER_KEY, str(folder))
            self.save_now()
            self.start_job("export", export_job, self.project, fmt, Path(path))

    def export_start_folder(self) -> Path:
        """Where export dialogs open: the last export folder, else the project's parent."""
        last = self.settings.value(EXPORT_FOLDER_KEY)
        if isinstance(last, str) and last and Path(last).is_dir():
            return Path(last)
        if self.project is not None:
            return self.project.root.parent
        return Path.home()

    def choose_folder(self, title: str, start: Path) -> str:
        """Ask for a folder, which may be a new name typed in (it is created); "" if none."""
        dialog = FolderDialog(self, title, str(start))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return ""
        chosen = dialog.selectedFiles()
        return chosen[0] if chosen else ""

    def job_running(self) -> bool:
        """Whether a job this window started (import, export...) runs or waits."""
        return self.jobs.is_busy(owner=self)

    def start_job(self, kind: str, fn: Callable[..., Any], *args: Any,
                  errors: list[str] | None = None) -> JobWorker | None:
        """Run a core job through the job service (progress in the status bar).

        ``kind`` is a row of :data:`~fashionseg_gui.workers.jobs.POLICY`: the job starts
        now, waits behind a conflicting one, or is refused with a message (None returned).
        ``errors`` are added to the job's report.
        """
        worker = JobWorker(fn, *args, name=kind)
        worker.finished.connect(self._on_job_finished)
        worker.failed.connect(self._on_job_failed)
        worker.cancelled.connect(self._on_job_cancelled)
        scope = self.project.root if self.project is not None else None
        try:
            job = self.jobs.submit(worker, kind, scope=scope, owner=self)
        except JobRefused as exc:
            QMessageBox.information(self, POLICY[kind].label, f"{exc}.")
            return None
        worker.setProperty("report_errors", list(errors or []))
        if job.state == "queued":
            self.statusBar().showMessage(f"{job.label} waits for the running job to end", 8000)
        return worker

    def cancel_job(self, wait: bool = False) -> None:
        """Cancel this window's jobs on the open project (and wait for them if ``wait``)."""
        if wait:
            self.jobs.stop(owner=self)
        else:
            self.jobs.cancel_all(owner=self)

    def _job_ended(self) -> tuple[str, list[str]]:
        worker = self.sender()
        errors = list(worker.property("report_errors") or []) if worker is not None else []
        self.statusBar().clearMessage()
        return getattr(worker, "name", "job"), errors

    def _on_job_finished(self, result: Any) -> None:
        kind, errors = self._job_ended()
        if isinstance(result, ImportResult):
            result.errors = errors + result.errors
            lines = report_lines(result)
            if self.browser.current_image_id() is None:
                ids = self.browser.visible_ids()
                if ids:
                    self.browser.select_image(ids[0])
        else:
            lines = list(result or [])
        self._show_report(f"{kind.capitalize()} report", lines)
        self.sigJobFinished.emit(kind)

    def _on_job_failed(self, message: str) -> None:
        kind, _errors = self._job_ended()
        self._show_report(f"{kind.capitalize()} failed", [message])
        self.sigJobFinished.emit(kind)

    def _on_job_cancelled(self) -> None:
        # A job that returns what it did (an import) sends its finished(result) next.
        kind, _errors = self._job_ended()
        self.statusBar().showMessage(f"{kind.capitalize()} cancelled", 8000)
        self.sigJobFinished.emit(kind)

    # --- jobs that rewrite masks lock the editor ------------------------------------------------
    def _on_service_job_added(self, job: Job) -> None:
        if self.project is not None and job.scope == self.project.root \
                and POLICY[job.kind].locks_editing:
            self.editor.save_now()  # the job rewrites every mask: unsaved edits go first
        self._update_editing_lock()

    def _update_editing_lock(self, _job: Any = None) -> None:
        locked = self.project is not None and self.jobs.editing_locked(self.project.root)
        if self.editor.isEnabled() == locked:
            self.editor.setEnabled(not locked)
            if locked:
                self.statusBar().showMessage("Editing is paused while the masks are rewritten")

    def _show_report(self, title: str, lines: list[str]) -> None:
        self.last_report_lines = list(lines)
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = ImportReportDialog(title, lines, self)
        self.report_dialog.open()  # window-modal, does not block the event loop

    # --- drag and drop ----------------------------------------------------------------------------
    # Files dropped anywhere in the window are imported: on the photo, a dock, the image
    # list, the Train panel. Widgets that take drops of their own (the canvas, text fields)
    # would swallow them, so the window filters their drag events and takes the files;
    # other drops (text into a field) reach them as before.
    def _take_file_drops(self, root: QWidget) -> None:
        """Make files dropped on ``root`` or any widget inside it reach the window."""
        if isinstance(root, QDockWidget):
            root.setAcceptDrops(True)  # a floating dock is a window of its own
        for widget in (root, *root.findChildren(QWidget)):
            if widget.acceptDrops():
                widget.installEventFilter(self)

    @staticmethod
    def _dropped_files(event: Any) -> list[str]:
        md = event.mimeData()
        if md is None or not md.hasUrls():
            return []
        return [u.toLocalFile() for u in md.urls() if u.isLocalFile()]

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop) \
                and self._dropped_files(event):
            if kind == QEvent.Type.Drop:
                self.dropEvent(event)
            else:
                event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if self._dropped_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_files(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # Return to the drag source first; the import (and any VIA dialog) follows.
        QTimer.singleShot(0, lambda: self.import_paths(paths))

    # --- Train panel (created on first show, so start-up never loads its heavy parts) -----------
    def _on_train_visible(self, visible: bool) -> None:
        if visible and self.train_panel is None:
            self.ensure_train_panel()

    def ensure_train_panel(self) -> Any:
        """Create the Train panel now (it is created lazily when its dock is first shown)."""
        if self.train_panel is None:
            from fashionseg_gui.views.train_panel import TrainPanel

            self.train_panel = TrainPanel(self, jobs=self.jobs)
            self.docks.train.setWidget(self.train_panel)
            self._take_file_drops(self.docks.train)
            self.train_panel.set_project(self.project)
            self.train_panel.sigPredictionsReady.connect(self._on_predictions)
            self.train_panel.set_selection_source(self._selected_ids)
        return self.train_panel

    def _selected_ids(self) -> list[str]:
        """The photos "Predict selected" predicts: the browser's current photo."""
        current = self.browser.current_image_id()
        return [current] if current else []

    def _on_predictions(self, ids: list[str]) -> None:
        # The open photo's new prediction reaches the editor through the project's events
        # (it reloads a document whose files changed on disk).
        for image_id in ids:
            self.browser.model.refresh(image_id)
        self.queue.refresh()  # the queue's order follows the new scores
        self._update_position()

    # --- help -----------------------------------------------------------------------------------
    def show_shortcuts(self) -> QDialog:
        """Help ▸ Keyboard shortcuts: a sheet generated from the window's actions."""
        from fashionseg_gui.views.help import ShortcutsDialog

        if self.shortcuts_dialog is not None:
            self.shortcuts_dialog.close()
        self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        return self.shortcuts_dialog

    def show_about(self) -> None:
        from fashionseg_gui.views.help import show_about

        show_about(self)

    # --- window state ---------------------------------------------------------------------------
    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle(APP_TITLE)
        else:
            ro = " [read-only]" if self.project.read_only else ""
            self.setWindowTitle(f"{self.project.name}{ro} — {APP_TITLE}")

    def default_size(self) -> tuple[int, int]:
        """The first-start size: :data:`DEFAULT_SIZE`, made smaller to fit the screen.

        The window never resizes itself afterwards: its minimum size (every dock, tab and
        tool shown) fits a 1366x768 screen, and long texts are cut rather than widen it.
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        avail = screen.availableGeometry()
        return (min(DEFAULT_SIZE[0], max(640, avail.width() - SCREEN_MARGIN[0])),
                min(DEFAULT_SIZE[1], max(480, avail.height() - SCREEN_MARGIN[1])))

    def _restore_geometry(self) -> None:
        geo = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
        if state is not None:
            self.restoreState(state)

    def training_running(self) -> bool:
        """Whether a training runs on the open project."""
        return self.project is not None and self.jobs.is_busy(self.project.root, ["train"])

    def _confirm_stop_training(self, what: str = "Quit") -> bool:
        """During a training, ask: stop it (its best weights so far are kept) or stay.

        True: no training runs, or the user chose to stop it (it has been asked to stop).
        """
        if not self.training_running():
            return True
        box = QMessageBox(QMessageBox.Icon.Question, f"{what} during training",
                          "A training is running. Stop it now? The best weights so far are "
                          "kept as the run's model.", QMessageBox.StandardButton.Cancel, self)
        stop = box.addButton("Stop and keep the best weights",
                             QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not stop:
            return False
        if self.train_panel is not None:
            self.train_panel.stop()
        self.statusBar().showMessage("Stopping the training after the current batch…")
        self.statusBar().repaint()  # closing then waits for the stop
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_saved() or not self._confirm_stop_training("Quit"):
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        if self.project is not None:  # waits for the stop: the run keeps its best weights
            self.jobs.stop(scope=self.project.root, msecs=STOP_WAIT_MS)
        self.cancel_job(wait=True)
        if self.train_panel is not None:
            self.train_panel.shutdown()
        self.browser.thumbs.shutdown()
        self.editor.shutdown()  # edits were saved by _confirm_saved; this stops GrabCut jobs
        if self.project is not None:
            self.editor.set_project(None)
            self.project_signals.set_project(None)
            self.project.close()
            self.project = None
        event.accept()


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.main_window [PROJECT]
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.settings import demo_candidates
    from fashionseg_gui.views.style import apply_style, exec_demo

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    window = MainWindow()
    demo = next(p for p in demo_candidates() if (p / "project.json").is_file())
    window.open_project(Path(sys.argv[1]) if len(sys.argv) > 1 else demo, read_only=True)
    window.show()
    code = exec_demo(app)
    window.close()
    raise SystemExit(code)
