"""``label-png``: each mask as an 8-bit label PNG (value = class id, 255 = not labelled)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.atomic import atomic_save_png
from fashionseg_gui.core.export.common import ProgressFn, run_per_image, write_classes_file
from fashionseg_gui.core.export.registry import ExportContext, ExportFormat, register

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project


def export_label_pngs(
    project: Project,
    out_dir: str | Path,
    ids: Iterable[str] | None = None,
    *,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> list[Path]:
    """Write each mask as an 8-bit label PNG (value = class id, 255 = not labelled).

    Also writes ``classes.json`` (names, colours and an identity map, the format of
    :func:`~fashionseg_gui.core.masks.load_mapping_json`) so the folder can be imported again.

    Parameters
    ----------
    project : Project
    out_dir : str or Path
        Created if needed.
    ids : iterable of str, optional
        Images to export; default every image that has a mask. Images without a mask are
        skipped.

    Returns
    -------
    list[Path]
        The PNG files written, in project order.
    """

    def write(image_id: str, dest: Path) -> None:
        atomic_save_png(dest, project.read_mask(image_id))

    written = run_per_image(project, out_dir, ids, ".png", write, on_progress, cancel_token)
    write_classes_file(project, Path(out_dir))
    return written


def _write(project: Project, out: Path, ctx: ExportContext) -> list[Path]:
    return export_label_pngs(
        project, out, ctx.ids, on_progress=ctx.on_progress, cancel_token=ctx.cancel_token
    )


FORMAT = register(ExportFormat("label-png", "Label PNGs (class ids)…", False, _write))
