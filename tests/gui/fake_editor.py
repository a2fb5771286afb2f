"""A stand-in for ``EditorWidget`` in main-window tests: the ``views.protocols.EditorLike``
API, no canvas, calls recorded."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget


class FakeEditor(QWidget):
    """Implements ``EditorLike`` (the API the window relies on) and records the calls."""

    sigCursorInfo = Signal(str)
    sigImageSaved = Signal(str)
    sigSaveFailed = Signal(str, str)
    sigCurrentClassChanged = Signal(int)
    sigDirtyChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = None
        self.image_id = None
        self.opened: list[str | None] = []
        self.cls = 1
        self.visible: dict[int, bool] = {}
        self.save_ok = True
        self.saves = 0
        self.undo_action = QAction("Undo", self)
        self.redo_action = QAction("Redo", self)
        self.save_action = QAction("Save", self)  # owns Ctrl+S, as the real editor's does
        self.save_action.setShortcut("Ctrl+S")
        self.save_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.save_action.triggered.connect(lambda _checked=False: self.save_now())
        self.addAction(self.save_action)
        self._tools = [QAction("Brush", self)]

    def set_project(self, project):
        self.project = project
        self.image_id = None

    def open_image(self, image_id):
        self.save_now()
        self.image_id = image_id
        self.opened.append(image_id)

    def current_image_id(self):
        return self.image_id

    def set_current_class(self, class_id):
        self.cls = class_id

    def current_class(self):
        return self.cls

    def set_class_visible(self, class_id, visible):
        self.visible[class_id] = visible

    def set_tool(self, name):
        pass

    def shutdown(self):
        pass

    def save_now(self):
        self.saves += 1
        if not self.save_ok:
            self.sigSaveFailed.emit(self.image_id or "", "disk full")
        return self.save_ok

    def has_unsaved(self):
        return not self.save_ok

    def tool_actions(self):
        return self._tools

    def view_actions(self):
        return [self.save_action]
