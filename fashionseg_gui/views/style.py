"""The look of FashionSeg Studio: one light palette, a stylesheet, status colours and icons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QWidget

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

STYLESHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW_BG}; }}
QDockWidget {{ font-weight: 600; }}
QDockWidget::title {{ background: {WINDOW_BG}; padding: 6px 8px; border-bottom: 1px solid {BORDER}; }}
QDockWidget > QWidget {{ background: {PANEL_BG}; }}
QListView, QListWidget, QTreeView, QTableWidget {{
    background: {PANEL_BG}; border: 1px solid {BORDER}; border-radius: 4px;
    selection-background-color: #dbe7fb; selection-color: {TEXT}; }}
QListWidget::item {{ padding: 4px 2px; }}
QListWidget::item:selected {{ background: #dbe7fb; border-left: 3px solid {ACCENT}; }}
QLineEdit, QComboBox {{ padding: 3px 6px; border: 1px solid {BORDER};
    border-radius: 4px; background: {PANEL_BG}; min-height: 20px; }}
QLineEdit:focus, QComboBox:focus {{ border: 1px solid {ACCENT}; }}
QPushButton, QToolButton {{ padding: 4px 10px; border: 1px solid {BORDER}; border-radius: 4px;
    background: {PANEL_BG}; }}
QPushButton:hover, QToolButton:hover {{ background: #eef3fd; border-color: {ACCENT}; }}
QPushButton:pressed, QToolButton:pressed, QToolButton:checked {{ background: #dbe7fb; }}
QPushButton:default {{ border: 1px solid {ACCENT}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {MUTED}; background: {WINDOW_BG};
    border-color: {BORDER}; }}
QToolBar {{ background: {WINDOW_BG}; border: none; border-bottom: 1px solid {BORDER};
    spacing: 2px; padding: 2px; }}
QToolBar QToolButton {{ border: 1px solid transparent; padding: 4px; }}
QStatusBar {{ background: {WINDOW_BG}; border-top: 1px solid {BORDER}; color: {TEXT}; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QProgressBar {{ border: 1px solid {BORDER}; border-radius: 4px; text-align: center;
    background: {PANEL_BG}; max-height: 16px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QLabel#banner {{ background: #fff4ce; color: #5c4400; border-bottom: 1px solid #e8d48b;
    padding: 6px 10px; font-weight: 600; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#currentClass {{ font-weight: 600; }}
QGroupBox {{ font-weight: 600; border: 1px solid {BORDER}; border-radius: 4px;
    margin-top: 10px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
"""


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
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(MUTED))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)


def run_panel_demo(make_panel: Callable[[], QWidget], width: int, height: int) -> int:
    """Show one project panel on its own: ``python -m fashionseg_gui.views.<module> [PROJECT]``.

    The project (if given) opens read-only; returns the event loop's exit code.
    """
    import sys

    from fashionseg_gui.core.project import Project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    panel = make_panel()
    if len(sys.argv) > 1:
        panel.set_project(Project.open(sys.argv[1], read_only=True))
    panel.resize(width, height)
    panel.show()
    return app.exec()


def swatch_icon(color: str, size: int = 16, checked_ring: bool = False) -> QIcon:
    """A rounded colour square (class swatches)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(QPen(QColor("#00000060" if not checked_ring else ACCENT), 1.5 if checked_ring else 1))
    p.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3, 3)
    p.end()
    return QIcon(pm)


def _draw_icon(kind: str, size: int = 24) -> QIcon:
    """Small line icons drawn in code (no image files to ship, crisp at any scale)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(TEXT), 1.8)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    s = size
    if kind == "import":
        p.drawRect(QRectF(s * .2, s * .45, s * .6, s * .38))
        p.drawLine(int(s * .5), int(s * .1), int(s * .5), int(s * .6))
        p.drawLine(int(s * .35), int(s * .45), int(s * .5), int(s * .6))
        p.drawLine(int(s * .65), int(s * .45), int(s * .5), int(s * .6))
    elif kind == "export":
        p.drawRect(QRectF(s * .2, s * .45, s * .6, s * .38))
        p.drawLine(int(s * .5), int(s * .1), int(s * .5), int(s * .6))
        p.drawLine(int(s * .35), int(s * .25), int(s * .5), int(s * .1))
        p.drawLine(int(s * .65), int(s * .25), int(s * .5), int(s * .1))
    elif kind == "add":
        p.drawLine(int(s * .5), int(s * .2), int(s * .5), int(s * .8))
        p.drawLine(int(s * .2), int(s * .5), int(s * .8), int(s * .5))
    elif kind == "remove":
        p.drawLine(int(s * .2), int(s * .5), int(s * .8), int(s * .5))
    elif kind == "rename":
        path = QPainterPath()
        path.moveTo(s * .2, s * .8)
        path.lineTo(s * .25, s * .6)
        path.lineTo(s * .65, s * .2)
        path.lineTo(s * .8, s * .35)
        path.lineTo(s * .4, s * .75)
        path.closeSubpath()
        p.drawPath(path)
    elif kind == "color":
        for i, c in enumerate(("#e6194b", "#3cb44b", "#4363d8")):
            p.setBrush(QColor(c))
            p.drawEllipse(QRectF(s * (.12 + .22 * i), s * (.3 + .1 * (i % 2)), s * .4, s * .4))
    elif kind == "next":
        p.drawLine(int(s * .35), int(s * .2), int(s * .65), int(s * .5))
        p.drawLine(int(s * .65), int(s * .5), int(s * .35), int(s * .8))
    elif kind == "prev":
        p.drawLine(int(s * .65), int(s * .2), int(s * .35), int(s * .5))
        p.drawLine(int(s * .35), int(s * .5), int(s * .65), int(s * .8))
    p.end()
    return QIcon(pm)


_STANDARD = {
    "new": QStyle.StandardPixmap.SP_FileDialogNewFolder,
    "open": QStyle.StandardPixmap.SP_DirOpenIcon,
    "save": QStyle.StandardPixmap.SP_DialogSaveButton,
    "folder": QStyle.StandardPixmap.SP_DirIcon,
    "quit": QStyle.StandardPixmap.SP_DialogCloseButton,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "cancel": QStyle.StandardPixmap.SP_DialogCancelButton,
}
_THEME = {"new": "document-new", "open": "document-open", "save": "document-save",
          "quit": "application-exit", "import": "document-import", "export": "document-export",
          "add": "list-add", "remove": "list-remove", "next": "go-next", "prev": "go-previous"}


def icon(name: str, widget: QWidget | None = None) -> QIcon:
    """An icon by short name: the desktop theme's if it has one, else a built-in one."""
    theme = _THEME.get(name)
    if theme and QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    if name in _STANDARD:
        style = widget.style() if widget is not None else QApplication.style()
        return style.standardIcon(_STANDARD[name])
    return _draw_icon(name)
