"""VIA 3.x project files: ``project``, ``config``, ``attribute``, ``file``, ``view``, ``metadata``.

A region is a metadata record with ``xy = [shape_id, coords...]`` on a view that shows one
image file; video/audio projects (temporal ``z`` segments) give no image regions, with a note.
"""

from __future__ import annotations

from typing import Any

from fashionseg_gui.core.cancel import let_others_run
from fashionseg_gui.core.via.model import ShapeProblem, ViaEntry, ViaFile, ViaRegion
from fashionseg_gui.core.via.regions import shape_v3

_V3_FILE_TYPES = {2: "image", 4: "video", 8: "audio"}


def _section(doc: dict, key: str) -> dict:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _read_attributes(via: ViaFile, attrs: dict) -> tuple[dict[str, str], dict[str, int]]:
    """Attribute id -> unique name and id -> VIA type; options go to ``via``."""
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
        vtype = spec.get("type")
        types[str(aid)] = vtype if isinstance(vtype, int) else 1
        if isinstance(spec.get("options"), dict) and spec["options"]:
            via.attribute_options[aname] = {
                str(k): v if isinstance(v, str) else "" for k, v in spec["options"].items()
            }
    return names, types


def _read_files(via: ViaFile, files: dict) -> tuple[dict[str, ViaEntry], int]:
    """Image entries by file id, and how many video/audio files were seen."""
    entries: dict[str, ViaEntry] = {}
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
    return entries, n_media


def _read_views(views: dict, entries: dict[str, ViaEntry]) -> dict[str, ViaEntry | str]:
    """View id -> the entry it shows, or why it shows none."""
    out: dict[str, ViaEntry | str] = {}
    for vid, v in views.items():
        fids = v.get("fid_list") if isinstance(v, dict) else None
        if not isinstance(fids, list) or len(fids) != 1:
            out[str(vid)] = "view does not show exactly one file"
            continue
        entry = entries.get(str(fids[0]))
        out[str(vid)] = entry if entry is not None else "view of a non-image file"
    return out


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


def _read_metadata(
    via: ViaFile,
    mid: Any,
    m: Any,
    view_entry: dict[str, ViaEntry | str],
    names: dict[str, str],
    types: dict[str, int],
) -> None:
    where = f"metadata {mid}"
    if not isinstance(m, dict):
        via.skipped.append((where, "not an object"))
        return
    xy, z = m.get("xy"), m.get("z")
    has_z = isinstance(z, list) and len(z) > 0
    has_xy = isinstance(xy, list) and len(xy) > 0
    target = view_entry.get(str(m.get("vid")), "metadata of an unknown view")
    av = _v3_values(m.get("av"), names, types)
    if not has_xy and has_z:
        via.skipped.append((where, "temporal segment (video/audio), no spatial region"))
    elif isinstance(target, str):
        via.skipped.append((where, target))
    elif not has_xy:
        target.file_attributes.update(av)
    elif has_z:
        via.skipped.append((where, "region on a video frame, not an image region"))
    else:
        assert isinstance(xy, list)
        try:
            shape = shape_v3(xy)
        except ShapeProblem as exc:
            via.skipped.append((f"{target.filename}, {where}", str(exc)))
            return
        target.regions.append(ViaRegion(shape, av))


def read_v3(doc: dict) -> ViaFile:
    """A VIA 3.x project document -> :class:`ViaFile` (version ``"3"``)."""
    via = ViaFile(version="3")
    names, types = _read_attributes(via, _section(doc, "attribute"))
    entries, n_media = _read_files(via, _section(doc, "file"))
    view_entry = _read_views(_section(doc, "view"), entries)
    for mid, m in _section(doc, "metadata").items():
        let_others_run()  # a worker's parse must not freeze the window
        _read_metadata(via, mid, m, view_entry, names, types)
    via.entries = list(entries.values())
    if not via.entries and n_media:
        via.notes.append("no image regions (video/audio project)")
    return via
