"""Eraser: the brush, writing "unlabelled" (255)."""

from __future__ import annotations

from fashionseg_gui.core.project import IGNORE
from fashionseg_gui.views.canvas.tools.base import register
from fashionseg_gui.views.canvas.tools.brush import BrushTool


@register
class EraserTool(BrushTool):
    name = "eraser"
    order = 50
    label = "Eraser"
    shortcut = "E"
    hint = "Erase to unlabelled; [ and ] change the size"
    undo_label = "erase"

    def value(self) -> int:
        return IGNORE
