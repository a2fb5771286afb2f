"""The annotation canvas: a view (:class:`CanvasView`) plus one module per tool (``tools/``)."""

from __future__ import annotations

from fashionseg_gui.views.canvas.items import ImageItem, ShapesItem, shape_handles, shape_path
from fashionseg_gui.views.canvas.tools import (
    TOOLS,
    CanvasTool,
    GrabCutState,
    Tool,
    register,
    registered,
    tool_class,
)
from fashionseg_gui.views.canvas.view import MAX_ZOOM, MIN_ZOOM, CanvasView

__all__ = [
    "MAX_ZOOM",
    "MIN_ZOOM",
    "TOOLS",
    "CanvasTool",
    "CanvasView",
    "GrabCutState",
    "ImageItem",
    "ShapesItem",
    "Tool",
    "register",
    "registered",
    "shape_handles",
    "shape_path",
    "tool_class",
]
