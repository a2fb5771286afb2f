"""The look of FashionSeg Studio: one light palette, the style sheet, status colours.

The style sheet itself is ``resources/style.qss``; icons and swatches are in
:mod:`fashionseg_gui.views.icons`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from string import Template
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from fashionseg_gui.views.icons import app_icon, resource_path

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

#: Set to a number of milliseconds, makes every view's ``__main__`` demo quit after that long
#: (the demos' smoke test, tests/gui/test_view_demos.py).
DEMO_QUIT_ENV = "FASHIONSEG_DEMO_QUIT_MS"

ACCENT = "#2f6fde"
WINDOW_BG = "#f3f4f6"
PANEL_BG = "#ffffff"
BORDER = "#d5d8de"
TEXT = "#1f2328"
MUTED = "#6a717b"

#: Badge colour of each image status (the browser and the status bar use the same ones).
STATUS_COLORS: dict[str, str] = {
    "unlabelled": "#9aa0a6",
    "labelled": "#2e9d4f",
    "predicted": "#d9822b",
    "corrected": "#2f6fde",
}
STATUS_LABELS: dict[str, str] = {
    "unlabelled": "Unlabelled",
    "labelled": "Labelled",
    "predicted": "Predicted",
    "corrected": "Corrected",
}
SPLIT_LABELS: dict[str | None, str] = {"train": "train", "val": "val", "test": "test", None: ""}

#: The placeholders ``${NAME}`` of ``resources/style.qss`` and their values.
STYLE_COLORS: dict[str, str] = {
    "ACCENT": ACCENT,
    "WINDOW_BG": WINDOW_BG,
    "PANEL_BG": PANEL_BG,
    "BORDER": BORDER,
    "TEXT": TEXT,
    "MUTED": MUTED,
}


def stylesheet() -> str:
    """The app's Qt style sheet: ``resources/style.qss`` with its colours filled in."""
    text = resource_path("style.qss").read_text(encoding="utf-8")
    return Template(text).substitute(STYLE_COLORS)


def apply_style(app: QApplication) -> None:
    """Apply the Fusion style, the light palette and the stylesheet to ``app``."""
    app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(WINDOW_BG))
    pal.setColor(QPalette.ColorRole.Base, QColor(PANEL_BG))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f8fa"))
    pal.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Button, QColor(PANEL_BG))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffe8"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor(TEXT))
    # setColor(role, colour) sets every colour group, the disabled one included: give
    # disabled widgets their greyed text back, or they look enabled.
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(MUTED))
    app.setPalette(pal)
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())


def exec_demo(app: QApplication) -> int:
    """Run a view demo's event loop; it quits by itself after ``$FASHIONSEG_DEMO_QUIT_MS``."""
    quit_ms = os.environ.get(DEMO_QUIT_ENV)
    if quit_ms:
        QTimer.singleShot(int(quit_ms), app.quit)
    return int(app.exec())


def open_demo_project(read_only: bool = True) -> Project:
    """The bundled demo project (``projects/demo``), opened read-only, for the view demos."""
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.settings import demo_candidates

    for folder in demo_candidates():
        if (folder / "project.json").is_file():
            return Project.open(folder, read_only=read_only)
    raise FileNotFoundError("the bundled demo project is missing")


def run_panel_demo(make_panel: Callable[[], QWidget], width: int, height: int) -> int:
    """Show one project panel on its own: ``python -m fashionseg_gui.views.<module> [PROJECT]``.

    The project (default: the bundled demo) opens read-only; returns the event loop's exit code.
    """
    import sys

    from fashionseg_gui.core.project import Project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    panel = make_panel()
    project = (
        Project.open(sys.argv[1], read_only=True) if len(sys.argv) > 1 else open_demo_project()
    )
    panel.set_project(project)
    panel.resize(width, height)
    panel.show()
    code = exec_demo(app)
    project.close()
    return code
