"""The current class: the one class the editor paints with, shown by every widget.

One :class:`CurrentClass` per window is the single source of truth: the editor's tool bar
combo, the Classes panel's list and the status bar follow its ``changed`` signal, and each
of them writes the user's choice into it. Opening another project resets it (class 1, or
background when the project has no other class); a change of the class list keeps it when
it still exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

#: Classes accepted while no project is shown (ids are 8-bit; 255 is "not labelled").
NO_PROJECT_CLASSES = 255


class CurrentClass(QObject):
    """The painting class of a window.

    Signals
    -------
    changed(int)
        The current class id changed (also when a new project reset it).
    """

    changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._value = 1

    def value(self) -> int:
        return self._value

    def project(self) -> Project | None:
        return self._project

    def count(self) -> int:
        """How many classes may be chosen (the project's class count)."""
        return len(self._project.classes) if self._project is not None else NO_PROJECT_CLASSES

    def set(self, class_id: int) -> bool:
        """Make ``class_id`` current; False (nothing changes) when there is no such class."""
        class_id = int(class_id)
        if not 0 <= class_id < self.count():
            return False
        self._assign(class_id)
        return True

    def set_project(self, project: Project | None) -> None:
        """Follow ``project``: another project resets the class, the same one only clamps."""
        if project is self._project:
            self.clamp()
            return
        self._project = project
        self._assign(self._default())

    def clamp(self) -> None:
        """After a change of the class list: keep the class if it still exists."""
        if not 0 <= self._value < self.count():
            self._assign(self._default())

    def _default(self) -> int:
        return 1 if self.count() > 1 else 0

    def _assign(self, class_id: int) -> None:
        if class_id != self._value:
            self._value = class_id
            self.changed.emit(class_id)
