"""VIA 1.x / 2.x "export as JSON" and VIA 2.x project files.

Export: ``{key: {"filename", "size", "regions": [...] or {"0": ...}}}``; project: the same
entries under ``_via_img_metadata`` plus ``_via_attributes`` (option ids -> labels).
"""

from __future__ import annotations

from typing import Any

from fashionseg_gui.core.cancel import let_others_run
from fashionseg_gui.core.via.model import ShapeProblem, ViaEntry, ViaError, ViaFile, ViaRegion
from fashionseg_gui.core.via.regions import shape_v2


def clean_attributes(attrs: Any) -> dict:
    """Region/file attributes as a dict with text keys; unset (null) values dropped."""
    if not isinstance(attrs, dict):
        return {}
    return {str(k): v for k, v in attrs.items() if v is not None}


def file_size(value: Any) -> int:
    """A VIA ``size`` field as an int; -1 when it is not a whole number."""
    if isinstance(value, bool):
        return -1
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return -1


def kind_of(value: Any) -> str:
    """ "null", "a list", "text", "an object" or "a number" (for messages)."""
    if value is None:
        return "null"
    names: dict[type, str] = {list: "a list", str: "text", dict: "an object"}
    return names.get(type(value), "a number")


def _regions_of(regions: Any) -> list[tuple[str, Any]] | None:
    if isinstance(regions, list):
        return [(str(i), r) for i, r in enumerate(regions)]
    if isinstance(regions, dict):
        items = list(regions.items())
        if all(k.isdigit() for k in regions):
            items.sort(key=lambda kv: int(kv[0]))
        return [(str(k), v) for k, v in items]
    return None


def _read_entry(via: ViaFile, key: Any, e: Any) -> ViaEntry | None:
    where = f"entry '{str(key)[:80]}'"
    if not isinstance(e, dict):
        via.skipped.append((where, f"entry is {kind_of(e)}, not an object"))
        return None
    filename = e.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        via.skipped.append((where, "entry has no file name"))
        return None
    regions = _regions_of(e.get("regions", []))
    if regions is None:
        via.skipped.append((where, "'regions' is neither a list nor an object"))
        return None
    entry = ViaEntry(
        key=str(key),
        filename=filename,
        size=file_size(e.get("size", -1)),
        file_attributes=clean_attributes(e.get("file_attributes")),
    )
    for rid, r in regions:
        rwhere = f"{filename}, region {rid}"
        if not isinstance(r, dict):
            via.skipped.append((rwhere, f"region is {kind_of(r)}, not an object"))
            continue
        if "shape_attributes" not in r:
            via.skipped.append((rwhere, "no shape_attributes"))
            continue
        try:
            shape = shape_v2(r["shape_attributes"])
        except ShapeProblem as exc:
            via.skipped.append((rwhere, str(exc)))
            continue
        entry.regions.append(ViaRegion(shape, clean_attributes(r.get("region_attributes"))))
    return entry


def read_entries(via: ViaFile, meta: dict) -> None:
    """Append the entries of a VIA 1/2 image-metadata object to ``via``.

    ``meta`` is consumed: each value is dropped once read, so the parsed JSON is freed entry
    by entry. Freed at once at the end, a 1,000-photo file's JSON held the interpreter lock
    (and froze the window, the parse being on a worker) for 0.12 s.
    """
    for key in list(meta):
        let_others_run()  # a worker's parse must not freeze the window
        entry = _read_entry(via, key, meta[key])
        meta[key] = None
        if entry is not None:
            via.entries.append(entry)


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


def read_v2_project(doc: dict, name: str) -> ViaFile:
    """A VIA 2.x project (``_via_img_metadata``, ``_via_attributes``)."""
    meta = doc["_via_img_metadata"]
    if not isinstance(meta, dict):
        raise ViaError(f"{name}: not a VIA project (_via_img_metadata is not an object)")
    via = ViaFile(version="2-project", attribute_options=_options_v2(doc.get("_via_attributes")))
    read_entries(via, meta)
    return via


def read_export(doc: dict, name: str) -> ViaFile:
    """A VIA 1.x or 2.x "export as JSON" file (entries at the top level)."""
    if not any(isinstance(v, dict) and ("filename" in v or "regions" in v) for v in doc.values()):
        raise ViaError(f"{name}: not a VIA JSON file (no image entries found)")
    v1 = any(
        isinstance(v, dict)
        and ("fileref" in v or "base64_img_data" in v or isinstance(v.get("regions"), dict))
        for v in doc.values()
    )
    via = ViaFile(version="1" if v1 else "2")
    read_entries(via, doc)
    return via
