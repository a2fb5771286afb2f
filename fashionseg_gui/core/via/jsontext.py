"""Text and JSON decoding shared by the VIA readers (BOMs, NaN/Infinity, CSV ``undefined``)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fashionseg_gui.core.via.model import NonFinite, ViaError

_UNDEFINED = re.compile(r'"(?:[^"\\]|\\.)*"|\bundefined\b')


def parse_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def loads(text: str, what: str) -> Any:
    """Parse JSON text; bare NaN/Infinity become :class:`NonFinite` (never a float)."""
    try:
        return json.loads(text, parse_constant=NonFinite, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise ViaError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ViaError(f"{what} is nested too deeply to be a VIA file") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ViaError(f"{what} is not usable JSON: {exc}") from None


def decode(data: bytes, name: str) -> str:
    """Bytes -> text by BOM (UTF-8, UTF-16, UTF-32), else UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        codec = "utf-8-sig"
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        codec = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise ViaError(
            f"{name}: unsupported encoding (not {codec.upper()}: bad byte at offset {exc.start})"
        ) from None


def csv_json(cell: str) -> tuple[Any, int]:
    """Parse a JSON cell of a VIA CSV; bare ``undefined`` (outside strings) reads as null.

    Returns the value and how many ``undefined`` were replaced. Raises ``ValueError`` or
    ``RecursionError`` for a cell that is not JSON.
    """
    count = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal count
        if m.group(0) == "undefined":
            count += 1
            return "null"
        return m.group(0)

    text = _UNDEFINED.sub(fix, cell) if "undefined" in cell else cell
    return json.loads(text, parse_constant=NonFinite, parse_float=parse_float), count
