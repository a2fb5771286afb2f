"""Help ▸ Keyboard shortcuts and Help ▸ About.

The shortcut sheet is generated from the window's actual ``QAction``\\ s (and buttons with a
shortcut) each time it opens, so it always lists the keys that work, never a copy that can
drift from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import fashionseg_gui

#: Keys handled by the photo itself (not actions): shown under their own heading.
CANVAS_KEYS = (
    ("Pan the photo", "Space + drag, or the middle button"),
    ("Zoom at the cursor", "Mouse wheel"),
    ("Close the polygon / accept the assisted outline", "Enter"),
    ("Cancel what is being drawn; deselect", "Esc"),
    ("Delete the selected shape or the last vertex", "Delete or Backspace"),
)
CANVAS_GROUP = "On the photo"
#: An action's property that names its heading in the sheet (else its menu's title).
HELP_GROUP = "help_group"


@dataclass(frozen=True)
class ShortcutRow:
    group: str
    text: str
    keys: str


def _keys(sequences: list[QKeySequence]) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return " or ".join(s.toString(native) for s in sequences if not s.isEmpty())


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _group(action: QAction) -> str:
    """The title of the first menu that shows ``action`` (else the window's "Other")."""
    group = action.property(HELP_GROUP)
    if isinstance(group, str) and group:
        return group
    for obj in action.associatedObjects():
        if isinstance(obj, QMenu) and obj.title():
            title = _clean(obj.title())
            parent = obj.parent()
            while isinstance(parent, QMenu) and parent.title():  # File ▸ Export ▸ ...
                title = f"{_clean(parent.title())} ▸ {title}"
                parent = parent.parent()
            return title
    return "Other"


def _panel(widget: QWidget) -> str:
    """The title of the dock that holds ``widget`` ("Train"), else "Other"."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QDockWidget) and parent.windowTitle():
            return f"{parent.windowTitle()} panel"
        parent = parent.parentWidget()
    return "Other"


def shortcut_rows(window: QWidget) -> list[ShortcutRow]:
    """Every shortcut of ``window``: its actions, its buttons, then the photo's own keys."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()
    for action in window.findChildren(QAction):
        keys = _keys(action.shortcuts())
        if not keys or id(action) in seen:
            continue
        seen.add(id(action))
        text = _clean(action.text()) or _clean(action.toolTip())
        rows.append(ShortcutRow(_group(action), text, keys))
    for button in window.findChildren(QAbstractButton):
        keys = _keys([button.shortcut()])
        if not keys or isinstance(button, QToolButton) and button.defaultAction() is not None:
            continue  # a tool button of an action is listed with its action
        rows.append(ShortcutRow(_panel(button), _clean(button.text()) or button.toolTip(), keys))
    order = {"File": 0, "Edit": 1, "View": 2, "Help": 8, "Other": 9}
    rows.sort(key=lambda r: (order.get(r.group.split(" ▸ ")[0], 5), r.group))
    rows.extend(ShortcutRow(CANVAS_GROUP, text, keys) for text, keys in CANVAS_KEYS)
    return rows


class ShortcutsDialog(QDialog):
    """A table of every shortcut of a window, grouped by menu."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row in self.rows:
            r = self.table.rowCount()
            self.table.insertRow(r)
            for c, value in enumerate((row.group, row.text, row.keys)):
                self.table.setItem(r, c, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        note = QLabel(
            "Tool, class and image keys work wherever the focus is in the window, "
            "except while typing in a text field.",
            self,
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(620, 560)

    def keys_of(self, text: str) -> list[str]:
        """The keys listed for an action called ``text`` (for tests and scripts)."""
        return [r.keys for r in self.rows if r.text == text]


def about_text() -> str:
    return (
        f"<h3>FashionSeg Studio {fashionseg_gui.__version__}</h3>"
        "<p>Annotate fashion photos, train a U-Net segmentation model on them, correct "
        "its predictions and retrain — offline, on a laptop CPU.</p>"
        "<p>Projects are plain folders (<code>project.json</code>, label PNG masks, "
        "editable shapes); the same jobs run headless with the <code>fashionseg</code> "
        "command.</p><p>Help ▸ Keyboard shortcuts (F1) lists every key.</p>"
    )


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About FashionSeg Studio", about_text())


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.help
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.main_window import MainWindow
    from fashionseg_gui.views.style import apply_style, exec_demo, open_demo_project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    window = MainWindow()
    demo = open_demo_project()
    root = demo.root
    demo.close()
    window.open_project(root, read_only=True)
    sheet = ShortcutsDialog(window)
    sheet.show()
    code = exec_demo(app)
    sheet.close()
    window.close()
    raise SystemExit(code)
