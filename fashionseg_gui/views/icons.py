"""The app's one icon system: SVG files in ``resources/icons`` and the class colour swatch.

``icon(name)`` returns a cached :class:`QIcon` drawn from ``resources/icons/<name>.svg`` in the
palette's text colour (the files use ``currentColor``; ``#409eff`` is the accent).
:func:`resource_path` finds a resource both in a source checkout (``resources/`` beside the
package) and in an installed wheel (``fashionseg_gui/resources/``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

_PACKAGE = Path(__file__).resolve().parents[1]
#: Where resources live: inside the package when installed, beside it in a source checkout.
RESOURCE_DIRS = (_PACKAGE / "resources", _PACKAGE.parent / "resources")

_CACHE: dict[tuple[str, str], QIcon] = {}
ACCENT = QColor("#409eff")
#: Accent of the class swatch's "current" ring (the app's accent, views/style.ACCENT).
_RING = "#2f6fde"
_SIZES = (16, 24, 32, 48, 64)


class ResourceError(FileNotFoundError):
    """A resource file the app ships is missing (a broken installation)."""


def resource_dir() -> Path:
    """The folder holding the app's resources (``style.qss``, ``icons/``...)."""
    for folder in RESOURCE_DIRS:
        if (folder / "style.qss").is_file():
            return folder
    raise ResourceError(
        "the app's resources are missing; looked in " + ", ".join(str(d) for d in RESOURCE_DIRS)
    )


def resource_path(name: str) -> Path:
    """The path of resource ``name`` (e.g. ``"style.qss"``, ``"icons/save.svg"``)."""
    path = resource_dir() / name
    if not path.is_file():
        raise ResourceError(f"resource {name!r} is missing from {path.parent}")
    return path


@cache
def icon_names() -> tuple[str, ...]:
    """Every icon name :func:`icon` knows (the SVG files of ``resources/icons``)."""
    return tuple(sorted(p.stem for p in (resource_dir() / "icons").glob("*.svg")))


@cache
def _svg(name: str) -> str:
    if name not in icon_names():
        raise KeyError(f"no icon named {name!r}")
    return resource_path(f"icons/{name}.svg").read_text(encoding="utf-8")


def render(name: str, size: int, color: QColor, opacity: float = 1.0) -> QPixmap:
    """Render icon ``name`` at ``size`` device pixels in ``color`` (transparent background)."""
    svg = _svg(name).replace("currentColor", color.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setOpacity(opacity)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pm


def icon(name: str, widget: QWidget | None = None) -> QIcon:
    """The icon ``name`` (see :func:`icon_names`) in the text colour of ``widget``'s palette
    (default: the application's), cached."""
    _svg(name)  # KeyError for an unknown name
    if widget is not None:
        color = widget.palette().windowText().color()
    else:
        app = QGuiApplication.instance()
        color = (
            app.palette().windowText().color()
            if isinstance(app, QGuiApplication)
            else QColor("#303030")
        )
    key = (name, color.name())
    cached = _CACHE.get(key)
    if cached is None:
        cached = QIcon()
        for size in _SIZES:
            cached.addPixmap(render(name, size, color))
        for size in (24, 48):
            cached.addPixmap(render(name, size, color, opacity=90 / 255), QIcon.Mode.Disabled)
        _CACHE[key] = cached
    return cached


def app_icon() -> QIcon:
    """The application icon (``resources/fashionseg.svg``), for windows and the task bar."""
    renderer = QSvgRenderer(str(resource_path("fashionseg.svg")))
    result = QIcon()
    for size in (*_SIZES, 128, 256):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pm)
    return result


def swatch_icon(color: str, size: int = 16, checked_ring: bool = False) -> QIcon:
    """A class's colour as a rounded square (class lists and combos)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(QPen(QColor(_RING if checked_ring else "#00000060"), 1.5 if checked_ring else 1))
    p.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3, 3)
    p.end()
    result = QIcon(pm)
    # The same pixmap when selected: the style would otherwise tint a selected row's
    # swatch with the highlight colour, and the class colour must read exactly.
    result.addPixmap(pm, QIcon.Mode.Selected)
    return result
