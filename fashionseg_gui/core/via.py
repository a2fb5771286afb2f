"""VGG Image Annotator (VIA) files: read every VIA variant, import into a project, export VIA 2.

Read (format detected by content, never by file name):

- VIA 1.x / 2.x "export as JSON": ``{key: {"filename", "size", "regions": [...] or {"0": ...}}}``
- VIA 2.x project: ``_via_settings``, ``_via_img_metadata``, ``_via_attributes`` (option ids -> labels)
- VIA 3.x project: ``project``, ``config``, ``attribute``, ``file``, ``view``, ``metadata`` with
  ``xy = [shape_id, coords...]``; video/audio projects give no image regions, with a note.
- VIA CSV export (header with or without ``#``; bare JS ``undefined`` in cells is read as unset).

Every region that cannot be used is listed in :attr:`ViaFile.skipped` with a reason; one bad region
never stops the rest. A whole-file problem (not JSON, not VIA, empty, undecodable) raises
:class:`ViaError` with one clear line. ``NaN``/``Infinity`` in the JSON are not accepted as numbers:
regions that hold them are skipped.

Security: file names inside a VIA file (absolute paths, ``..``, URLs, Windows paths) are reduced to
their base name, and image files are looked up only directly inside the folders the caller chose.

Export writes a VIA 2.0.10 project (``_via_settings``, ``_via_img_metadata`` keyed by
filename + size, ``_via_attributes`` with a dropdown ``class`` attribute,
``_via_data_format_version``, ``_via_image_id_list``) that VIA 2.0.x opens.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.shapes import (
    finite_number,
    number_fields,
    rasterize_detailed,
    validate_shape,
)

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

__all__ = [
    "ViaEntry",
    "ViaError",
    "ViaFile",
    "ViaImportReport",
    "ViaRegion",
    "export_via",
    "guess_class_attribute",
    "import_via",
    "read_via",
    "region_label",
    "region_labels",
]

MAX_VIA_BYTES = 512 * 1024 * 1024
_CSV_COLUMNS = (
    "filename",
    "file_size",
    "file_attributes",
    "region_count",
    "region_id",
    "region_shape_attributes",
    "region_attributes",
)
# attribute names that usually hold the class, best first (compared case-insensitively)
_CLASS_LIKE = ("class", "class_id", "class_name", "classname", "label", "category", "type", "name")
_V3_SHAPES = {
    1: "point",
    2: "rect",
    3: "circle",
    4: "ellipse",
    5: "line",
    6: "polyline",
    7: "polygon",
    8: "extreme_rect",
    9: "extreme_circle",
}
_V3_FILE_TYPES = {2: "image", 4: "video", 8: "audio"}


class ViaError(Exception):
    """A VIA file that cannot be read at all (one clear line for the user)."""


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


# --------------------------------------------------------------------------- reading


class _NonFinite:
    """Stands for a bare NaN/Infinity in the JSON so that only the regions using it are skipped."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise ViaError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ViaError(f"{what} is nested too deeply to be a VIA file") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ViaError(f"{what} is not usable JSON: {exc}") from None


def _decode(data: bytes, name: str) -> str:
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


def _coord_problem(name: str, value: Any) -> str:
    if isinstance(value, _NonFinite):
        return f"'{name}' is not finite ({value.text})"
    if value is None:
        return f"'{name}' is null"
    if isinstance(value, str):
        return f"'{name}' is text ({value[:20]!r}), not a number"
    return f"'{name}' is not a finite number"


def _xy_lists(sa: dict) -> list[list[float]] | str:
    xs, ys = sa.get("all_points_x"), sa.get("all_points_y")
    for name, arr in (("all_points_x", xs), ("all_points_y", ys)):
        if arr is None:
            return f"missing '{name}'"
        if not isinstance(arr, list):
            return f"'{name}' is not a list"
    assert isinstance(xs, list) and isinstance(ys, list)
    if len(xs) != len(ys):
        return f"all_points_x and all_points_y differ in length ({len(xs)} vs {len(ys)})"
    pts: list[list[float]] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        fx, fy = finite_number(x), finite_number(y)
        if fx is None:
            return _coord_problem(f"all_points_x[{i}]", x)
        if fy is None:
            return _coord_problem(f"all_points_y[{i}]", y)
        pts.append([_keep(x, fx), _keep(y, fy)])
    return pts


def _keep(raw: Any, value: float) -> float | int:
    """Keep integers as integers (so that shapes round-trip byte for byte)."""
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else value


def _shape_v2(sa: Any) -> dict | str:
    """VIA 1/2 ``shape_attributes`` -> our shape dict, or a reason."""
    if not isinstance(sa, dict):
        return "shape_attributes is not an object"
    if not sa:
        return "empty shape_attributes"
    name = sa.get("name")
    if not isinstance(name, str):
        return "shape has no 'name'"
    if name in ("polygon", "polyline"):
        pts = _xy_lists(sa)
        if isinstance(pts, str):
            return pts
        shape: dict = {"kind": name, "points": pts}
    elif name == "rect":
        geo = number_fields(sa, ("x", "y", "width", "height"), _coord_problem)
        if isinstance(geo, str):
            return geo
        shape = {
            "kind": "rect",
            "x": _keep(sa["x"], geo["x"]),
            "y": _keep(sa["y"], geo["y"]),
            "w": _keep(sa["width"], geo["width"]),
            "h": _keep(sa["height"], geo["height"]),
        }
    elif name == "circle":
        geo = number_fields(sa, ("cx", "cy", "r"), _coord_problem)
        if isinstance(geo, str):
            return geo
        shape = {"kind": "circle", **{k: _keep(sa[k], geo[k]) for k in ("cx", "cy", "r")}}
    elif name == "ellipse":
        geo = number_fields(sa, ("cx", "cy", "rx", "ry"), _coord_problem)
        if isinstance(geo, str):
            return geo
        shape = {"kind": "ellipse", **{k: _keep(sa[k], geo[k]) for k in ("cx", "cy", "rx", "ry")}}
        theta = sa.get("theta", 0)
        t = finite_number(theta)
        if t is None:
            return _coord_problem("theta", theta)
        shape["theta"] = _keep(theta, t)
    elif name == "point":
        geo = number_fields(sa, ("cx", "cy"), _coord_problem)
        if isinstance(geo, str):
            return geo
        shape = {"kind": "point", "x": _keep(sa["cx"], geo["cx"]), "y": _keep(sa["cy"], geo["cy"])}
    else:
        return f"unknown shape '{name[:40]}'"
    problem = validate_shape(shape)
    return problem if problem else shape


def _clean_attributes(attrs: Any) -> dict:
    if not isinstance(attrs, dict):
        return {}
    return {str(k): v for k, v in attrs.items() if v is not None}


def _regions_of(regions: Any) -> list[tuple[str, Any]] | None:
    if isinstance(regions, list):
        return [(str(i), r) for i, r in enumerate(regions)]
    if isinstance(regions, dict):
        items = list(regions.items())
        if all(k.isdigit() for k in regions):
            items.sort(key=lambda kv: int(kv[0]))
        return [(str(k), v) for k, v in items]
    return None


def _size(value: Any) -> int:
    if isinstance(value, bool):
        return -1
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return -1


def _read_entries(via: ViaFile, meta: dict) -> None:
    for key, e in meta.items():
        where = f"entry '{str(key)[:80]}'"
        if not isinstance(e, dict):
            via.skipped.append((where, f"entry is {_kind(e)}, not an object"))
            continue
        filename = e.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            via.skipped.append((where, "entry has no file name"))
            continue
        regions = _regions_of(e.get("regions", []))
        if regions is None:
            via.skipped.append((where, "'regions' is neither a list nor an object"))
            continue
        entry = ViaEntry(
            key=str(key),
            filename=filename,
            size=_size(e.get("size", -1)),
            file_attributes=_clean_attributes(e.get("file_attributes")),
        )
        for rid, r in regions:
            rwhere = f"{filename}, region {rid}"
            if not isinstance(r, dict):
                via.skipped.append((rwhere, f"region is {_kind(r)}, not an object"))
                continue
            if "shape_attributes" not in r:
                via.skipped.append((rwhere, "no shape_attributes"))
                continue
            shape = _shape_v2(r["shape_attributes"])
            if isinstance(shape, str):
                via.skipped.append((rwhere, shape))
                continue
            entry.regions.append(ViaRegion(shape, _clean_attributes(r.get("region_attributes"))))
        via.entries.append(entry)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {list: "a list", str: "text", dict: "an object"}.get(type(value), "a number")


def _options_v2(attrs: Any) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    if not isinstance(attrs, dict):
        return out
    region = attrs.get("region")
    if not isinstance(region, dict):
        return out
    for name, spec in region.items():
        if isinstance(spec, dict) and isinstance(spec.get("options"), dict):
            out[str(name)] = {
                str(k): v if isinstance(v, str) else "" for k, v in spec["options"].items()
            }
    return out


def _read_v3(doc: dict) -> ViaFile:
    via = ViaFile(version="3")
    attrs = doc.get("attribute") if isinstance(doc.get("attribute"), dict) else {}
    names: dict[str, str] = {}
    types: dict[str, int] = {}
    for aid, spec in attrs.items():
        if not isinstance(spec, dict):
            continue
        aname = spec.get("aname")
        aname = aname if isinstance(aname, str) and aname else str(aid)
        if aname in names.values():
            aname = f"{aname} ({aid})"
        names[str(aid)] = aname
        types[str(aid)] = spec.get("type") if isinstance(spec.get("type"), int) else 1
        if isinstance(spec.get("options"), dict) and spec["options"]:
            via.attribute_options[aname] = {
                str(k): v if isinstance(v, str) else "" for k, v in spec["options"].items()
            }
    files = doc.get("file") if isinstance(doc.get("file"), dict) else {}
    views = doc.get("view") if isinstance(doc.get("view"), dict) else {}
    entries: dict[str, ViaEntry] = {}
    view_entry: dict[str, ViaEntry | str] = {}
    n_media = 0
    for fid, f in files.items():
        where = f"file {fid}"
        if not isinstance(f, dict) or not isinstance(f.get("fname"), str):
            via.skipped.append((where, "file record without a name"))
            continue
        ftype = _V3_FILE_TYPES.get(f.get("type"), "unknown")  # type: ignore[arg-type]
        if ftype != "image":
            n_media += ftype in ("video", "audio")
            via.skipped.append((f"{where} '{f['fname']}'", f"{ftype} file, not an image"))
            continue
        entries[str(fid)] = ViaEntry(key=str(fid), filename=f["fname"], size=-1)
    for vid, v in views.items():
        fids = v.get("fid_list") if isinstance(v, dict) else None
        if not isinstance(fids, list) or len(fids) != 1:
            view_entry[str(vid)] = "view does not show exactly one file"
            continue
        entry = entries.get(str(fids[0]))
        view_entry[str(vid)] = entry if entry is not None else "view of a non-image file"
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    for mid, m in metadata.items():
        where = f"metadata {mid}"
        if not isinstance(m, dict):
            via.skipped.append((where, "not an object"))
            continue
        xy, z = m.get("xy"), m.get("z")
        has_z = isinstance(z, list) and len(z) > 0
        has_xy = isinstance(xy, list) and len(xy) > 0
        target = view_entry.get(str(m.get("vid")), "metadata of an unknown view")
        av = _v3_values(m.get("av"), names, types)
        if not has_xy and has_z:
            via.skipped.append((where, "temporal segment (video/audio), no spatial region"))
            continue
        if isinstance(target, str):
            via.skipped.append((where, target))
            continue
        if not has_xy:
            target.file_attributes.update(av)
            continue
        if has_z:
            via.skipped.append((where, "region on a video frame, not an image region"))
            continue
        shape = _shape_v3(xy)
        if isinstance(shape, str):
            via.skipped.append((f"{target.filename}, {where}", shape))
            continue
        target.regions.append(ViaRegion(shape, av))
    via.entries = list(entries.values())
    if not via.entries and n_media:
        via.notes.append("no image regions (video/audio project)")
    return via


def _v3_values(av: Any, names: dict[str, str], types: dict[str, int]) -> dict:
    out: dict = {}
    if not isinstance(av, dict):
        return out
    for aid, value in av.items():
        name = names.get(str(aid), str(aid))
        if value is None:
            continue
        if types.get(str(aid)) == 2 and isinstance(value, str):  # checkbox: "k1,k2"
            keys = [k for k in value.split(",") if k != ""]
            out[name] = dict.fromkeys(keys, True)
        else:
            out[name] = value
    return out


def _shape_v3(xy: list) -> dict | str:
    sid = xy[0]
    if isinstance(sid, bool) or not isinstance(sid, int) or sid not in _V3_SHAPES:
        return f"unknown VIA 3 shape id {sid!r}"
    kind = _V3_SHAPES[sid]
    vals: list[float] = []
    for i, v in enumerate(xy[1:]):
        f = finite_number(v)
        if f is None:
            return _coord_problem(f"xy[{i + 1}]", v)
        vals.append(_keep(v, f))
    need = {"point": 2, "rect": 4, "circle": 3, "ellipse": 4, "line": 4, "extreme_rect": 8}
    if kind in need and len(vals) != need[kind]:
        return f"{kind} needs {need[kind]} numbers in xy, got {len(vals)}"
    if kind == "extreme_circle" and len(vals) != 6:
        return f"extreme circle needs 6 numbers in xy, got {len(vals)}"
    if kind in ("polygon", "polyline") and len(vals) % 2:
        return f"{kind} has an odd number of coordinates ({len(vals)})"
    if kind == "point":
        shape: dict = {"kind": "point", "x": vals[0], "y": vals[1]}
    elif kind == "rect":
        shape = {"kind": "rect", "x": vals[0], "y": vals[1], "w": vals[2], "h": vals[3]}
    elif kind == "circle":
        shape = {"kind": "circle", "cx": vals[0], "cy": vals[1], "r": vals[2]}
    elif kind == "ellipse":
        shape = {
            "kind": "ellipse",
            "cx": vals[0],
            "cy": vals[1],
            "rx": vals[2],
            "ry": vals[3],
            "theta": 0,
        }
    elif kind in ("line", "polyline", "polygon"):
        pts = [[vals[i], vals[i + 1]] for i in range(0, len(vals), 2)]
        shape = {"kind": "polygon" if kind == "polygon" else "polyline", "points": pts}
    elif kind == "extreme_rect":
        xs, ys = vals[0::2], vals[1::2]
        shape = {
            "kind": "rect",
            "x": min(xs),
            "y": min(ys),
            "w": max(xs) - min(xs),
            "h": max(ys) - min(ys),
        }
    else:
        circle = _circle_through(vals)
        if circle is None:
            return "extreme circle: the three points lie on one line"
        shape = {"kind": "circle", "cx": circle[0], "cy": circle[1], "r": circle[2]}
    problem = validate_shape(shape)
    return problem if problem else shape


def _circle_through(v: list[float]) -> tuple[float, float, float] | None:
    (ax, ay, bx, by, cx, cy) = v
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if d == 0 or not math.isfinite(d):
        return None
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    r = math.hypot(ax - ux, ay - uy)
    if not all(math.isfinite(t) for t in (ux, uy, r)):
        return None
    return ux, uy, r


_UNDEFINED = re.compile(r'"(?:[^"\\]|\\.)*"|\bundefined\b')


def _csv_json(cell: str) -> tuple[Any, int]:
    """Parse a JSON cell of a VIA CSV; bare ``undefined`` (outside strings) reads as null."""
    count = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal count
        if m.group(0) == "undefined":
            count += 1
            return "null"
        return m.group(0)

    text = _UNDEFINED.sub(fix, cell) if "undefined" in cell else cell
    return json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float), count


def _read_csv(text: str, name: str) -> ViaFile:
    via = ViaFile(version="csv")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ViaError(f"{name} is not a readable CSV file: {exc}") from None
    header = [h.strip().lstrip("#").strip() for h in rows[0]]
    if not all(c in header for c in _CSV_COLUMNS):
        missing = ", ".join(c for c in _CSV_COLUMNS if c not in header)
        raise ViaError(f"{name} is not a VIA CSV export (missing columns: {missing})")
    col = {c: header.index(c) for c in _CSV_COLUMNS}
    entries: dict[str, ViaEntry] = {}
    undefined = 0
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"row {n}"
        if len(row) < len(header):
            via.skipped.append((where, f"has {len(row)} columns, expected {len(header)}"))
            continue
        filename = row[col["filename"]]
        if not filename.strip():
            via.skipped.append((where, "no file name"))
            continue
        size = _size(row[col["file_size"]])
        key = f"{filename}{size}"
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = ViaEntry(key=key, filename=filename, size=size)
            try:
                fa, u = _csv_json(row[col["file_attributes"]] or "{}")
                undefined += u
                entry.file_attributes = _clean_attributes(fa)
            except (ValueError, RecursionError):
                via.notes.append(f"{where}: file_attributes is not valid JSON, ignored")
        count = _size(row[col["region_count"]])
        shape_cell = row[col["region_shape_attributes"]].strip()
        if count == 0 and shape_cell in ("", "{}"):
            continue
        rwhere = f"{filename}, region {row[col['region_id']]}"
        try:
            sa, u = _csv_json(shape_cell)
            undefined += u
        except (ValueError, RecursionError):
            via.skipped.append((rwhere, "region_shape_attributes is not valid JSON"))
            continue
        shape = _shape_v2(sa)
        if isinstance(shape, str):
            via.skipped.append((rwhere, shape))
            continue
        try:
            ra, u = _csv_json(row[col["region_attributes"]] or "{}")
            undefined += u
        except (ValueError, RecursionError):
            via.notes.append(f"{rwhere}: region_attributes is not valid JSON, read as empty")
            ra = {}
        entry.regions.append(ViaRegion(shape, _clean_attributes(ra)))
    via.entries = list(entries.values())
    if undefined:
        via.notes.append(f"{undefined} attribute value(s) were `undefined`, read as unset")
    return via


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

    Raises
    ------
    ViaError
        The file is empty, unreadable, not valid JSON (with line and column), not a VIA
        file, holds no annotations, or uses an unsupported text encoding.
    """
    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_VIA_BYTES:
            raise ViaError(f"{name} is larger than {MAX_VIA_BYTES // 2**20} MB; not a VIA file")
        data = path.read_bytes()
    except OSError as exc:
        raise ViaError(f"cannot read {name}: {exc.strerror or exc}") from None
    if not data:
        raise ViaError(f"{name}: empty file")
    text = _decode(data, name)
    head = text.lstrip()
    if not head:
        raise ViaError(f"{name}: empty file")
    if head[0] == "<":
        raise ViaError(f"{name}: not a VIA JSON file (looks like HTML/XML)")
    if head[0] not in "{[":
        first = head.splitlines()[0]
        if "region_shape_attributes" in first and "filename" in first:
            return _read_csv(head, name)
        raise ViaError(f"{name}: not a VIA JSON or CSV file")
    doc = _loads(text, name)
    if not isinstance(doc, dict):
        raise ViaError(f"{name}: not a VIA JSON file (the top level is not an object)")
    if not doc:
        raise ViaError(f"{name}: no annotations found")
    if "_via_img_metadata" in doc:
        meta = doc["_via_img_metadata"]
        if not isinstance(meta, dict):
            raise ViaError(f"{name}: not a VIA project (_via_img_metadata is not an object)")
        via = ViaFile(
            version="2-project", attribute_options=_options_v2(doc.get("_via_attributes"))
        )
        _read_entries(via, meta)
        return via
    if all(isinstance(doc.get(k), dict) for k in ("project", "file", "metadata")):
        return _read_v3(doc)
    if not any(isinstance(v, dict) and ("filename" in v or "regions" in v) for v in doc.values()):
        raise ViaError(f"{name}: not a VIA JSON file (no image entries found)")
    v1 = any(
        isinstance(v, dict)
        and ("fileref" in v or "base64_img_data" in v or isinstance(v.get("regions"), dict))
        for v in doc.values()
    )
    via = ViaFile(version="1" if v1 else "2")
    _read_entries(via, doc)
    return via


# --------------------------------------------------------------------------- labels


def region_label(via: ViaFile, region: ViaRegion, attribute: str) -> tuple[str | None, str | None]:
    """The class label of one region for ``attribute``.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(label, None)`` or ``(None, reason)``. Option ids are turned into their labels (an
        empty label falls back to the id); stray spaces are stripped; a checkbox dict gives its
        one true key (several true keys -> no label, ambiguous).
    """
    value = region.attributes.get(attribute)
    options = via.attribute_options.get(attribute, {})

    def label_of(raw: str) -> str:
        if raw in options:
            return (options[raw] or raw).strip()
        stripped = raw.strip()
        for k, v in options.items():
            if k.strip() == stripped:
                return (v or k).strip()
        return stripped

    if value is None:
        return None, f"no '{attribute}' label"
    if isinstance(value, dict):
        keys = [str(k) for k, v in value.items() if v is True or v == "true"]
        labels = sorted({label_of(k) for k in keys} - {""})
        if not labels:
            return None, f"no '{attribute}' label (no checkbox ticked)"
        if len(labels) > 1:
            return None, f"several '{attribute}' labels ({', '.join(labels)})"
        return labels[0], None
    if isinstance(value, bool) or isinstance(value, list | _NonFinite):
        return None, f"'{attribute}' label is not text"
    if isinstance(value, int | float):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        return None, f"'{attribute}' label is not text"
    label = label_of(value)
    if not label:
        return None, f"empty '{attribute}' label"
    return label, None


def region_labels(via: ViaFile, attribute: str) -> Counter:
    """Count the labels used in ``attribute`` over all regions (see :func:`region_label`).

    A checkbox dict with several ticked keys counts each of them.
    """
    out: Counter = Counter()
    for entry in via.entries:
        for region in entry.regions:
            label, _ = region_label(via, region, attribute)
            if label is not None:
                out[label] += 1
                continue
            value = region.attributes.get(attribute)
            if isinstance(value, dict):
                for k, v in value.items():
                    if v is True:
                        opts = via.attribute_options.get(attribute, {})
                        name = (opts.get(str(k)) or str(k)).strip()
                        if name:
                            out[name] += 1
    return out


def _attribute_names(via: ViaFile) -> list[str]:
    names: dict[str, None] = dict.fromkeys(via.attribute_options)
    for entry in via.entries:
        for region in entry.regions:
            names.update(dict.fromkeys(region.attributes))
    return list(names)


def guess_class_attribute(via: ViaFile, class_names: list[str]) -> str | None:
    """Guess which region attribute holds the class.

    The attribute whose labels match the most ``class_names`` (case-insensitive) wins; without
    any match, a class-like name (class, label, category, type, name, ...) is preferred, then
    the attribute set on the most regions with the fewest distinct values.

    Returns
    -------
    str or None
        The attribute name, or None when no region carries a text label.
    """
    known = {n.strip().casefold() for n in class_names}
    scored = []
    for name in _attribute_names(via):
        labels = region_labels(via, name)
        total = sum(labels.values())
        if not total:
            continue
        matched = sum(c for lab, c in labels.items() if lab.casefold() in known)
        lower = name.strip().casefold()
        rank = _CLASS_LIKE.index(lower) if lower in _CLASS_LIKE else len(_CLASS_LIKE)
        scored.append((matched, -rank, total, -len(labels), name))
    if not scored:
        return None
    best = max(scored, key=lambda t: t[:4])
    return best[4]


# --------------------------------------------------------------------------- import


@dataclass
class ViaImportReport:
    """What :func:`import_via` did.

    ``matched`` maps a VIA entry key to the project image id it was attached to; ``unmatched``
    lists ``"<entry>: <reason>"``; ``regions_skipped`` holds ``(where, reason)`` (those of
    :func:`read_via` included); ``unknown_labels`` counts labels that were not project classes;
    ``overlaps`` counts regions drawn over an earlier region; ``notes`` holds other remarks
    (empty after clipping, self-intersecting, no area, classes created, EXIF frame).
    """

    matched: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    regions_imported: int = 0
    regions_skipped: list[tuple[str, str]] = field(default_factory=list)
    unknown_labels: Counter = field(default_factory=Counter)
    overlaps: int = 0
    attribute: str | None = None
    images_added: list[str] = field(default_factory=list)
    classes_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as short lines for a dialog or the console."""
        out = [
            f"class attribute: {self.attribute!r}" if self.attribute else "class attribute: none",
            f"{len(self.matched)} entries matched to images, {len(self.unmatched)} not matched",
            f"{self.regions_imported} regions imported, {len(self.regions_skipped)} skipped",
        ]
        if self.images_added:
            out.append(f"{len(self.images_added)} images imported from disk")
        if self.classes_created:
            out.append("new classes: " + ", ".join(self.classes_created))
        if self.unknown_labels:
            out.append(
                "labels not in the project: "
                + ", ".join(f"{k} ({v})" for k, v in self.unknown_labels.most_common())
            )
        if self.overlaps:
            out.append(f"{self.overlaps} regions overlap earlier regions (later regions win)")
        out += [f"not matched: {u}" for u in self.unmatched]
        out += [f"skipped {w}: {r}" for w, r in self.regions_skipped]
        out += self.notes
        return out


def _base_name(filename: str) -> str:
    """The last component of a path, Windows path or URL (never a directory part)."""
    name = filename.strip()
    if "://" in name:
        name = name.split("://", 1)[1]
        name = re.split(r"[?#]", name, maxsplit=1)[0]
    name = re.split(r"[\\/]", name)[-1]
    name = unicodedata.normalize("NFC", name)
    return "" if name in (".", "..") else name


def _pick(cands: list[Any], size: int, size_of: Any) -> tuple[Any | None, str | None]:
    """Choose one candidate: by size when known; several left -> ambiguous."""
    if not cands:
        return None, None
    if size > 0:
        same = [c for c in cands if size_of(c) == size]
        if len(same) == 1:
            return same[0], None
        if len(same) > 1:
            cands = same
    if len(cands) == 1:
        return cands[0], None
    return None, f"ambiguous: {len(cands)} images with this name"


def _match(
    names: list[tuple[Any, str]], base: str, size: int, size_of: Any
) -> tuple[Any | None, str | None]:
    exact = [c for c, n in names if n == base]
    found, why = _pick(exact, size, size_of)
    if found is not None or why:
        return found, why
    folded = base.casefold()
    return _pick([c for c, n in names if n.casefold() == folded], size, size_of)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -2


def import_via(
    project: Project,
    path: str | Path,
    attribute: str | None = None,
    label_map: dict[str, int | None] | None = None,
    image_dirs: list[Path] | None = None,
    create_unknown_classes: bool = True,
    background_rest: bool = False,
    unlabelled_class: int | None = None,
) -> ViaImportReport:
    """Import a VIA file into a project: masks (rasterised) and shapes per image.

    Parameters
    ----------
    project : Project
        A writable project.
    path : str or Path
        The VIA file (any variant :func:`read_via` reads).
    attribute : str or None
        Region attribute holding the class; guessed with :func:`guess_class_attribute` if None.
    label_map : dict or None
        Label -> class id, or -> None to skip regions with that label. Takes precedence over
        class names.
    image_dirs : list of Path or None
        Folders searched (not recursively, by base name only) for entries that match no project
        image; found files are imported with ``project.add_image_file``. Default: the VIA file's
        folder. Pass ``[]`` to import nothing from disk.
    create_unknown_classes : bool
        Labels that are not class names become new classes; otherwise those regions are skipped.
    background_rest : bool
        Pixels of a newly labelled image that no region covers become class 0 instead of 255.
    unlabelled_class : int or None
        Class id given to regions that carry no label (e.g. files whose regions have no
        attributes at all); None skips them with a reason.

    Returns
    -------
    ViaImportReport
        Matches, skips with reasons, unknown labels, overlaps and notes.

    Raises
    ------
    ViaError
        The file cannot be read at all (nothing in the project is changed).
    ReadOnlyError
        The project is read-only (checked before anything is read).

    Notes
    -----
    Entries are matched by NFC-normalised base name + file size (when the VIA size is > 0),
    then case-insensitively; twins that cannot be told apart are not matched. Regions are drawn
    in file order over the image's existing mask and appended to its existing shapes. A region
    without a label is skipped, never given class 0.
    """
    from fashionseg_gui.core.project import ReadOnlyError

    if project.read_only:
        raise ReadOnlyError(f"project is read-only: {project.read_only_reason}")
    if unlabelled_class is not None and not 0 <= unlabelled_class < len(project.classes):
        raise ViaError(f"no class with id {unlabelled_class} for unlabelled regions")
    via = read_via(path)
    path = Path(path)
    report = ViaImportReport(regions_skipped=list(via.skipped))
    report.notes += via.notes
    attribute = attribute or guess_class_attribute(via, [c.name for c in project.classes])
    report.attribute = attribute
    dirs = [Path(path).parent] if image_dirs is None else [Path(d) for d in image_dirs]

    proj_names = [
        (rid, unicodedata.normalize("NFC", rec.original_name))
        for rid, rec in project.images.items()
    ]

    def proj_size(rid: str) -> int:
        return _file_size(project.image_path(rid))

    disk: list[tuple[Path, str]] = []
    for d in dirs:
        try:
            disk += [
                (p, unicodedata.normalize("NFC", p.name))
                for p in sorted(d.iterdir())
                if p.is_file()
            ]
        except OSError:
            report.notes.append(f"image folder {d} cannot be read")

    with project.batch():  # one save of project.json for the whole import
        per_image: dict[str, list[tuple[str, ViaRegion]]] = {}
        added: list[str] = []
        for entry in via.entries:
            base = _base_name(entry.filename)
            label = f"{entry.filename}"
            if not base:
                report.unmatched.append(f"{label}: no usable file name")
                continue
            rid, why = _match(proj_names, base, entry.size, proj_size)
            if rid is None and why is None:
                found, why = _match(disk, base, entry.size, _file_size)
                if found is not None:
                    outcome = project.add_image_file(found, source=f"VIA {path.name}")
                    if outcome.image_id:
                        rid = outcome.image_id
                        added.append(rid)
                        proj_names.append(
                            (rid, unicodedata.normalize("NFC", project.images[rid].original_name))
                        )
                    elif outcome.duplicate_of:
                        rid = outcome.duplicate_of
                    else:
                        why = outcome.error or "image could not be imported"
            if rid is None:
                report.unmatched.append(f"{label}: {why or 'no image with this name'}")
                continue
            report.matched[entry.key] = rid
            bucket = per_image.setdefault(rid, [])
            for k, region in enumerate(entry.regions):
                bucket.append((f"{entry.filename}, region {k}", region))
        if added:
            project.save()
            report.images_added = added
            project.events.images_changed.emit(added)

        class_cache: dict[str, int | None] = {}
        for rid, items in per_image.items():
            rec = project.images[rid]
            new_shapes: list[dict] = []
            wheres: list[str] = []
            for where, region in items:
                problem = validate_shape(region.shape, rec.width, rec.height)
                if problem:
                    report.regions_skipped.append((where, problem))
                    continue
                if attribute is None:
                    label, why = None, "no class attribute in this file"
                else:
                    label, why = region_label(via, region, attribute)
                if label is None:
                    if unlabelled_class is None:
                        report.regions_skipped.append((where, why or "no label"))
                        continue
                    cid: int | str = unlabelled_class
                else:
                    cid = _class_for(
                        project, label, label_map, create_unknown_classes, report, class_cache
                    )
                if isinstance(cid, str):
                    report.regions_skipped.append((where, cid))
                    continue
                new_shapes.append({**region.shape, "class_id": cid})
                wheres.append(where)
            if not new_shapes:
                continue
            _check_frame(new_shapes, rec.width, rec.height, rec.original_name, report)
            had_mask = project.has_mask(rid)
            base_mask = project.read_mask(rid) if had_mask else None
            if base_mask is None and background_rest:
                base_mask = np.zeros((rec.height, rec.width), np.uint8)
            result = rasterize_detailed(new_shapes, rec.height, rec.width, base=base_mask)
            report.overlaps += result.overlaps
            for i in result.empty:
                report.notes.append(
                    f"{wheres[i]}: empty after clipping to the {rec.width}x{rec.height} image"
                )
            for i in result.self_intersecting:
                report.notes.append(
                    f"{wheres[i]}: self-intersecting polygon, filled with the even-odd rule"
                )
            for i in result.no_area:
                report.notes.append(
                    f"{wheres[i]}: {new_shapes[i]['kind']} has no area, kept but not drawn"
                )
            project.write_shapes(rid, project.read_shapes(rid) + new_shapes)
            report.regions_imported += len(new_shapes)
            if result.drawn or had_mask:
                project.write_mask(rid, result.mask, status="labelled")
    return report


def _class_for(
    project: Project,
    label: str,
    label_map: dict[str, int | None] | None,
    create: bool,
    report: ViaImportReport,
    cache: dict[str, int | None],
) -> int | str:
    from fashionseg_gui.core.project import ProjectError

    if label_map is not None and label in label_map:
        cid = label_map[label]
        if cid is None:
            return f"label '{label}' is mapped to nothing"
        if not 0 <= cid < len(project.classes):
            return f"label '{label}' is mapped to unknown class id {cid}"
        return cid
    if label in cache:
        if label in report.unknown_labels:
            report.unknown_labels[label] += 1
        cid = cache[label]
        return f"unknown label '{label}'" if cid is None else cid
    info = project.class_by_name(label)
    if info is not None:
        if info.name != label:
            report.notes.append(f"label '{label}' taken as class '{info.name}'")
        cache[label] = info.id
        return info.id
    report.unknown_labels[label] += 1
    if not create:
        cache[label] = None
        return f"unknown label '{label}'"
    try:
        info = project.add_class(label)
    except ProjectError as exc:
        return f"label '{label}': {exc}"
    report.classes_created.append(info.name)
    cache[label] = info.id
    return info.id


def _check_frame(
    shapes: list[dict], width: int, height: int, name: str, report: ViaImportReport
) -> None:
    """Warn when the regions fit only the un-rotated (EXIF raw) frame of the image."""
    from fashionseg_gui.core.shapes import shape_bbox

    if width == height:
        return
    boxes = [b for b in (shape_bbox(s) for s in shapes) if b is not None]
    if not boxes:
        return
    x1 = max(b[2] for b in boxes)
    y1 = max(b[3] for b in boxes)
    if (x1 > width or y1 > height) and x1 <= height and y1 <= width:
        report.notes.append(
            f"{name}: regions fit the {height}x{width} frame but not the upright {width}x{height} "
            "image; check the EXIF orientation of the file VIA saw"
        )


# --------------------------------------------------------------------------- export


def _via_shape(shape: dict) -> dict | None:
    kind = shape.get("kind")
    if kind in ("polygon", "polyline"):
        pts = shape.get("points") or []
        return {
            "name": kind,
            "all_points_x": [p[0] for p in pts],
            "all_points_y": [p[1] for p in pts],
        }
    if kind == "rect":
        return {
            "name": "rect",
            "x": shape["x"],
            "y": shape["y"],
            "width": shape["w"],
            "height": shape["h"],
        }
    if kind == "circle":
        return {"name": "circle", "cx": shape["cx"], "cy": shape["cy"], "r": shape["r"]}
    if kind == "ellipse":
        out = {
            "name": "ellipse",
            "cx": shape["cx"],
            "cy": shape["cy"],
            "rx": shape["rx"],
            "ry": shape["ry"],
        }
        out["theta"] = shape.get("theta", 0)
        return out
    if kind == "point":
        return {"name": "point", "cx": shape["x"], "cy": shape["y"]}
    return None


def mask_to_shapes(mask: np.ndarray, ignore_value: int = 255) -> list[dict]:
    """Polygons (``cv2.findContours``) for every class region of a label mask.

    Only outer contours are kept; a region of another class inside a hole is its own polygon,
    listed after the larger one that surrounds it (polygons are sorted by area, largest first),
    so drawing them in order rebuilds the mask. An unlabelled hole is filled by the surrounding
    class (VIA has no holes).
    """
    import cv2

    polys: list[tuple[float, dict]] = []
    for value in np.unique(mask):
        if int(value) == ignore_value:
            continue
        binary = (mask == value).astype(np.uint8)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            pts = c.reshape(-1, 2)
            if len(pts) < 3:  # a 1- or 2-pixel blob: its contour is a line; outline it as a box
                shape = _bounding_rect(pts)
                area = float(shape["w"] * shape["h"])
            else:
                shape = {"kind": "polygon", "points": pts.astype(int).tolist()}
                area = float(cv2.contourArea(c)) + len(pts)  # outline pixels count too
                if validate_shape(shape) is not None:  # a straight line of pixels
                    shape = _bounding_rect(pts)
            shape["class_id"] = int(value)
            polys.append((area, shape))
    polys.sort(key=lambda t: -t[0])
    return [s for _, s in polys]


def _bounding_rect(pts: np.ndarray) -> dict:
    """The rect shape covering every pixel of ``pts`` (an (N, 2) array of x, y)."""
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return {"kind": "rect", "x": int(x0), "y": int(y0), "w": int(x1 - x0 + 1),
            "h": int(y1 - y0 + 1)}


def export_via(project: Project, out_path: str | Path, ids: list[str] | None = None) -> list[str]:
    """Write a VIA 2.0.10 project file for (some of) the project's images.

    Parameters
    ----------
    project : Project
        The project.
    out_path : str or Path
        Destination ``.json`` (written atomically).
    ids : list of str or None
        Image ids to export (default: all images, in project order).

    Returns
    -------
    list of str
        Notes: images whose mask could not be turned into polygons exactly, shapes that were
        left out (unknown class), renamed duplicate file names.

    Notes
    -----
    Regions come from ``shapes/<id>.json``; an image with a mask but no shapes gets polygons
    from the mask (:func:`mask_to_shapes`: outer contours only, holes are not separate regions).
    The file name is the original file name; the key is filename + size, where size is the
    stored file's byte size when it holds the original bytes, else -1. The class goes into a
    dropdown region attribute ``class`` whose option ids are the class names.
    """
    out_path = Path(out_path)
    ids = list(project.images) if ids is None else list(ids)
    notes: list[str] = []
    names = {c.id: c.name for c in project.classes}
    meta: dict[str, dict] = {}
    for image_id in ids:
        rec = project.images.get(image_id)
        if rec is None:
            notes.append(f"{image_id}: no such image, left out")
            continue
        shapes = project.read_shapes(image_id)
        if not shapes and project.has_mask(image_id):
            mask = project.read_mask(image_id)
            shapes = mask_to_shapes(mask)
            if shapes:
                from fashionseg_gui.core.shapes import rasterize

                back, _ = rasterize(shapes, rec.height, rec.width)
                diff = int((back != mask).sum())
                if diff:
                    notes.append(
                        f"{rec.original_name}: {diff} mask pixels differ after conversion to polygons"
                    )
        regions = []
        for k, shape in enumerate(shapes):
            sa = _via_shape(shape) if isinstance(shape, dict) else None
            cid = shape.get("class_id") if isinstance(shape, dict) else None
            if sa is None or cid not in names:
                notes.append(f"{rec.original_name}: shape {k + 1} left out (unknown kind or class)")
                continue
            regions.append({"shape_attributes": sa, "region_attributes": {"class": names[cid]}})
        filename = rec.original_name or rec.file
        size = _original_size(project, image_id)
        key = f"{filename}{size}"
        if key in meta:
            filename = rec.file
            key = f"{filename}{size}"
            notes.append(
                f"{rec.original_name}: name and size shared with another image, exported as {filename}"
            )
        meta[key] = {"filename": filename, "size": size, "regions": regions, "file_attributes": {}}
    doc = {
        "_via_settings": _via_settings(project.name),
        "_via_img_metadata": meta,
        "_via_attributes": {
            "region": {
                "class": {
                    "type": "dropdown",
                    "description": "class",
                    "options": {c.name: c.name for c in project.classes},
                    "default_options": {},
                }
            },
            "file": {},
        },
        "_via_data_format_version": "2.0.10",
        "_via_image_id_list": list(meta),
    }
    atomic_write_json(out_path, doc)
    return notes


def _original_size(project: Project, image_id: str) -> int:
    rec = project.images[image_id]
    path = project.image_path(image_id)
    try:
        data = path.read_bytes()
    except OSError:
        return -1
    return len(data) if hashlib.sha256(data).hexdigest() == rec.sha256 else -1


def _via_settings(name: str) -> dict:
    return {
        "ui": {
            "annotation_editor_height": 25,
            "annotation_editor_fontsize": 0.8,
            "leftsidebar_width": 18,
            "image_grid": {
                "img_height": 80,
                "rshape_fill": "none",
                "rshape_fill_opacity": 0.3,
                "rshape_stroke": "yellow",
                "rshape_stroke_width": 2,
                "show_region_shape": True,
                "show_image_policy": "all",
            },
            "image": {
                "region_label": "class",
                "region_color": "class",
                "region_label_font": "10px Sans",
                "on_image_annotation_editor_placement": "NEAR_REGION",
            },
        },
        "core": {"buffer_size": 18, "filepath": {}, "default_filepath": ""},
        "project": {"name": name},
    }
