"""The export registry: what a format declares, and the one :func:`export` every caller uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.masks import MaskRejected

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project

ProgressFn = Callable[[int, int, str], None]


@dataclass
class ExportContext:
    """What a format's writer gets besides the project: the images, progress and cancel."""

    ids: list[str]
    on_progress: ProgressFn | None = None
    cancel_token: CancelToken | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return bool(
            self.cancel_token is not None and getattr(self.cancel_token, "cancelled", False)
        )

    def progress(self, done: int, total: int, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, text)


@dataclass(frozen=True)
class ExportFormat:
    """One export format.

    Attributes
    ----------
    key : str
        The name on the command line (``--format KEY``) and in the GUI.
    title : str
        Menu text (File ▸ Export ▸ ...).
    single_file : bool
        True when the format writes one file (``out`` is that file, or a folder to put
        ``<project>_<key><suffix>`` in); False for a folder of files.
    write : callable
        ``write(project, out, ctx) -> list[Path]``: writes the images ``ctx.ids`` to ``out``
        (a folder or a file, see ``single_file``), adds remarks to ``ctx.notes``, returns the
        files written. It checks ``ctx.cancelled`` between images.
    suffix : str
        Extension of the single file (``.json``).
    """

    key: str
    title: str
    single_file: bool
    write: Callable[[Project, Path, ExportContext], list[Path]]
    suffix: str = ".json"


FORMATS: dict[str, ExportFormat] = {}
"""Registered formats by key, in registration order (the order of menus and ``--help``)."""


def register(fmt: ExportFormat) -> ExportFormat:
    """Add ``fmt`` to :data:`FORMATS` (a key registered twice is an error)."""
    if fmt.key in FORMATS:
        raise ValueError(f"export format {fmt.key!r} is registered twice")
    FORMATS[fmt.key] = fmt
    return fmt


def get_format(key: str) -> ExportFormat:
    try:
        return FORMATS[key]
    except KeyError:
        raise ValueError(f"unknown export format {key!r} (known: {', '.join(FORMATS)})") from None


@dataclass
class ExportResult:
    """What :func:`export` wrote."""

    fmt: str
    out: Path
    ids: list[str]
    written: list[Path]
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False

    def lines(self) -> list[str]:
        """One summary line, then the format's remarks."""
        out = [
            f"exported {len(self.ids)} image(s) as {self.fmt} to {self.out} "
            f"({len(self.written)} file(s))"
        ]
        if self.cancelled:
            out.append("cancelled before the end")
        return out + self.notes


def export_ids(project: Project, labelled_only: bool = False) -> list[str]:
    """Images worth exporting: those with a mask or shapes (or only labelled/corrected ones)."""
    if labelled_only:
        return list(project.labelled_ids())
    return [i for i in project.images if project.has_mask(i) or project.shapes_path(i).exists()]


def output_path(project: Project, fmt: ExportFormat, out: str | Path) -> Path:
    """Where ``fmt`` writes for ``out``: a single-file format given a folder writes
    ``<folder>/<project>_<key><suffix>`` in it."""
    out = Path(out)
    if fmt.single_file and out.suffix.lower() != fmt.suffix:
        return out / f"{project.name}_{fmt.key}{fmt.suffix}"
    return out


def export(
    project: Project,
    fmt: str,
    out: str | Path,
    ids: list[str] | None = None,
    *,
    labelled_only: bool = False,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> ExportResult:
    """Export ``project`` in format ``fmt`` (a key of :data:`FORMATS`) to ``out``.

    Parameters
    ----------
    project : Project
    fmt : str
        ``label-png``, ``colour-png``, ``overlay``, ``coco``, ``via`` or a registered format.
    out : str or Path
        A folder for per-image formats; a file (or a folder to hold it) for single-file ones.
    ids : list of str, optional
        The images to export; default :func:`export_ids` (``labelled_only`` as given).
    on_progress, cancel_token
        The core job convention.

    Returns
    -------
    ExportResult

    Raises
    ------
    ValueError
        Unknown format.
    MaskRejected
        An id that is not in the project.
    """
    spec = get_format(fmt)
    todo = export_ids(project, labelled_only) if ids is None else list(ids)
    for i in todo:
        if i not in project.images:
            raise MaskRejected(f"no image with id {i!r} in the project")
    dest = output_path(project, spec, out)
    ctx = ExportContext(todo, on_progress, cancel_token)
    written = spec.write(project, dest, ctx)
    return ExportResult(fmt, Path(out), todo, written, ctx.notes, ctx.cancelled)
