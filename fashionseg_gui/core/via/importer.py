"""Import a VIA file into a project, in steps: read, match entries to images, label, draw.

1. :func:`~fashionseg_gui.core.via.reader.read_via` (or a :class:`ViaFile` parsed earlier, e.g.
   on a worker thread for the import dialog).
2. Match each entry to a project image (NFC base name + size, then case-insensitively), or
   import the file from the folders the caller chose (:func:`_match_entries`).
3. Give each region a class (:func:`_region_shape`): the label map, then class names, then a
   new class; regions without a label are skipped or given the chosen class. Closed polylines
   (first point repeated, or ends closer than :data:`CLOSE_FRACTION` of their length) are
   filled as polygons when asked.
4. Rasterise the regions over the image's mask and append them to its shapes (:func:`_draw`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.shapes import rasterize_detailed, validate_shape
from fashionseg_gui.core.via.labels import guess_class_attribute, region_label
from fashionseg_gui.core.via.model import ViaError, ViaFile, ViaRegion
from fashionseg_gui.core.via.reader import read_via
from fashionseg_gui.core.via.report import ViaImportReport

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

CLOSE_FRACTION = 0.1
"""A polyline whose ends are closer than this fraction of its length counts as closed."""
CLOSE_MIN_PX = 2.0
"""...or closer than this many pixels."""


def polyline_closed(points: list[list[float]]) -> bool:
    """True when a polyline outlines an area: first point repeated, or the ends nearly meet.

    The ends "nearly meet" when they are at most ``max(CLOSE_MIN_PX, CLOSE_FRACTION x length)``
    apart; at least three distinct points are needed.
    """
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(set(pts)) < 3:
        return False
    length = sum(math.dist(pts[i], pts[i + 1]) for i in range(len(pts) - 1))
    gap = math.dist(pts[0], pts[-1])
    return gap <= max(CLOSE_MIN_PX, CLOSE_FRACTION * length)


def _as_polygon(shape: dict) -> dict | None:
    """The polygon a closed polyline outlines (the repeated end point dropped), if valid."""
    pts = [list(p) for p in shape["points"]]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    polygon = {"kind": "polygon", "points": pts}
    return polygon if validate_shape(polygon) is None else None


# --------------------------------------------------------------------------- matching


def _base_name(filename: str) -> str:
    """The last component of a path, Windows path or URL (never a directory part)."""
    name = filename.strip()
    if "://" in name:
        name = name.split("://", 1)[1]
        name = re.split(r"[?#]", name, maxsplit=1)[0]
    name = re.split(r"[\\/]", name)[-1]
    name = unicodedata.normalize("NFC", name)
    return "" if name in (".", "..") else name


def _pick(
    cands: list[Any], size: int, size_of: Callable[[Any], int]
) -> tuple[Any | None, str | None]:
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
    names: list[tuple[Any, str]], base: str, size: int, size_of: Callable[[Any], int]
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


def _disk_files(dirs: list[Path], report: ViaImportReport) -> list[tuple[Path, str]]:
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
    return disk


def _match_entries(
    project: Project, via: ViaFile, source: str, dirs: list[Path], report: ViaImportReport
) -> dict[str, list[tuple[str, ViaRegion]]]:
    """Project image id -> its regions (with where they come from), importing found files."""
    proj_names = [
        (rid, unicodedata.normalize("NFC", rec.original_name))
        for rid, rec in project.images.items()
    ]

    def proj_size(rid: str) -> int:
        return _file_size(project.image_path(rid))

    disk = _disk_files(dirs, report)
    per_image: dict[str, list[tuple[str, ViaRegion]]] = {}
    for entry in via.entries:
        base = _base_name(entry.filename)
        if not base:
            report.unmatched.append(f"{entry.filename}: no usable file name")
            continue
        rid, why = _match(proj_names, base, entry.size, proj_size)
        if rid is None and why is None:
            found, why = _match(disk, base, entry.size, _file_size)
            if found is not None:
                outcome = project.add_image_file(found, source=source)
                if outcome.image_id:
                    rid = outcome.image_id
                    report.images_added.append(rid)
                    proj_names.append(
                        (rid, unicodedata.normalize("NFC", project.images[rid].original_name))
                    )
                elif outcome.duplicate_of:
                    rid = outcome.duplicate_of
                else:
                    why = outcome.error or "image could not be imported"
        if rid is None:
            report.unmatched.append(f"{entry.filename}: {why or 'no image with this name'}")
            continue
        report.matched[entry.key] = rid
        bucket = per_image.setdefault(rid, [])
        bucket += [(f"{entry.filename}, region {k}", r) for k, r in enumerate(entry.regions)]
    return per_image


# --------------------------------------------------------------------------- classes


@dataclass
class _Labeller:
    """Turns region labels into class ids for one import (creating classes when asked)."""

    project: Project
    via: ViaFile
    attribute: str | None
    label_map: dict[str, int | None] | None
    create: bool
    unlabelled_class: int | None
    report: ViaImportReport
    cache: dict[str, int | None] = field(default_factory=dict)

    def class_of(self, region: ViaRegion) -> int | str:
        """The class id of ``region``, or why it is skipped."""
        label: str | None
        why: str | None
        if self.attribute is None:
            label, why = None, "no class attribute in this file"
        else:
            label, why = region_label(self.via, region, self.attribute)
        if label is None:
            if self.unlabelled_class is None:
                self.report.unclassified_skipped += 1
                return why or "no label"
            return self.unlabelled_class
        return self._class_for(label)

    def _class_for(self, label: str) -> int | str:
        from fashionseg_gui.core.project import ProjectError

        project, report = self.project, self.report
        if self.label_map is not None and label in self.label_map:
            cid = self.label_map[label]
            if cid is None:
                return f"label '{label}' is mapped to nothing"
            if not 0 <= cid < len(project.classes):
                return f"label '{label}' is mapped to unknown class id {cid}"
            return cid
        if label in self.cache:
            if label in report.unknown_labels:
                report.unknown_labels[label] += 1
            cached = self.cache[label]
            return f"unknown label '{label}'" if cached is None else cached
        info = project.class_by_name(label)
        if info is not None:
            if info.name != label:
                report.notes.append(f"label '{label}' taken as class '{info.name}'")
            self.cache[label] = info.id
            return info.id
        report.unknown_labels[label] += 1
        if not self.create:
            self.cache[label] = None
            return f"unknown label '{label}'"
        try:
            info = project.add_class(label)
        except ProjectError as exc:
            return f"label '{label}': {exc}"
        report.classes_created.append(info.name)
        self.cache[label] = info.id
        return info.id


# --------------------------------------------------------------------------- drawing


def _region_shape(
    region: ViaRegion, where: str, width: int, height: int, labeller: _Labeller, fill_closed: bool
) -> dict | str:
    """The shape (with ``class_id``) to import for one region, or why it is skipped."""
    shape = region.shape
    filled = False
    if fill_closed and shape.get("kind") == "polyline" and polyline_closed(shape["points"]):
        polygon = _as_polygon(shape)
        if polygon is not None:
            shape, filled = polygon, True
    problem = validate_shape(shape, width, height)
    if problem:
        return problem
    cid = labeller.class_of(region)
    if isinstance(cid, str):
        return cid
    if filled:
        labeller.report.filled_polylines.append(where)
    return {**shape, "class_id": cid}


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


def _draw(
    project: Project,
    rid: str,
    shapes: list[dict],
    wheres: list[str],
    background_rest: bool,
    report: ViaImportReport,
) -> None:
    """Rasterise ``shapes`` over the image's mask; store the mask and the shapes."""
    from fashionseg_gui.core.project import ProjectError

    rec = project.images[rid]
    _check_frame(shapes, rec.width, rec.height, rec.original_name, report)
    had_mask = project.has_mask(rid)
    try:
        base_mask = project.read_mask(rid) if had_mask else None
    except ProjectError as exc:
        report.regions_skipped += [(w, f"the image's mask cannot be read ({exc})") for w in wheres]
        return
    if base_mask is None and background_rest:
        base_mask = np.zeros((rec.height, rec.width), np.uint8)
    result = rasterize_detailed(shapes, rec.height, rec.width, base=base_mask)
    report.overlaps += result.overlaps
    for i in result.empty:
        report.note_region(wheres[i], f"empty after clipping to the {rec.width}x{rec.height} image")
    for i in result.self_intersecting:
        report.note_region(wheres[i], "self-intersecting polygon, filled with the even-odd rule")
    for i in result.no_area:
        report.note_region(wheres[i], f"{shapes[i]['kind']} has no area, kept but not drawn")
    project.write_shapes(rid, project.read_shapes(rid) + shapes)
    report.regions_imported += len(shapes)
    if result.drawn or had_mask:
        project.write_mask(rid, result.mask, status="labelled")


# --------------------------------------------------------------------------- entry point


def import_via(
    project: Project,
    path: str | Path,
    attribute: str | None = None,
    label_map: dict[str, int | None] | None = None,
    image_dirs: list[Path] | None = None,
    create_unknown_classes: bool = True,
    background_rest: bool = False,
    unlabelled_class: int | None = None,
    *,
    fill_closed_polylines: bool = True,
    via_file: ViaFile | None = None,
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
        Pixels of a newly labelled image that no region covers become class 0 ("outside every
        region is background") instead of 255 ("not labelled").
    unlabelled_class : int or None
        Class id given to regions that carry no class (e.g. files whose regions have no
        attributes at all); None skips them with a reason.
    fill_closed_polylines : bool
        Fill closed polylines (see :func:`polyline_closed`) as polygons; the report lists them.
        Open polylines stay polylines (kept, not drawn).
    via_file : ViaFile or None
        The file already parsed by :func:`read_via` (e.g. on a worker thread for the import
        dialog); ``path`` is then used only for its folder and name.

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
    without a label is skipped (or given ``unlabelled_class``), never given class 0.
    """
    from fashionseg_gui.core.project import ReadOnlyError

    if project.read_only:
        raise ReadOnlyError(f"project is read-only: {project.read_only_reason}")
    if unlabelled_class is not None and not 0 <= unlabelled_class < len(project.classes):
        raise ViaError(f"no class with id {unlabelled_class} for unlabelled regions")
    path = Path(path)
    via = via_file if via_file is not None else read_via(path)
    report = ViaImportReport(regions_skipped=list(via.skipped))
    report.notes += via.notes
    attribute = attribute or guess_class_attribute(via, [c.name for c in project.classes])
    report.attribute = attribute
    dirs = [path.parent] if image_dirs is None else [Path(d) for d in image_dirs]
    with project.batch():  # one save of project.json for the whole import
        per_image = _match_entries(project, via, f"VIA {path.name}", dirs, report)
        if report.images_added:
            project.save()
            project.events.images_changed.emit(list(report.images_added))
        labeller = _Labeller(
            project, via, attribute, label_map, create_unknown_classes, unlabelled_class, report
        )
        for rid, items in per_image.items():
            rec = project.images[rid]
            shapes: list[dict] = []
            wheres: list[str] = []
            for where, region in items:
                shape = _region_shape(
                    region, where, rec.width, rec.height, labeller, fill_closed_polylines
                )
                if isinstance(shape, str):
                    report.regions_skipped.append((where, shape))
                    continue
                shapes.append(shape)
                wheres.append(where)
            if shapes:
                _draw(project, rid, shapes, wheres, background_rest, report)
    return report
