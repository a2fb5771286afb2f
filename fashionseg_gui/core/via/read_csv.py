"""The VIA CSV export: one row per region (header with or without ``#``).

Cells hold JSON; a bare JavaScript ``undefined`` (written by some VIA versions) reads as unset.
"""

from __future__ import annotations

import csv
import io

from fashionseg_gui.core.cancel import let_others_run
from fashionseg_gui.core.via.jsontext import csv_json
from fashionseg_gui.core.via.model import ShapeProblem, ViaEntry, ViaError, ViaFile, ViaRegion
from fashionseg_gui.core.via.read_json import clean_attributes, file_size
from fashionseg_gui.core.via.regions import shape_v2

CSV_COLUMNS = (
    "filename",
    "file_size",
    "file_attributes",
    "region_count",
    "region_id",
    "region_shape_attributes",
    "region_attributes",
)


class _CsvReader:
    """State of one CSV read: the entries so far and the ``undefined`` count."""

    def __init__(self, via: ViaFile, col: dict[str, int], width: int) -> None:
        self.via = via
        self.col = col
        self.width = width
        self.entries: dict[str, ViaEntry] = {}
        self.undefined = 0

    def json_cell(self, cell: str) -> object:
        value, count = csv_json(cell)
        self.undefined += count
        return value

    def entry_for(self, row: list[str], where: str) -> ViaEntry:
        filename = row[self.col["filename"]]
        size = file_size(row[self.col["file_size"]])
        key = f"{filename}{size}"
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = ViaEntry(key=key, filename=filename, size=size)
            try:
                entry.file_attributes = clean_attributes(
                    self.json_cell(row[self.col["file_attributes"]] or "{}")
                )
            except (ValueError, RecursionError):
                self.via.notes.append(f"{where}: file_attributes is not valid JSON, ignored")
        return entry

    def row(self, n: int, row: list[str]) -> None:
        if not row or all(not c.strip() for c in row):
            return
        where = f"row {n}"
        if len(row) < self.width:
            self.via.skipped.append((where, f"has {len(row)} columns, expected {self.width}"))
            return
        filename = row[self.col["filename"]]
        if not filename.strip():
            self.via.skipped.append((where, "no file name"))
            return
        entry = self.entry_for(row, where)
        count = file_size(row[self.col["region_count"]])
        shape_cell = row[self.col["region_shape_attributes"]].strip()
        if count == 0 and shape_cell in ("", "{}"):
            return
        rwhere = f"{filename}, region {row[self.col['region_id']]}"
        try:
            sa = self.json_cell(shape_cell)
        except (ValueError, RecursionError):
            self.via.skipped.append((rwhere, "region_shape_attributes is not valid JSON"))
            return
        try:
            shape = shape_v2(sa)
        except ShapeProblem as exc:
            self.via.skipped.append((rwhere, str(exc)))
            return
        try:
            ra = self.json_cell(row[self.col["region_attributes"]] or "{}")
        except (ValueError, RecursionError):
            self.via.notes.append(f"{rwhere}: region_attributes is not valid JSON, read as empty")
            ra = {}
        entry.regions.append(ViaRegion(shape, clean_attributes(ra)))


def read_csv(text: str, name: str) -> ViaFile:
    """A VIA CSV export (its text) -> :class:`ViaFile` (version ``"csv"``)."""
    via = ViaFile(version="csv")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ViaError(f"{name} is not a readable CSV file: {exc}") from None
    header = [h.strip().lstrip("#").strip() for h in rows[0]]
    if not all(c in header for c in CSV_COLUMNS):
        missing = ", ".join(c for c in CSV_COLUMNS if c not in header)
        raise ViaError(f"{name} is not a VIA CSV export (missing columns: {missing})")
    reader = _CsvReader(via, {c: header.index(c) for c in CSV_COLUMNS}, len(header))
    for n, row in enumerate(rows[1:], start=2):
        let_others_run()  # a worker's parse must not freeze the window
        reader.row(n, row)
    via.entries = list(reader.entries.values())
    if reader.undefined:
        via.notes.append(f"{reader.undefined} attribute value(s) were `undefined`, read as unset")
    return via
