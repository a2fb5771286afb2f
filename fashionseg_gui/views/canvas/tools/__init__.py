"""The canvas tools: one module per tool, each registered with ``@register``.

Importing this package imports every tool module and builds :class:`Tool`,
the enum of the registered tool names. To add a tool, write a module here with a
:class:`CanvasTool` subclass decorated with ``@register`` and add its import below
(see CONTRIBUTING.md, "Adding a canvas tool").
"""

from __future__ import annotations

import enum

from fashionseg_gui.views.canvas.tools import (  # noqa: F401 (imported to register the tools)
    brush,
    eraser,
    eyedropper,
    fill,
    grabcut,
    polygon,
    rect,
    select,
)
from fashionseg_gui.views.canvas.tools.base import CanvasTool, register, registered, tool_class
from fashionseg_gui.views.canvas.tools.grabcut import GrabCutState

#: The registered tools by name (a ``str`` enum: ``Tool.BRUSH == "brush"``).
Tool = enum.StrEnum("Tool", [(cls.name.upper(), cls.name) for cls in registered()])
#: Tool names in tool bar order.
TOOLS: tuple[str, ...] = tuple(cls.name for cls in registered())

__all__ = ["TOOLS", "CanvasTool", "GrabCutState", "Tool", "register", "registered", "tool_class"]
