"""The one bridge from the project's psygnal events to Qt signals.

Project events (``Project.events``, psygnal) fire on whatever thread changed the project: a
class deletion, an import or a prediction runs on a worker thread. :class:`ProjectSignals`
re-emits each of them as a Qt signal; Qt queues a signal emitted off the GUI thread to the
receivers living in the GUI thread, so views are only ever called on the GUI thread. Every
view connects to these signals, never to the psygnal group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

#: psygnal event name -> Qt signal name (the same names).
EVENTS = ("images_changed", "image_changed", "mask_changed", "classes_changed", "settings_changed")


class ProjectSignals(QObject):
    """Qt mirror of ``Project.events``; connect views to these, not to the psygnal group.

    Signals
    -------
    images_changed(list ids), image_changed(str id), mask_changed(str id),
    classes_changed(), settings_changed()
    """

    images_changed = Signal(list)
    image_changed = Signal(str)
    mask_changed = Signal(str)
    classes_changed = Signal()
    settings_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None

    @property
    def project(self) -> Project | None:
        return self._project

    def set_project(self, project: Project | None) -> None:
        """Follow another project (disconnects from the previous one; same one: no-op)."""
        if project is self._project:
            return
        if self._project is not None:
            ev = self._project.events
            for name, slot in self._pairs():
                try:
                    getattr(ev, name).disconnect(slot)
                except (ValueError, RuntimeError):  # already disconnected
                    pass
        self._project = project
        if project is not None:
            for name, slot in self._pairs():
                getattr(project.events, name).connect(slot)

    def _pairs(self) -> list[tuple[str, Callable[..., Any]]]:
        return [
            ("images_changed", self._images_changed),
            ("image_changed", self._image_changed),
            ("mask_changed", self._mask_changed),
            ("classes_changed", self._classes_changed),
            ("settings_changed", self._settings_changed),
        ]

    # psygnal may call these on a worker thread; a Qt signal emitted there is queued to
    # receivers living in the GUI thread.
    def _images_changed(self, ids: list[str]) -> None:
        self.images_changed.emit(list(ids))

    def _image_changed(self, image_id: str) -> None:
        self.image_changed.emit(str(image_id))

    def _mask_changed(self, image_id: str) -> None:
        self.mask_changed.emit(str(image_id))

    def _classes_changed(self) -> None:
        self.classes_changed.emit()

    def _settings_changed(self) -> None:
        self.settings_changed.emit()
