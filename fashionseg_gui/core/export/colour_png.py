"""``colour-png``: each mask as an RGB PNG in the class colours.

Pixels that are not labelled (255) get a colour no class uses (black, unless a class is
black: then white, grey, ...), so they are never mistaken for background; the folder's
``colours.json`` names the colour of each class and of "not labelled".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.atomic import atomic_save_png, atomic_write_json
from fashionseg_gui.core.export.common import ProgressFn, colourise, ignore_colour, run_per_image
from fashionseg_gui.core.export.registry import ExportContext, ExportFormat, register
from fashionseg_gui.core.labels import hex_to_rgb, rgb_to_hex

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project


def export_colour_pngs(
    project: Project,
    out_dir: str | Path,
    ids: Iterable[str] | None = None,
    *,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> list[Path]:
    """Write each mask as an RGB PNG in the class colours (see :func:`colourise`).

    A class colour that cannot be read (e.g. ``"red"`` typed by hand is read as red; ``"#12"``
    is not a colour) is drawn grey; the export never fails on a colour.

    Returns
    -------
    list[Path]
        The PNG files written.
    """
    ignore_rgb = ignore_colour(project.classes)

    def write(image_id: str, dest: Path) -> None:
        atomic_save_png(dest, colourise(project.read_mask(image_id), project.classes, ignore_rgb))

    written = run_per_image(project, out_dir, ids, ".png", write, on_progress, cancel_token)
    atomic_write_json(
        Path(out_dir) / "colours.json",
        {
            "classes": [c.name for c in project.classes],
            "colors": [rgb_to_hex(hex_to_rgb(c.color)) for c in project.classes],
            "not_labelled_color": rgb_to_hex(ignore_rgb),
        },
    )
    return written


def _write(project: Project, out: Path, ctx: ExportContext) -> list[Path]:
    return export_colour_pngs(
        project, out, ctx.ids, on_progress=ctx.on_progress, cancel_token=ctx.cancel_token
    )


FORMAT = register(ExportFormat("colour-png", "Colour PNGs…", False, _write))
