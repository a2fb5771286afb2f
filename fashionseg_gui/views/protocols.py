"""Interfaces between the views, as :class:`typing.Protocol` classes.

:class:`EditorLike` is what :class:`~fashionseg_gui.views.main_window.MainWindow` needs from
its central editor: :class:`~fashionseg_gui.views.editor.EditorWidget` implements it, and so
does the recording stand-in of the main-window tests (``tests/gui/fake_editor.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QAction

    from fashionseg_gui.core.project import Project


@runtime_checkable
class EditorLike(Protocol):
    """The editor the main window wires up (a ``QWidget`` that also has these members)."""

    # Signals (bound instances): cursor text, saved image id, (image id, message) of a failed
    # save, the current class chosen in the editor, whether unsaved edits exist.
    sigCursorInfo: SignalInstance
    sigImageSaved: SignalInstance
    sigSaveFailed: SignalInstance
    sigCurrentClassChanged: SignalInstance
    sigDirtyChanged: SignalInstance

    #: Edit-menu actions; ``save_action`` owns Ctrl+S (the window's Save has no shortcut).
    undo_action: QAction
    redo_action: QAction
    save_action: QAction

    def set_project(self, project: Project | None) -> None: ...

    def open_image(self, image_id: str | None) -> None: ...

    def current_image_id(self) -> str | None: ...

    def set_current_class(self, class_id: int) -> None: ...

    def current_class(self) -> int: ...

    def set_class_visible(self, class_id: int, visible: bool) -> None: ...

    def save_now(self) -> bool: ...

    def has_unsaved(self) -> bool: ...

    def shutdown(self) -> None: ...

    def tool_actions(self) -> list[QAction]: ...

    def view_actions(self) -> list[QAction]: ...
