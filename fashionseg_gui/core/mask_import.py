"""Import a folder of label masks into a project, one mask per project image.

A mask file matches an image by the stem of the image's original file name (NFC, then
case-insensitive; a trailing ``_mask``/``_label``/``_gt`` is allowed), or by an exported name
``<stem>__<image id>`` (see :func:`fashionseg_gui.core.export.common.export_name`). Each file
is read with :func:`fashionseg_gui.core.masks.read_label_mask`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.masks import MASK_SUFFIXES, MaskRejected, read_label_mask

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project

_STEM_TAGS = ("_mask", "-mask", ".mask", "_label", "-label", "_labels", "_gt", "_seg")

ProgressFn = Callable[[int, int, str], None]


@dataclass
class MaskImportReport:
    """What :func:`import_mask_folder` did, for the import dialog or the CLI.

    Attributes
    ----------
    imported : list[tuple[str, Path]]
        (image id, mask file) stored.
    unmatched : list[tuple[Path, str]]
        Mask files not matched to a project image, with the reason.
    refused : list[tuple[Path, str]]
        Matched mask files that could not be used, with the reason.
    skipped : list[tuple[Path, str]]
        Matched files left alone (e.g. the image already has a mask and overwrite is off).
    warnings : list[str]
        Per-file warnings (unexpected values, ignored alpha, ...).
    classes_added : list[str]
        Class names added to the project for the mapping.
    cancelled : bool
        True if the job stopped early on request.
    """

    imported: list[tuple[str, Path]] = field(default_factory=list)
    unmatched: list[tuple[Path, str]] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        """One line: counts of each outcome."""
        return (
            f"{len(self.imported)} masks imported, {len(self.refused)} refused, "
            f"{len(self.unmatched)} unmatched, {len(self.skipped)} skipped, "
            f"{len(self.warnings)} warnings"
        )

    def lines(self, limit: int = 50) -> list[str]:
        """The summary, then each problem with its reason (at most ``limit`` of each kind)."""
        out = [self.summary()]
        if self.classes_added:
            out.append("classes added: " + ", ".join(self.classes_added))
        for label, items in (
            ("refused", self.refused),
            ("unmatched", self.unmatched),
            ("skipped", self.skipped),
        ):
            out += [f"{label}: {Path(p).name}: {why}" for p, why in items[:limit]]
            if len(items) > limit:
                out.append(f"... and {len(items) - limit} more {label}")
        out += [f"warning: {w}" for w in self.warnings[:limit]]
        if self.cancelled:
            out.append("cancelled before the end")
        return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _match_keys(stem: str) -> list[str]:
    keys = [_norm(stem)]
    low = keys[0].casefold()
    for tag in _STEM_TAGS:
        if low.endswith(tag) and len(low) > len(tag):
            keys.append(keys[0][: -len(tag)])
    return keys


def import_mask_folder(
    project: Project,
    folder: str | Path,
    mapping: dict[int, int] | None = None,
    class_names: list[str] | None = None,
    status: str = "labelled",
    *,
    colour_map: dict[tuple[int, int, int], int] | None = None,
    overwrite: bool = True,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> MaskImportReport:
    """Import a folder of label masks into a project, one mask per project image.

    A mask file matches an image by the stem of the image's original file name (NFC, then
    case-insensitive; a trailing ``_mask``/``_label``/``_gt`` is allowed), or by an exported
    name ``<stem>__<image id>``. A stem shared by two project images is ambiguous and is
    refused rather than attached to the wrong one.

    Parameters
    ----------
    project : Project
        Open, writable project.
    folder : str or Path
        Folder holding the mask files (not searched recursively).
    mapping : dict[int, int], optional
        File value -> class index. With ``class_names`` the index refers to ``class_names``
        (translated to project classes by name; missing classes are added to the project),
        otherwise directly to project class ids.
    class_names : list[str], optional
        Names for the mapping's class indices (as read by :func:`load_mapping_json`).
    status : str
        Status given to every image that receives a mask.
    colour_map : dict, optional
        (r, g, b) -> value for colour-coded masks (see :func:`read_label_mask`).
    overwrite : bool
        Replace masks that exist already (default) or skip those images.
    on_progress : callable, optional
        ``on_progress(done, total, file_name)`` after each file.
    cancel_token : object, optional
        Anything with a ``cancelled`` attribute; checked before each file.

    Returns
    -------
    MaskImportReport

    Raises
    ------
    MaskRejected
        If ``folder`` is not a folder, or the mapping refers to a class index that
        ``class_names`` does not have.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MaskRejected(f"{folder}: not a folder")
    report = MaskImportReport()

    # Translate mapping targets (class_names indices) to project class ids.
    if class_names is not None:
        name_to_id: dict[int, int] = {}
        for idx, cname in enumerate(class_names):
            info = project.class_by_name(cname)
            if info is None:
                info = project.add_class(cname)
                report.classes_added.append(cname)
            name_to_id[idx] = info.id
        if mapping is None:
            mapping = {i: i for i in range(len(class_names))}
        translated: dict[int, int] = {}
        for value, idx in mapping.items():
            if idx == IGNORE:
                translated[int(value)] = IGNORE
            elif idx in name_to_id:
                translated[int(value)] = name_to_id[idx]
            else:
                raise MaskRejected(
                    f"mapping sends value {value} to class index {idx}, "
                    f"but only {len(class_names)} class names are given"
                )
        composed: dict[int, int] | None = translated
    else:
        composed = dict(mapping) if mapping is not None else None
    num_classes = len(project.classes)

    # Index project images by original stem and by id.
    by_stem: dict[str, list[str]] = {}
    by_stem_fold: dict[str, list[str]] = {}
    for image_id, rec in project.images.items():
        stem = _norm(Path(rec.original_name or rec.file).stem)
        by_stem.setdefault(stem, []).append(image_id)
        by_stem_fold.setdefault(stem.casefold(), []).append(image_id)

    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in MASK_SUFFIXES and not p.name.startswith(".")
    )
    used: dict[str, str] = {}  # image id -> mask file used in this run
    with project.batch():  # one save of project.json for the whole folder
        _import_mask_files(
            project,
            files,
            composed,
            colour_map,
            num_classes,
            status,
            overwrite,
            by_stem,
            by_stem_fold,
            used,
            report,
            on_progress,
            cancel_token,
        )
    return report


def _import_mask_files(
    project: Project,
    files: list[Path],
    composed: dict[int, int] | None,
    colour_map: dict[tuple[int, int, int], int] | None,
    num_classes: int,
    status: str,
    overwrite: bool,
    by_stem: dict[str, list[str]],
    by_stem_fold: dict[str, list[str]],
    used: dict[str, str],
    report: MaskImportReport,
    on_progress: ProgressFn | None,
    cancel_token: CancelToken | None,
) -> None:
    for n, path in enumerate(files, 1):
        if cancel_token is not None and getattr(cancel_token, "cancelled", False):
            report.cancelled = True
            break
        image_id, reason = _match(path.stem, project, by_stem, by_stem_fold)
        if image_id is None:
            report.unmatched.append((path, reason))
        elif image_id in used:
            report.skipped.append((path, f"{used[image_id]} was already imported for this image"))
        elif not overwrite and project.has_mask(image_id):
            report.skipped.append((path, "the image has a mask already"))
        else:
            rec = project.images[image_id]
            try:
                mask, warns = read_label_mask(
                    path,
                    (rec.width, rec.height),
                    num_classes,
                    mapping=composed,
                    colour_map=colour_map,
                )
            except MaskRejected as exc:
                report.refused.append((path, str(exc)))
            else:
                project.write_mask(image_id, mask, status=status)
                report.imported.append((image_id, path))
                used[image_id] = path.name
                report.warnings.extend(warns)
        if on_progress is not None:
            on_progress(n, len(files), path.name)


def _match(
    stem: str, project: Project, by_stem: dict[str, list[str]], by_stem_fold: dict[str, list[str]]
) -> tuple[str | None, str]:
    if "__" in stem:  # our own export name: <stem>__<id>
        candidate = stem.rsplit("__", 1)[1]
        for tag in _STEM_TAGS:  # tolerate a tag added after the id
            if candidate.casefold().endswith(tag):
                candidate = candidate[: -len(tag)]
        if candidate in project.images:
            return candidate, ""
    for key in _match_keys(stem):
        for index, k in ((by_stem, key), (by_stem_fold, key.casefold())):
            ids = index.get(k, [])
            if len(ids) == 1:
                return ids[0], ""
            if len(ids) > 1:
                return None, (
                    f"ambiguous: {len(ids)} project images are named {key}.*; "
                    "rename the mask <stem>__<image id>"
                )
    return None, "no project image with this name"
