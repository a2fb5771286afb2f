"""Import and export jobs for the GUI.

The jobs are plain functions with the core convention ``fn(..., cancel_token, on_progress)``
so that :class:`fashionseg_gui.workers.base.JobWorker` runs them on a QThread. Project
events (psygnal) may fire on that thread; :class:`fashionseg_gui.workers.bridge.ProjectSignals`
re-emits them as Qt signals for the views.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core.export import FORMATS
from fashionseg_gui.core.filetypes import IMAGE_SUFFIXES, VIA_SUFFIXES
from fashionseg_gui.core.project import ImportOutcome, Project

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.via import ViaFile

#: Extensions picked up when a folder is imported (explicit files are tried whatever their name).
IMAGE_EXTS = IMAGE_SUFFIXES
VIA_EXTS = VIA_SUFFIXES


@dataclass
class DropPlan:
    """What a drop (or a file dialog) asks to import.

    ``images`` holds photos and, from :func:`plan_paths`, folders still to be walked (in
    the order given); :func:`expand_paths` and the import job walk them.
    """

    images: list[Path] = field(default_factory=list)
    via: list[Path] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.images or self.via)


def _looks_like_via(path: Path) -> bool:
    return path.suffix.lower() in VIA_EXTS


def plan_paths(paths: Iterable[str | os.PathLike[str]]) -> DropPlan:
    """Sort dropped paths into photos-or-folders and VIA files, without walking folders.

    One ``stat`` per dropped path: cheap enough for the GUI thread. Folders stay in
    ``images`` (in the order given) for :func:`collect_images` to walk in the import job.
    """
    plan = DropPlan()
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p in seen:
            continue
        if p.is_dir():
            seen.add(p)
            plan.images.append(p)
        elif p.is_file():
            seen.add(p)
            (plan.via if _looks_like_via(p) else plan.images).append(p)
        else:
            plan.ignored.append(f"{p.name}: no such file or folder")
    return plan


def collect_images(
    sources: Iterable[Path],
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> list[Path]:
    """Photos of ``sources``: files as given, folders walked recursively (sorted per folder).

    A file given explicitly is tried as an image whatever its extension (the importer
    sniffs the content and refuses with a reason); inside folders only image extensions
    are taken, so a folder's ``README.txt`` does not become a refusal. Hidden folders are
    skipped. Runs in the import job (a big folder takes seconds to list).
    """
    images: list[Path] = []
    seen: set[Path] = set()
    for p in sources:
        if not p.is_dir():
            if p not in seen:
                seen.add(p)
                images.append(p)
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            if cancel_token is not None and cancel_token.cancelled:
                return images
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                f = Path(dirpath) / name
                if f.suffix.lower() in IMAGE_EXTS and f not in seen:
                    seen.add(f)
                    images.append(f)
            if on_progress is not None:
                on_progress(0, 0, f"listing photos: {len(images)} found in {p.name}")
    return images


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> DropPlan:
    """Sort dropped paths into images and VIA files; folders are walked recursively.

    Parameters
    ----------
    paths : iterable of path-like
        Files and folders.

    Returns
    -------
    DropPlan
        Images (sorted per folder), VIA files, and ignored entries with why.
    """
    plan = plan_paths(paths)
    plan.images = collect_images(plan.images)
    return plan


@dataclass
class ImportResult:
    """Everything one import job did, for the report dialog."""

    outcomes: list[ImportOutcome] = field(default_factory=list)
    via_lines: list[str] = field(default_factory=list)
    via_images_added: int = 0
    via_regions_imported: int = 0
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def imported(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def duplicates(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.duplicate_of]

    @property
    def refused(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if not o.ok and not o.duplicate_of]


@dataclass
class ViaJob:
    """One VIA file with the choices made in the VIA import dialog.

    ``via_file`` is the file as parsed for the dialog (a ``core.via.ViaFile``), so that it is
    not read a second time; ``unlabelled_class`` is the class of regions without one (None:
    skip them); ``background_rest`` makes pixels outside every region background instead of
    not labelled; ``fill_closed_polylines`` fills closed polylines as polygons.
    """

    path: Path
    attribute: str | None = None
    label_map: dict[str, Any] | None = None
    image_dirs: list[Path] | None = None
    create_unknown_classes: bool = True
    unlabelled_class: int | None = None
    background_rest: bool = False
    fill_closed_polylines: bool = True
    via_file: ViaFile | None = None


@dataclass
class ParsedVia:
    """A VIA file read for the import dialog: the parsed file or why it cannot be read."""

    path: Path
    via_file: ViaFile | None = None
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    guess: str | None = None


def parse_via_job(
    paths: list[Path],
    class_names: list[str],
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> list[ParsedVia]:
    """Read VIA files off the GUI thread, once each, with what the import dialog shows.

    Returns
    -------
    list of ParsedVia
        One per path, in order: the ``ViaFile``, its attributes with label counts and the
        guessed class attribute, or the one-line reason it cannot be read.
    """
    from fashionseg_gui.core.via import ViaError, attribute_labels, guess_class_attribute, read_via

    out: list[ParsedVia] = []
    for n, path in enumerate(paths, 1):
        if cancel_token is not None and cancel_token.cancelled:
            break
        try:
            via_file = read_via(path)
        except ViaError as exc:
            out.append(ParsedVia(Path(path), error=str(exc)))
        else:
            out.append(
                ParsedVia(
                    Path(path),
                    via_file,
                    None,
                    attribute_labels(via_file),
                    guess_class_attribute(via_file, list(class_names)),
                )
            )
        if on_progress is not None:
            on_progress(n, len(paths), Path(path).name)
    return out


def import_job(
    project: Project,
    images: list[Path],
    via_jobs: list[ViaJob] | None = None,
    source: str = "",
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> ImportResult:
    """Import photos, then VIA files; one bad file never stops the batch.

    Parameters
    ----------
    project : Project
        The open, writable project.
    images : list of Path
        Photos to import, and folders whose photos are imported (walked here, off the GUI
        thread).
    via_jobs : list of ViaJob, optional
        VIA files with their attribute and label mapping.
    source : str
        Recorded as each image's source (default: its folder).
    cancel_token, on_progress
        The core job convention.

    Returns
    -------
    ImportResult
        Per-file outcomes and the VIA reports' lines.
    """
    result = ImportResult()
    via_jobs = list(via_jobs or [])
    images = collect_images(images, cancel_token=cancel_token, on_progress=on_progress)
    total = len(images) + len(via_jobs)

    def progress(done: int, _total: int, text: str) -> None:
        if on_progress is not None:
            on_progress(done, total, text)

    if images:
        result.outcomes = project.import_images(
            images, source=source, on_progress=progress, cancel_token=cancel_token
        )
    for i, job in enumerate(via_jobs):
        if cancel_token is not None and cancel_token.cancelled:
            break
        from fashionseg_gui.core.via import import_via

        try:
            report = import_via(
                project,
                job.path,
                attribute=job.attribute,
                label_map=job.label_map,
                image_dirs=job.image_dirs,
                create_unknown_classes=job.create_unknown_classes,
                background_rest=job.background_rest,
                unlabelled_class=job.unlabelled_class,
                fill_closed_polylines=job.fill_closed_polylines,
                via_file=job.via_file,
            )
        except Exception as exc:  # reported per file, the batch goes on
            result.errors.append(f"{job.path.name}: {exc}")
        else:
            result.via_images_added += len(report.images_added)
            result.via_regions_imported += report.regions_imported
            result.via_lines.append(f"{job.path.name}:")
            result.via_lines.extend(f"  {line}" for line in report.lines())
        progress(len(images) + i + 1, total, job.path.name)
    result.cancelled = bool(cancel_token is not None and cancel_token.cancelled)
    return result


def mask_folder_job(
    project: Project,
    folder: Path,
    mapping_json: Path | None = None,
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> list[str]:
    """Import a folder of label masks (optionally with a value -> class mapping JSON).

    Returns
    -------
    list[str]
        The report lines for the import report dialog.
    """
    from fashionseg_gui.core import masks

    mapping: dict[int, int] | None = None
    names: list[str] | None = None
    if mapping_json is not None:
        names, mapping = masks.load_mapping_json(mapping_json)
    report = masks.import_mask_folder(
        project, folder, mapping, names, on_progress=on_progress, cancel_token=cancel_token
    )
    lines = [report.summary()]
    if report.classes_added:
        lines.append("classes added: " + ", ".join(report.classes_added))
    lines += [f"refused {p.name}: {why}" for p, why in report.refused]
    lines += [f"unmatched {p.name}: {why}" for p, why in report.unmatched]
    lines += [f"skipped {p.name}: {why}" for p, why in report.skipped]
    lines += [f"warning: {w}" for w in report.warnings]
    if report.cancelled:
        lines.append("cancelled before the end")
    return lines


#: Export formats offered in File > Export: key -> (menu text, writes a single file?).
EXPORT_FORMATS: dict[str, tuple[str, bool]] = {
    key: (fmt.title, fmt.single_file) for key, fmt in FORMATS.items()
}


def export_ids(project: Project) -> list[str]:
    """Images worth exporting: those with a mask or shapes."""
    from fashionseg_gui.core.export import export_ids as ids_of

    return ids_of(project)


def export_job(
    project: Project,
    fmt: str,
    out: Path,
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> list[str]:
    """Export masks or annotations in ``fmt`` (a key of :data:`EXPORT_FORMATS`).

    The same ``core.export.export`` as ``fashionseg export``.

    Parameters
    ----------
    project : Project
    fmt : str
        ``label-png``, ``colour-png``, ``overlay``, ``coco``, ``via`` or a registered format.
    out : Path
        A folder for the per-image formats, a ``.json`` file for ``coco`` and ``via``.

    Returns
    -------
    list[str]
        Lines for the report dialog.
    """
    from fashionseg_gui.core.export import export

    return export(project, fmt, out, on_progress=on_progress, cancel_token=cancel_token).lines()
