"""The content of a VIA file, whatever its variant, and the one error type of the package."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fashionseg_gui.core.cancel import let_others_run

MAX_VIA_BYTES = 512 * 1024 * 1024
"""Largest VIA file read (a VIA file is JSON or CSV text; beyond this it is not one)."""

MAX_COORDINATE = 1e6
"""Coordinates and sizes beyond this magnitude are refused (no photo is that large)."""

MAX_LABEL_CHARS = 200
"""Longest class label taken from a VIA file."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class ViaError(Exception):
    """A VIA file that cannot be read at all (one clear line for the user)."""


class ShapeProblem(ValueError):
    """A region whose shape cannot be used; ``str(exc)`` is the reason shown to the user."""


@dataclass
class ViaRegion:
    """One region: our shape dict (without ``class_id``) and the VIA region attributes."""

    shape: dict
    attributes: dict


@dataclass
class ViaEntry:
    """One image of a VIA file. ``size`` is the file size in bytes, -1 when unknown."""

    key: str
    filename: str
    size: int
    regions: list[ViaRegion] = field(default_factory=list)
    file_attributes: dict = field(default_factory=dict)


@dataclass
class ViaFile:
    """The content of a VIA file, whatever its variant.

    ``version`` is one of ``"1"``, ``"2"`` (JSON exports), ``"2-project"``, ``"3"``, ``"csv"``.
    ``attribute_options`` maps a region attribute to {option id: label}. ``skipped`` lists
    ``(where, reason)`` for every region or entry that is not usable; ``notes`` are file-level
    remarks (e.g. a video project, ``undefined`` values read as unset).
    """

    version: str
    entries: list[ViaEntry] = field(default_factory=list)
    attribute_options: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def region_count(self) -> int:
        """Number of usable regions over all entries."""
        return sum(len(e.regions) for e in self.entries)


class NonFinite:
    """Stands for a bare NaN/Infinity in the JSON so that only the regions using it are skipped."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate (``"\\ud800"`` from a JSON escape) replaced by U+FFFD.

    Such strings cannot be written as UTF-8 (a project save or a console print would fail);
    valid surrogate pairs are joined into their character.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_value(value: Any) -> Any:
    """:func:`clean_text` applied to a string, or to the keys and values of a dict or list."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def sanitise(via: ViaFile) -> ViaFile:
    """Make every text of ``via`` writable as UTF-8 (file names, attributes, reasons)."""
    for entry in via.entries:
        let_others_run()  # a worker's parse must not freeze the window
        entry.key = clean_text(entry.key)
        entry.filename = clean_text(entry.filename)
        entry.file_attributes = clean_value(entry.file_attributes)
        for region in entry.regions:
            region.attributes = clean_value(region.attributes)
    via.attribute_options = clean_value(via.attribute_options)
    via.skipped = [(clean_text(w), clean_text(r)) for w, r in via.skipped]
    via.notes = [clean_text(n) for n in via.notes]
    return via
