"""The main window's import and export flows and its background jobs.

:class:`WindowJobs` is mixed into :class:`~fashionseg_gui.views.main_window.MainWindow`:
the import dialogs (photos, a folder, VIA annotations, a mask folder), dropped paths, the
export formats, the one window job at a time (with its report), and the lock of the editor
while a job rewrites masks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QMessageBox,
)

from fashionseg_gui.core.project import Project
from fashionseg_gui.views.folder_dialog import FolderDialog
from fashionseg_gui.views.import_dialogs import ImportReportDialog, ViaImportFlow, report_lines
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.importer import (
    EXPORT_FORMATS,
    ImportResult,
    ViaJob,
    export_job,
    import_job,
    mask_folder_job,
    plan_paths,
)
from fashionseg_gui.workers.jobs import POLICY, Job, JobRefused

#: QSettings key of the folder the last export went to.
EXPORT_FOLDER_KEY = "export/last_folder"
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"
VIA_FILTER = "VIA annotations (*.json *.csv);;All files (*)"


class WindowJobs:
    """Import / export dialogs and the window's jobs (a mixin of the main window)."""

    def _can_write(self, what: str) -> bool:
        if self.project is None:
            QMessageBox.information(self, what, "Open or create a project first.")
            return False
        if self.project.read_only:
            QMessageBox.information(
                self, what, f"The project is read-only ({self.project.read_only_reason})."
            )
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
            self,
            "Value-to-class mapping JSON (cancel: mask values are class ids)",
            folder,
            "Mapping (*.json)",
        )
        assert self.project is not None
        self.start_job(
            "import masks",
            mask_folder_job,
            self.project,
            Path(folder),
            Path(mapping) if mapping else None,
        )

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
        flow.ready.connect(
            lambda jobs, errs: self._start_import(plan.images, jobs, errors + errs, project)
        )
        self._via_flow = flow
        return flow.start(self.jobs, scope=project.root, owner=self)

    def _start_import(
        self,
        images: list[Path],
        via_jobs: list[ViaJob],
        errors: list[str],
        project: Project | None = None,
    ) -> JobWorker | None:
        self._via_flow = None
        if self.project is None or (project is not None and project is not self.project):
            return None  # the project was closed while the VIA files were read
        if not images and not via_jobs:
            if errors:
                self._show_report("Import", ["Nothing imported."] + errors)
            return None
        return self.start_job("import", import_job, self.project, images, via_jobs, errors=errors)

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
                self,
                f"Export {text.rstrip('…')}",
                str(start / f"{self.project.name}_{fmt}.json"),
                "JSON (*.json)",
            )
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

    def start_job(
        self, kind: str, fn: Callable[..., Any], *args: Any, errors: list[str] | None = None
    ) -> JobWorker | None:
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
        if (
            self.project is not None
            and job.scope == self.project.root
            and POLICY[job.kind].locks_editing
        ):
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
