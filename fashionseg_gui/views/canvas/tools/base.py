"""The interface every canvas tool implements, and the registry of tools.

A tool is a small class that receives the mouse and key events of the canvas while it is the
current tool. It edits through ``canvas.doc`` (the :class:`AnnotationDocument`) and asks the
canvas to repaint with ``canvas.refresh(region)``; it never paints label pixels with Qt.
``@register`` adds a tool to the registry; ``order`` places it in the tool bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QPointF, Qt

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon, QKeyEvent, QMouseEvent

    from fashionseg_gui.views.canvas.view import CanvasView

__all__ = ["CanvasTool", "register", "registered", "tool_class", "unregister"]


class CanvasTool:
    """Base class of the canvas tools: every hook does nothing until a tool overrides it.

    Class attributes describe the tool to the editor (tool bar, shortcut, hint) and to the
    canvas (cursor, whether the round brush outline and the shape outlines are shown).
    ``scene`` arguments are scene coordinates: pixel ``(col, row)`` covers
    ``[col, col+1) x [row, row+1)``; ``canvas.pixel(scene)`` gives the pixel.
    """

    #: Unique name; also the icon name and the value of the :class:`Tool` enum member.
    name: ClassVar[str] = ""
    #: Place in the tool bar (lower first; ties keep the registration order).
    order: ClassVar[int] = 1000
    label: ClassVar[str] = ""
    shortcut: ClassVar[str] = ""
    hint: ClassVar[str] = ""
    #: Whether the tool changes the document (edit tools are disabled when read-only).
    edits: ClassVar[bool] = True
    #: Show the round brush outline under the cursor.
    brush_cursor: ClassVar[bool] = False
    #: Show the outlines of the vector shapes while the tool is current.
    shows_shapes: ClassVar[bool] = False
    cursor: ClassVar[Qt.CursorShape] = Qt.CursorShape.CrossCursor

    def __init__(self, canvas: CanvasView) -> None:
        self.canvas = canvas

    @classmethod
    def icon(cls) -> QIcon:
        """The tool bar icon: the app icon of the same name (a tool may draw its own)."""
        from fashionseg_gui.views.icons import icon

        return icon(cls.name)

    # --- hooks ---------------------------------------------------------------------------
    def press(self, event: QMouseEvent, scene: QPointF) -> None:
        """A mouse button went down on the photo (not a pan)."""

    def move(self, event: QMouseEvent, scene: QPointF) -> None:
        """The mouse moved over the canvas (with or without a button down)."""

    def release(self, event: QMouseEvent, scene: QPointF) -> None:
        """A mouse button went up."""

    def double_click(self, event: QMouseEvent, scene: QPointF) -> bool:
        """A double click; return True when handled (otherwise it counts as a press)."""
        return False

    def key(self, event: QKeyEvent) -> bool:
        """A key the canvas does not handle itself; return True when handled."""
        return False

    def cancel(self) -> bool:
        """Drop whatever is being drawn; return True if there was something."""
        return False

    def busy(self) -> bool:
        """Whether a gesture is in progress that undo or redo would break."""
        return False

    def current_cursor(self) -> Qt.CursorShape:
        """The mouse cursor now (a tool may change it while hovering)."""
        return self.cursor

    def wants_brush_cursor(self) -> bool:
        """Whether the round brush outline is shown now."""
        return self.brush_cursor


_REGISTRY: dict[str, type[CanvasTool]] = {}


def register(cls: type[CanvasTool]) -> type[CanvasTool]:
    """Class decorator: add a tool to the registry (its ``name`` must be new)."""
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"a canvas tool needs a unique name (got {cls.name!r})")
    _REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove the tool ``name`` from the registry (canvases made later no longer have it)."""
    _REGISTRY.pop(str(name), None)


def registered() -> list[type[CanvasTool]]:
    """The registered tool classes in tool bar order."""
    return sorted(_REGISTRY.values(), key=lambda cls: cls.order)


def tool_class(name: str) -> type[CanvasTool]:
    """The tool class registered under ``name`` (ValueError if none)."""
    try:
        return _REGISTRY[str(name)]
    except KeyError:
        raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(_REGISTRY)}") from None
