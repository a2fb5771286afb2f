"""The main window: a wiring hub between the project, the docks, the editor and the jobs.

Layout: image browser (left dock), editor canvas (centre), classes panel and the Train
panel (right docks, tabified), editing tools (right tool bar), status bar at the bottom.
The window holds no domain state: it opens a :class:`~fashionseg_gui.core.project.Project`,
hands it to the widgets, and turns menu actions, drops and shortcuts into calls.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import Project, ProjectError
from fashionseg_gui.views.browser import ImageBrowser
from fashionseg_gui.views.classes_panel import ClassesPanel
from fashionseg_gui.views.current_class import CurrentClass
from fashionseg_gui.views.folder_dialog import FolderDialog  # noqa: F401 (re-exported)
from fashionseg_gui.views.import_dialogs import ImportReportDialog
from fashionseg_gui.views.main_actions import WindowActions, _Docks
from fashionseg_gui.views.project_session import (  # noqa: F401 (re-exported)
    LOCKED_REASON,
    STOP_WAIT_MS,
    ProjectSession,
)
from fashionseg_gui.views.protocols import EditorLike
from fashionseg_gui.views.style import STATUS_LABELS
from fashionseg_gui.views.trash_dialog import TrashDialog
from fashionseg_gui.views.window_jobs import (  # noqa: F401 (re-exported)
    EXPORT_FOLDER_KEY,
    IMAGE_FILTER,
    VIA_FILTER,
    WindowJobs,
)
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.bridge import ProjectSignals
from fashionseg_gui.workers.jobs import JobService
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
#: Removing more photos than this at once runs as a job (off the GUI thread).
REMOVE_IN_JOB = 20


class MainWindow(WindowActions, ProjectSession, WindowJobs, QMainWindow):
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

    def __init__(
        self,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        editor: EditorLike | None = None,
        jobs: JobService | None = None,
    ) -> None:
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
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )

        # --- centre: read-only banner above the editor ------------------------------------
        if editor is None:
            from fashionseg_gui.views.editor import EditorWidget

            editor = EditorWidget(
                self,
                jobs=self.jobs,
                project_signals=self.project_signals,
                current_class=self.current_class,
            )
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
        self.docks = _Docks(
            self._dock("Images", "browser", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            self._dock("Classes", "classes", self.classes, Qt.DockWidgetArea.RightDockWidgetArea),
            self._dock("Train", "train", QWidget(self), Qt.DockWidgetArea.RightDockWidgetArea),
        )
        self.tabifyDockWidget(self.docks.classes, self.docks.train)
        self.docks.classes.raise_()
        self.resizeDocks(
            [self.docks.browser, self.docks.classes], list(DOCK_WIDTHS), Qt.Orientation.Horizontal
        )
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
            what = (
                f"“{project.images[ids[0]].original_name or ids[0]}”"
                if len(ids) == 1
                else f"these {len(ids)} photos"
            )
            answer = QMessageBox.question(
                self,
                "Remove from project",
                f"Move {what} to the project trash, with their masks?\n\nYour original "
                "files outside the project are not touched. Edit ▸ Trash… restores them "
                "until the trash is emptied.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Yes,
            )
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
        self.statusBar().showMessage(
            f"{len(ids)} photo(s) moved to the trash (Edit ▸ Trash… restores them)", 8000
        )
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
                c.name, Qt.TextElideMode.ElideMiddle, CLASS_LABEL_WIDTH
            )
            self.class_label.setText(
                f'<span style="color:{c.color}">■</span> {html.escape(name)} ({cid})'
            )
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
                self,
                "Save failed",
                "The current mask could not be saved. Retry, discard the unsaved edits, "
                "or cancel and stay?",
                QMessageBox.StandardButton.Retry
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Retry,
            )
            if answer == QMessageBox.StandardButton.Discard:
                return True
            if answer != QMessageBox.StandardButton.Retry:
                return False
        return True

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
        if kind in (
            QEvent.Type.DragEnter,
            QEvent.Type.DragMove,
            QEvent.Type.Drop,
        ) and self._dropped_files(event):
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
        return (
            min(DEFAULT_SIZE[0], max(640, avail.width() - SCREEN_MARGIN[0])),
            min(DEFAULT_SIZE[1], max(480, avail.height() - SCREEN_MARGIN[1])),
        )

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
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"{what} during training",
            "A training is running. Stop it now? The best weights so far are "
            "kept as the run's model.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        stop = box.addButton("Stop and keep the best weights", QMessageBox.ButtonRole.AcceptRole)
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
