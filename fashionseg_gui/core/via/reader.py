"""Read any VIA file: the variant is detected by content, never by file name."""

from __future__ import annotations

from pathlib import Path

from fashionseg_gui.core import gcpause
from fashionseg_gui.core.via.jsontext import decode, loads
from fashionseg_gui.core.via.model import MAX_VIA_BYTES, ViaError, ViaFile, clean_text, sanitise
from fashionseg_gui.core.via.read_csv import read_csv
from fashionseg_gui.core.via.read_json import read_export, read_v2_project
from fashionseg_gui.core.via.read_v3 import read_v3


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        if path.stat().st_size > MAX_VIA_BYTES:
            raise ViaError(f"{name} is larger than {MAX_VIA_BYTES // 2**20} MB; not a VIA file")
        data = path.read_bytes()
    except OSError as exc:
        raise ViaError(f"cannot read {name}: {exc.strerror or exc}") from None
    if not data:
        raise ViaError(f"{name}: empty file")
    return data


def parse_via_text(text: str, name: str) -> ViaFile:
    """Parse the text of a VIA file named ``name`` (see :func:`read_via`)."""
    head = text.lstrip()
    if not head:
        raise ViaError(f"{name}: empty file")
    if head[0] == "<":
        raise ViaError(f"{name}: not a VIA JSON file (looks like HTML/XML)")
    if head[0] not in "{[":
        first = head.splitlines()[0]
        if "region_shape_attributes" in first and "filename" in first:
            return sanitise(read_csv(head, name))
        raise ViaError(f"{name}: not a VIA JSON or CSV file")
    doc = loads(text, name)
    if not isinstance(doc, dict):
        raise ViaError(f"{name}: not a VIA JSON file (the top level is not an object)")
    if not doc:
        raise ViaError(f"{name}: no annotations found")
    if "_via_img_metadata" in doc:
        return sanitise(read_v2_project(doc, name))
    if all(isinstance(doc.get(k), dict) for k in ("project", "file", "metadata")):
        return sanitise(read_v3(doc))
    return sanitise(read_export(doc, name))


def read_via(path: str | Path) -> ViaFile:
    """Read any VIA annotation file (format detected by content).

    Parameters
    ----------
    path : str or Path
        A VIA 1.x/2.x JSON export, a 2.x or 3.x project, or a CSV export.

    Returns
    -------
    ViaFile
        Entries with usable regions; unusable regions/entries in ``skipped`` with reasons.
        Every text is valid Unicode (lone surrogates replaced by U+FFFD).

    Raises
    ------
    ViaError
        The file is empty, unreadable, not valid JSON (with line and column), not a VIA
        file, holds no annotations, or uses an unsupported text encoding.
    """
    path = Path(path)
    name = clean_text(path.name)
    data = _read_bytes(path, name)
    # A big file becomes millions of small objects (a 1,000-photo file of polygons: 1.2
    # million coordinates) and each full collection walked them all with the interpreter
    # lock held: a worker's parse froze the window for 0.2-0.3 s, seven times. Nothing the
    # parse builds is cyclic garbage, so collection waits until the parse ends.
    with gcpause.paused():
        return parse_via_text(decode(data, name), name)
