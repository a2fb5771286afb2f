"""The label values and class colours every module shares.

``IGNORE`` (255) is the mask value for "not labelled" (and for letterbox padding in
training): it is excluded from losses, metrics and every export. Class colours are stored as
``#rrggbb``; :func:`hex_to_rgb` turns one into an ``(r, g, b)`` triple and never raises, so a
hand-edited project with a colour such as ``"red"`` or ``"#12"`` still exports and displays.
"""

from __future__ import annotations

import re

IGNORE = 255
"""Mask value of pixels that are not labelled (never a class id)."""

FALLBACK_RGB = (128, 128, 128)
"""Colour used for a class whose stored colour cannot be read."""

_HEX6 = re.compile(r"#?([0-9a-fA-F]{6})")
_HEX3 = re.compile(r"#?([0-9a-fA-F]{3})")


def hex_to_rgb(color: object, default: tuple[int, int, int] = FALLBACK_RGB) -> tuple[int, int, int]:
    """``"#rrggbb"`` (or ``#rgb``, or a CSS colour name such as ``red``) -> ``(r, g, b)``.

    Parameters
    ----------
    color : object
        The stored colour; anything that is not a readable colour gives ``default``.
    default : tuple of int
        Returned for an unreadable colour.

    Returns
    -------
    tuple[int, int, int]
        Each channel 0..255.
    """
    if not isinstance(color, str):
        return default
    text = color.strip()
    m = _HEX6.fullmatch(text)
    if m:
        h = m.group(1)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    m = _HEX3.fullmatch(text)
    if m:
        h = m.group(1)
        return int(h[0] * 2, 16), int(h[1] * 2, 16), int(h[2] * 2, 16)
    if not text or len(text) > 40:
        return default
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        return default
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    """``(r, g, b)`` -> ``"#rrggbb"``."""
    r, g, b = (max(0, min(255, int(v))) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
