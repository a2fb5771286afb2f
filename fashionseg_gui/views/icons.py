"""Tool icons drawn with QPainter (crisp at any scale, follow the palette's text colour).

``icon(name)`` returns a cached :class:`QIcon`; names: select, polygon, rect, brush, eraser,
fill, grabcut, undo, redo, fit, zoom100, outline, save.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

_CACHE: dict[tuple[str, str], QIcon] = {}
ACCENT = QColor("#409eff")


def _pen(color: QColor, width: float = 2.0) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


# Each painter draws on a 24x24 logical canvas.
def _select(p: QPainter, c: QColor) -> None:
    arrow = QPolygonF([QPointF(6, 3), QPointF(6, 19), QPointF(10, 15), QPointF(13, 21),
                       QPointF(15.5, 20), QPointF(12.5, 14), QPointF(18, 14)])
    p.setPen(_pen(c, 1.5))
    p.setBrush(QBrush(c))
    p.drawPolygon(arrow)


def _polygon(p: QPainter, c: QColor) -> None:
    pts = [QPointF(4, 8), QPointF(12, 3), QPointF(20, 9), QPointF(17, 20), QPointF(6, 18)]
    p.setPen(_pen(c, 1.8))
    p.drawPolygon(QPolygonF(pts))
    p.setBrush(QBrush(ACCENT))
    p.setPen(_pen(c, 1.0))
    for q in pts:
        p.drawEllipse(q, 2.2, 2.2)


def _rect(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 2.0))
    p.drawRect(QRectF(4, 6, 16, 12))
    p.setBrush(QBrush(ACCENT))
    p.setPen(_pen(c, 1.0))
    for q in (QPointF(4, 6), QPointF(20, 18)):
        p.drawEllipse(q, 2.2, 2.2)


def _brush(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 2.2))
    p.drawLine(QPointF(20, 3), QPointF(11, 13))
    path = QPainterPath(QPointF(10, 12))
    path.cubicTo(QPointF(4, 12), QPointF(6, 19), QPointF(3, 21))
    path.cubicTo(QPointF(9, 21), QPointF(14, 18), QPointF(12, 14))
    path.closeSubpath()
    p.setBrush(QBrush(ACCENT))
    p.setPen(_pen(c, 1.2))
    p.drawPath(path)


def _eraser(p: QPainter, c: QColor) -> None:
    p.translate(12, 12)
    p.rotate(-40)
    p.setPen(_pen(c, 1.6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(-9, -5, 18, 10), 2, 2)
    p.setBrush(QBrush(ACCENT))
    p.drawRoundedRect(QRectF(-9, -5, 7, 10), 2, 2)
    p.resetTransform()
    p.setPen(_pen(c, 1.4))
    p.drawLine(QPointF(4, 21), QPointF(20, 21))


def _fill(p: QPainter, c: QColor) -> None:
    bucket = QPolygonF([QPointF(4, 10), QPointF(11, 3), QPointF(18, 10), QPointF(11, 17)])
    p.setPen(_pen(c, 1.8))
    p.drawPolygon(bucket)
    p.setBrush(QBrush(ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    drop = QPainterPath(QPointF(19, 13))
    drop.cubicTo(QPointF(23, 19), QPointF(15, 19), QPointF(19, 13))
    p.drawPath(drop)
    p.drawEllipse(QRectF(16.2, 15.5, 5.6, 5.6))


def _grabcut(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 2.2))
    p.drawLine(QPointF(4, 20), QPointF(14, 10))
    p.setPen(_pen(ACCENT, 1.6))
    for a, b in (((17, 3), (17, 7)), ((15, 5), (19, 5)), ((20, 10), (20, 13)),
                 ((18.5, 11.5), (21.5, 11.5)), ((11, 4), (11, 6)), ((10, 5), (12, 5))):
        p.drawLine(QPointF(*a), QPointF(*b))


def _arrow_turn(p: QPainter, c: QColor, mirror: bool) -> None:
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    path = QPainterPath(QPointF(19, 18))
    path.cubicTo(QPointF(19, 8), QPointF(12, 7), QPointF(6, 9))
    p.setPen(_pen(c, 2.0))
    p.drawPath(path)
    p.setBrush(QBrush(c))
    p.drawPolygon(QPolygonF([QPointF(3, 9.5), QPointF(8, 5), QPointF(8.5, 13)]))


def _fit(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.8))
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        x, y = 12 - 8 * sx, 12 - 8 * sy
        p.drawLine(QPointF(x, y), QPointF(x + 5 * sx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 5 * sy))
    p.setPen(_pen(ACCENT, 1.5))
    p.drawRect(QRectF(8, 9, 8, 6))


def _zoom100(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.8))
    p.drawEllipse(QRectF(3, 3, 13, 13))
    p.drawLine(QPointF(14.5, 14.5), QPointF(21, 21))
    font = p.font()
    font.setPixelSize(8)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(3, 3, 13, 13), Qt.AlignmentFlag.AlignCenter, "1:1")


def _outline(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.0))
    p.setBrush(QBrush(QColor(ACCENT.red(), ACCENT.green(), ACCENT.blue(), 70)))
    p.drawEllipse(QRectF(2, 5, 14, 14))
    p.setPen(_pen(ACCENT, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(8, 5, 14, 14))


def _save(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.6))
    p.drawRoundedRect(QRectF(4, 4, 16, 16), 2, 2)
    p.drawRect(QRectF(8, 4, 8, 5))
    p.setBrush(QBrush(ACCENT))
    p.drawRect(QRectF(7, 13, 10, 7))


_PAINTERS: dict[str, Callable[[QPainter, QColor], None]] = {
    "select": _select, "polygon": _polygon, "rect": _rect, "brush": _brush,
    "eraser": _eraser, "fill": _fill, "grabcut": _grabcut,
    "undo": lambda p, c: _arrow_turn(p, c, False), "redo": lambda p, c: _arrow_turn(p, c, True),
    "fit": _fit, "zoom100": _zoom100, "outline": _outline, "save": _save,
}

ICON_NAMES = tuple(_PAINTERS)


def render(name: str, size: int, color: QColor) -> QPixmap:
    """Render icon ``name`` at ``size`` device pixels in ``color`` (transparent background)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.scale(size / 24.0, size / 24.0)
    _PAINTERS[name](painter, color)
    painter.end()
    return pm


def icon(name: str) -> QIcon:
    """The icon ``name`` (see :data:`ICON_NAMES`) in the palette's text colour, cached."""
    if name not in _PAINTERS:
        raise KeyError(f"no icon named {name!r}")
    app = QGuiApplication.instance()
    color = (app.palette().windowText().color() if isinstance(app, QGuiApplication)
             else QColor("#303030"))
    key = (name, color.name())
    cached = _CACHE.get(key)
    if cached is None:
        cached = QIcon()
        for size in (16, 24, 32, 48, 64):
            cached.addPixmap(render(name, size, color))
        disabled = QColor(color)
        disabled.setAlpha(90)
        for size in (24, 48):
            cached.addPixmap(render(name, size, disabled), QIcon.Mode.Disabled)
        _CACHE[key] = cached
    return cached
