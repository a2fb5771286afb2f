"""The main window: a wiring hub between the project, the docks, the editor and the jobs.

Layout: image browser (left dock), editor canvas (centre), classes panel and the Train
panel (right docks, tabified), editing tools (right tool bar), status bar at the bottom.
The window holds no domain state: it opens a :class:`~fashionseg_gui.core.project.Project`,
hands it to the widgets, and turns menu actions, drops and shortcuts into calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
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
from fashionseg_gui.views.icons import icon
from fashionseg_gui.views.import_dialogs import ImportReportDialog, ViaImportFlow, report_lines
from fashionseg_gui.views.jobs_bar import JobsBar
from fashionseg_gui.views.protocols import EditorLike
from fashionseg_gui.views.style import STATUS_LABELS
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

log = logging.getLogger(__name__)

APP_TITLE = "FashionSeg Studio"
DEFAULT_SIZE = (1400, 900)
#: How long closing waits for the jobs of the project to stop (a training ends its batch).
STOP_WAIT_MS = 120_000
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"
VIA_FILTER = "VIA annotations (*.json *.csv);;All files (*)"


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
        self.train_panel: Any = None
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        # --- centre: read-only banner above the editor ------------------------------------
        if editor is None:
            from fashionseg_gui.views.editor import EditorWidget

            editor = EditorWidget(self, jobs=self.jobs, project_signals=self.project_signals)
        self.editor: EditorLike = editor
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        centre = QWidget(self)
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.editor, 1)
        self.setCentralWidget(centre)

        # --- docks --------------------------------------------------------------------------
        self.browser = ImageBrowser(self)
        self.classes = ClassesPanel(self, jobs=self.jobs)
        self.docks = _Docks(self._dock("Images", "browser", self.browser,
                                       Qt.DockWidgetArea.LeftDockWidgetArea),
                            self._dock("Classes", "classes", self.classes,
                                       Qt.DockWidgetArea.RightDockWidgetArea),
                            self._dock("Train", "train", QWidget(self),
                                       Qt.DockWidgetArea.RightDockWidgetArea))
        self.tabifyDockWidget(self.docks.classes, self.docks.train)
        self.docks.classes.raise_()
        self.resizeDocks([self.docks.browser, self.docks.classes], [300, 300],
                         Qt.Orientation.Horizontal)
        self.docks.train.visibilityChanged.connect(self._on_train_visible)

        self.actions_ = self._make_actions()
        self._make_menus_and_toolbars()
        self._make_status_bar()
        self._wire()
        self.resize(*DEFAULT_SIZE)
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

        edit_menu = mb.addMenu("&Edit")
        edit_menu.addActions([self.editor.undo_action, self.editor.redo_action])
        tools = list(self.editor.tool_actions())
        if tools:
            edit_menu.addSeparator()
            edit_menu.addActions(tools)

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
        self.cursor_label = QLabel(self)
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
        self.classes.sigCurrentClassChanged.connect(self._on_class_from_panel)
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
        self.project_signals.set_project(project)
        self.editor.set_project(project)
        self.browser.set_project(project)
        self.classes.set_project(project)
        if self.train_panel is not None:
            self.train_panel.set_project(project)
        self._add_recent(project.root)
        if project.read_only:
            self.banner.setText(f"Read-only: {project.read_only_reason}. You can look around, "
                                "but edits and imports are not saved.")
            self.banner.show()
        else:
            self.banner.hide()
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
        self.editor.open_image(None)
        self.editor.set_project(None)
        self.browser.set_project(None)
        self.classes.set_project(None)
        if self.train_panel is not None:
            self.train_panel.set_project(None)
        self.project_signals.set_project(None)
        self.project.close()
        self.project = None
        self.banner.hide()
        self._update_title()
        self.sigProjectOpened.emit(None)
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
        """Make ``class_id`` the painting class (keys 0–9)."""
        if self.classes.set_current_class(class_id):
            self.editor.set_current_class(class_id)
            self._update_class_label()

    def _on_class_from_panel(self, class_id: int) -> None:
        self.editor.set_current_class(class_id)
        self._update_class_label()

    def _on_class_from_editor(self, class_id: int) -> None:
        if class_id != self.classes.current_class():
            self.classes.set_current_class(class_id)
        self._update_class_label()

    def _update_class_label(self) -> None:
        if self.project is None:
            self.class_label.setText("")
            return
        cid = self.classes.current_class()
        if 0 <= cid < len(self.project.classes):
            c = self.project.classes[cid]
            self.class_label.setText(f'<span style="color:{c.color}">■</span> {c.name} ({cid})')

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
        if single:
            path, _ = QFileDialog.getSaveFileName(self, f"Export {text.rstrip('…')}",
                                                  f"{self.project.name}_{fmt}.json", "JSON (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, f"Export {text.rstrip('…')} to folder")
        if path:
            self.save_now()
            self.start_job("export", export_job, self.project, fmt, Path(path))

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
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
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
            self.train_panel.set_project(self.project)
            self.train_panel.sigPredictionsReady.connect(self._on_predictions)
        return self.train_panel

    def _on_predictions(self, ids: list[str]) -> None:
        # The open photo's new prediction reaches the editor through the project's events
        # (it reloads a document whose files changed on disk).
        for image_id in ids:
            self.browser.model.refresh(image_id)
        self._update_position()

    # --- window state ---------------------------------------------------------------------------
    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle(APP_TITLE)
        else:
            ro = " [read-only]" if self.project.read_only else ""
            self.setWindowTitle(f"{self.project.name}{ro} — {APP_TITLE}")

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
