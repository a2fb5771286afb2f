"""The classes panel (right dock): class list, current class, visibility, edits, image style."""

from __future__ import annotations

import html

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.project import IGNORE, Project, ProjectError
from fashionseg_gui.views.current_class import CurrentClass
from fashionseg_gui.views.icons import icon, swatch_icon
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobRefused, JobService
from fashionseg_gui.workers.project_jobs import delete_class_job

STYLES = ("none", "bohemian", "preppy", "streetwear")
CUSTOM_STYLE = "custom…"
#: Widest class name shown above the list (pixels).
CURRENT_NAME_WIDTH = 150


class DeleteClassDialog(QDialog):
    """Asks what becomes of a deleted class's pixels: another class, or unlabelled."""

    def __init__(self, project: Project, class_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = project.classes[class_id].name
        self.setWindowTitle(f"Delete class “{name}”")
        self.combo = QComboBox(self)
        self.combo.addItem("Unlabelled (ignored in training)", IGNORE)
        for c in project.classes:
            if c.id != class_id:
                self.combo.addItem(swatch_icon(c.color), c.name, c.id)
        form = QFormLayout()
        form.addRow(QLabel(f"Pixels and shapes of “{name}” in every image become:"))
        form.addRow(self.combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Delete class")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def target(self) -> int | None:
        """The chosen class id, or None for unlabelled."""
        value = int(self.combo.currentData())
        return None if value == IGNORE else value

    @classmethod
    def ask(
        cls, project: Project, class_id: int, parent: QWidget | None = None
    ) -> tuple[bool, int | None]:
        """Run the dialog: (accepted, target class id or None for unlabelled)."""
        dlg = cls(project, class_id, parent)
        ok = dlg.exec() == QDialog.DialogCode.Accepted
        return ok, dlg.target()


class ClassesPanel(QWidget):
    """List of classes with swatch, name, shortcut and a visibility checkbox.

    Signals
    -------
    sigCurrentClassChanged(int)
        The current class changed (picked here, or anywhere that shares :attr:`current`).
    sigClassVisibilityChanged(int, bool)
        A class's pixels were shown or hidden on the canvas.
    sigError(str)
        An edit was refused (shown in the status bar by the window).
    """

    sigCurrentClassChanged = Signal(int)
    sigClassVisibilityChanged = Signal(int, bool)
    sigError = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        jobs: JobService | None = None,
        current_class: CurrentClass | None = None,
    ) -> None:
        super().__init__(parent)
        #: Runs class deletions (they rewrite every mask) off the GUI thread.
        self.jobs = jobs if jobs is not None else JobService.shared()
        self._deleting: JobWorker | None = None
        self._project: Project | None = None
        self._image_id: str | None = None
        #: The painting class: the window's one state (shared with the editor and the status
        #: bar), or the panel's own when it runs alone.
        self.current = current_class if current_class is not None else CurrentClass(self)
        self.current.changed.connect(self._on_current_changed)
        self._hidden: set[int] = set()

        self.list = QListWidget(self)
        self.list.setToolTip(
            "Click to paint with a class (keys 1–9, 0 = background); "
            "double-click to rename; the checkbox shows or hides its pixels"
        )
        self.add_btn = self._button("add", "Add a class")
        self.rename_btn = self._button("rename", "Rename the selected class (double-click)")
        self.color_btn = self._button("color", "Change the selected class's colour")
        self.delete_btn = self._button("remove", "Delete the selected class…")
        buttons = QHBoxLayout()
        for b in (self.add_btn, self.rename_btn, self.color_btn, self.delete_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.current_label = QLabel(self)
        self.current_label.setObjectName("currentClass")
        self.style_combo = QComboBox(self)
        self.style_combo.setToolTip("Style attribute of the current image")
        self.style_combo.addItems([*STYLES, CUSTOM_STYLE])
        style_row = QFormLayout()
        style_row.addRow("Image style:", self.style_combo)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.current_label)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        lay.addLayout(style_row)

        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self.rename_current())
        self.add_btn.clicked.connect(self.add_class)
        self.rename_btn.clicked.connect(self.rename_current)
        self.color_btn.clicked.connect(self.recolor_current)
        self.delete_btn.clicked.connect(self.delete_current)
        self.style_combo.activated.connect(self._on_style)
        self._update_enabled()

    def _button(self, name: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(icon(name, self))
        b.setToolTip(tip)
        b.setAutoRaise(False)
        return b

    # --- model ---------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Show ``project``'s classes (current class 1 if it exists)."""
        if project is not self._project:
            self._deleting = None  # a deletion on the previous project reports nowhere
        self._project = project
        self._hidden.clear()
        self._image_id = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list from the project (slot for ``classes_changed``)."""
        self.current.set_project(self._project)  # another project resets it, same one clamps
        blocker = QSignalBlocker(self.list)
        self.list.clear()
        if self._project is not None:
            self._hidden = {c for c in self._hidden if c < len(self._project.classes)}
            for c in self._project.classes:
                key = c.shortcut or ("0" if c.id == 0 else "")
                item = QListWidgetItem(swatch_icon(c.color, 18), c.name)
                item.setData(Qt.ItemDataRole.UserRole, c.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Unchecked if c.id in self._hidden else Qt.CheckState.Checked
                )
                item.setToolTip(f"{c.name} — key {key}" if key else c.name)
                if key:
                    item.setText(f"{c.name}\t{key}")
                self.list.addItem(item)
            self.list.setCurrentRow(self._current)
        del blocker
        self._update_current_label()
        self._update_enabled()

    def set_image(self, image_id: str | None) -> None:
        """The image whose style the combo edits."""
        self._image_id = image_id
        blocker = QSignalBlocker(self.style_combo)
        style = None
        if self._project is not None and image_id in self._project.images:
            style = self._project.images[image_id].style
        if style is None:
            self.style_combo.setCurrentIndex(0)
        elif style in STYLES:
            self.style_combo.setCurrentText(style)
        else:
            if self.style_combo.findText(style) < 0:
                self.style_combo.insertItem(self.style_combo.count() - 1, style)
            self.style_combo.setCurrentText(style)
        del blocker
        self._update_enabled()

    # --- current class -----------------------------------------------------------------------
    @property
    def _current(self) -> int:
        return self.current.value()

    def current_class(self) -> int:
        return self.current.value()

    def set_current_class(self, class_id: int) -> bool:
        """Select a class (from a shortcut or the editor); False if there is no such class."""
        if self._project is None or not 0 <= class_id < len(self._project.classes):
            return False
        return self.current.set(class_id)

    def is_visible(self, class_id: int) -> bool:
        return class_id not in self._hidden

    def _on_row(self, row: int) -> None:
        if row < 0 or self._project is None:
            return
        self.current.set(row)

    def _on_current_changed(self, class_id: int) -> None:
        if (
            self._project is not None
            and self.list.currentRow() != class_id
            and 0 <= class_id < self.list.count()
        ):
            with QSignalBlocker(self.list):
                self.list.setCurrentRow(class_id)
        self._update_current_label()
        self._update_enabled()
        self.sigCurrentClassChanged.emit(class_id)

    def _update_current_label(self) -> None:
        if self._project is None or not 0 <= self._current < len(self._project.classes):
            self.current_label.setText("No project")
            return
        c = self._project.classes[self._current]
        # A long name is cut in the middle (whole in the tooltip): it never widens the dock.
        name = self.current_label.fontMetrics().elidedText(
            c.name, Qt.TextElideMode.ElideMiddle, CURRENT_NAME_WIDTH
        )
        self.current_label.setText(
            f'Painting with: <span style="color:{c.color}">■</span> <b>{html.escape(name)}</b>'
        )
        self.current_label.setToolTip(f"Painting with {c.name} (class {c.id})")

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        class_id = int(item.data(Qt.ItemDataRole.UserRole))
        visible = item.checkState() == Qt.CheckState.Checked
        if visible == (class_id not in self._hidden):
            return
        (self._hidden.discard if visible else self._hidden.add)(class_id)
        self.sigClassVisibilityChanged.emit(class_id, visible)

    def is_busy(self) -> bool:
        """Whether a class deletion started here is still running."""
        return self._deleting is not None

    def _update_enabled(self) -> None:
        writable = (
            self._project is not None and not self._project.read_only and self._deleting is None
        )
        user_class = writable and self._current > 0
        self.add_btn.setEnabled(writable)
        self.rename_btn.setEnabled(writable)
        self.color_btn.setEnabled(writable)
        self.delete_btn.setEnabled(user_class)
        self.style_combo.setEnabled(writable and self._image_id is not None)

    # --- edits ---------------------------------------------------------------------------
    def _run(self, fn: object, *args: object) -> bool:
        try:
            fn(*args)  # type: ignore[operator]
        except ProjectError as exc:
            self.sigError.emit(str(exc))
            QMessageBox.warning(self, "Classes", str(exc))
            return False
        return True

    def add_class(self) -> None:
        """Ask for a name and add a class (it becomes current)."""
        if self._project is None:
            return
        name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
        if not ok or not name.strip():
            return
        if self._run(self._project.add_class, name.strip()):
            self.refresh()
            self.set_current_class(len(self._project.classes) - 1)

    def rename_current(self) -> None:
        """Ask for a new name for the current class."""
        if self._project is None:
            return
        c = self._project.classes[self._current]
        name, ok = QInputDialog.getText(
            self, "Rename class", f"New name for “{c.name}”:", text=c.name
        )
        if ok and name.strip() and name.strip() != c.name:
            self._run(self._project.rename_class, c.id, name.strip())
            self.refresh()

    def recolor_current(self) -> None:
        """Pick a new colour for the current class."""
        if self._project is None:
            return
        c = self._project.classes[self._current]
        color = QColorDialog.getColor(QColor(c.color), self, f"Colour of “{c.name}”")
        if color.isValid():
            self._run(self._project.recolor_class, c.id, color.name())
            self.refresh()

    def delete_current(self) -> JobWorker | None:
        """Delete the current class after asking where its pixels go.

        The deletion rewrites every mask, so it runs as a job (progress and the result in
        the window's status bar); it is refused while a job that reads or writes the masks
        (a training, an import...) runs. Returns the job's worker, or None.
        """
        if self._project is None or self._current == 0 or self._deleting is not None:
            return None
        class_id = self._current
        ok, target = DeleteClassDialog.ask(self._project, class_id, self)
        if not ok:
            return None
        worker = JobWorker(delete_class_job, self._project, class_id, target, name="delete class")
        worker.finished.connect(self._on_deleted)
        worker.failed.connect(self._on_delete_failed)
        worker.cancelled.connect(self._on_delete_cancelled)
        name = self._project.classes[class_id].name
        try:
            self.jobs.submit(
                worker,
                "delete class",
                scope=self._project.root,
                label=f"Deleting class {name}",
                owner=self,
            )
        except JobRefused as exc:
            message = f"{exc}; wait for it or stop it, then delete the class."
            self.sigError.emit(message)
            QMessageBox.information(self, "Delete class", message)
            return None
        self._deleting = worker
        self._update_enabled()
        return worker

    def _on_deleted(self, class_id: int) -> None:
        if self.sender() is not self._deleting:
            return
        self._deleting = None
        if self._project is not None:
            self._hidden = {h if h < class_id else h - 1 for h in self._hidden if h != class_id}
            self.refresh()
            self.current.set(min(class_id, len(self._project.classes) - 1))
        self._update_enabled()

    def _on_delete_failed(self, message: str) -> None:
        if self.sender() is not self._deleting:
            return
        self._deleting = None
        self._update_enabled()
        self.sigError.emit(message)
        QMessageBox.warning(self, "Classes", message)

    def _on_delete_cancelled(self) -> None:
        if self.sender() is self._deleting:
            self._deleting = None
            self._update_enabled()

    def _on_style(self, _i: int) -> None:
        if self._project is None or self._image_id is None:
            return
        text = self.style_combo.currentText()
        if text == CUSTOM_STYLE:
            text, ok = QInputDialog.getText(self, "Image style", "Style name:")
            if not ok or not text.strip():
                self.set_image(self._image_id)
                return
            text = text.strip()
        self._run(self._project.set_style, self._image_id, None if text == "none" else text)
        self.set_image(self._image_id)


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.classes_panel PROJECT
    from fashionseg_gui.views.style import run_panel_demo

    raise SystemExit(run_panel_demo(ClassesPanel, 280, 400))
