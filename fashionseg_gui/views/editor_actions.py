"""The editor's actions: one per canvas tool, undo / redo / save, zoom, brush, review.

:class:`EditorActions` is mixed into :class:`~fashionseg_gui.views.editor.EditorWidget`. The
tool actions come from the canvas tool registry (label, key and hint of each tool); every
shortcut is window-wide, so the keys work wherever the focus is in the window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from fashionseg_gui.views.canvas import TOOLS, tool_class
from fashionseg_gui.views.canvas import registered as registered_tools
from fashionseg_gui.views.icons import icon

# name -> (label, shortcut, hint), in tool bar order, from the canvas tool registry
TOOL_INFO: dict[str, tuple[str, str, str]] = {
    cls.name: (cls.label, cls.shortcut, cls.hint) for cls in registered_tools()
}


class EditorActions:
    """Builds the editor's actions (a mixin of the editor, whose slots they call)."""

    def _action(
        self,
        text: str,
        icon_name: str | None,
        shortcuts: list[str],
        slot: Any = None,
        checkable: bool = False,
        context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
    ) -> QAction:
        # Window-wide: the tool keys work wherever the focus is in the window (after a click
        # on a thumbnail, in a dock); a text field still takes the letters typed into it.
        act = QAction(text, self)
        if icon_name:
            act.setIcon(icon(icon_name))
        act.setShortcuts([QKeySequence(s) for s in shortcuts])
        act.setShortcutContext(context)
        keys = " or ".join(shortcuts)
        act.setToolTip(f"{text} ({keys})" if keys else text)
        act.setCheckable(checkable)
        if slot is not None:
            act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        self._tool_group = QActionGroup(self)
        self._tool_group.setExclusive(True)
        self._tool_actions: dict[str, QAction] = {}
        for name in TOOLS:
            label, key, hint = TOOL_INFO[name]
            act = self._action(label, None, [key], checkable=True)
            act.setIcon(tool_class(name).icon())
            act.setToolTip(f"<b>{label}</b> ({key})<br>{hint}")
            act.setStatusTip(hint)
            act.setData(name)
            act.triggered.connect(lambda _c=False, n=name: self.set_tool(n))
            self._tool_group.addAction(act)
            self._tool_actions[name] = act
        win = Qt.ShortcutContext.WindowShortcut
        self.undo_action = self._action("Undo", "undo", ["Ctrl+Z"], self.undo, context=win)
        self.redo_action = self._action(
            "Redo", "redo", ["Ctrl+Shift+Z", "Ctrl+Y"], self.redo, context=win
        )
        self.save_action = self._action("Save", "save", ["Ctrl+S"], self.save_now, context=win)
        self.fit_action = self._action(
            "Fit to window", "fit", ["Ctrl+0", "Shift+F"], self.canvas.fit
        )
        self.zoom100_action = self._action(
            "Zoom 100 %", "zoom100", ["Ctrl+1"], self.canvas.zoom_100
        )
        self.outline_action = self._action(
            "Outline only", "outline", ["O"], self._toggle_outline, checkable=True
        )
        self.smaller_action = self._action(
            "Smaller brush", None, ["["], lambda: self._step_brush(-1)
        )
        self.larger_action = self._action("Larger brush", None, ["]"], lambda: self._step_brush(+1))
        self.heatmap_action = self._action("Confidence heat-map", None, ["H"], self._toggle_heatmap)
        self.accept_action = self._action(
            "Accept prediction", None, ["Ctrl+Return"], self.accept_prediction
        )
        self.reject_action = self._action(
            "Reject prediction", None, ["Shift+Del"], self.reject_prediction
        )
