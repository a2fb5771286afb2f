"""The one icon system (SVG files in resources/icons), the swatch and the style sheet."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from fashionseg_gui.views import icons, style


def _opaque_pixels(qicon, size: int = 24) -> int:
    img = qicon.pixmap(size).toImage()
    return sum(1 for x in range(size) for y in range(size) if img.pixelColor(x, y).alpha())


def test_every_icon_the_views_ask_for_exists_and_renders(qapp) -> None:
    wanted = {
        "select",
        "polygon",
        "rect",
        "brush",
        "eraser",
        "fill",
        "grabcut",
        "undo",
        "redo",
        "fit",
        "zoom100",
        "outline",
        "save",
        "new",
        "open",
        "quit",
        "import",
        "export",
        "add",
        "remove",
        "rename",
        "color",
        "next",
        "prev",
    }
    assert wanted <= set(icons.icon_names())
    for name in icons.icon_names():
        assert _opaque_pixels(icons.icon(name)) > 20, name


def test_icons_follow_the_palette_text_colour(qapp) -> None:
    dark = icons.render("remove", 24, QColor("#000000"))
    light = icons.render("remove", 24, QColor("#ffffff"))
    assert dark.toImage().pixelColor(12, 12).red() < 40
    assert light.toImage().pixelColor(12, 12).red() > 215


def test_an_unknown_icon_is_a_key_error(qapp) -> None:
    with pytest.raises(KeyError, match="no icon named"):
        icons.icon("no-such-icon")


def test_a_missing_resource_names_the_folders_it_searched(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(icons, "RESOURCE_DIRS", (tmp_path / "a", tmp_path / "b"))
    with pytest.raises(icons.ResourceError, match="resources are missing"):
        icons.resource_path("style.qss")


def test_the_swatch_is_the_class_colour(qapp) -> None:
    img = icons.swatch_icon("#e6194b", 16).pixmap(16).toImage()
    assert img.pixelColor(8, 8).name() == "#e6194b"
    assert img.pixelColor(0, 0).alpha() == 0  # rounded corner


def test_apply_style_loads_the_qss_with_its_colours_and_the_app_icon(qapp) -> None:
    style.apply_style(qapp)
    sheet = qapp.styleSheet()
    assert "QDockWidget::title" in sheet and "${" not in sheet
    assert f"border: 1px solid {style.ACCENT}" in sheet
    assert not qapp.windowIcon().isNull()
