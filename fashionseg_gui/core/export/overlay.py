"""``overlay``: JPEG previews, the photo with the class colours blended in."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from fashionseg_gui.core.atomic import atomic_write_bytes
from fashionseg_gui.core.export.common import ProgressFn, colourise, run_per_image
from fashionseg_gui.core.export.registry import ExportContext, ExportFormat, register
from fashionseg_gui.core.labels import IGNORE

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import ClassInfo, Project


def overlay(
    image: np.ndarray, mask: np.ndarray, classes: Sequence[ClassInfo], alpha: float = 0.5
) -> np.ndarray:
    """Blend class colours over a photo; background (0) and ignore (255) stay untouched.

    Parameters
    ----------
    image : np.ndarray
        uint8 (H, W, 3) RGB.
    mask : np.ndarray
        uint8 (H, W) class ids.
    classes : sequence of ClassInfo
    alpha : float
        Opacity of the class colour, 0..1.

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within 0..1, got {alpha}")
    if image.shape[:2] != mask.shape:
        raise ValueError(f"image {image.shape[:2]} and mask {mask.shape} differ in size")
    colour = colourise(mask, classes).astype(np.float32)
    out = image.astype(np.float32)
    sel = (mask != 0) & (mask != IGNORE)
    out[sel] = (1.0 - alpha) * out[sel] + alpha * colour[sel]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def export_overlays(
    project: Project,
    out_dir: str | Path,
    ids: Iterable[str] | None = None,
    alpha: float = 0.5,
    *,
    quality: int = 90,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> list[Path]:
    """Write JPEG previews: the photo with the class colours blended in (see :func:`overlay`).

    Returns
    -------
    list[Path]
        The JPEG files written.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within 0..1, got {alpha}")

    def write(image_id: str, dest: Path) -> None:
        blended = overlay(
            project.read_image(image_id), project.read_mask(image_id), project.classes, alpha
        )
        buf = io.BytesIO()
        Image.fromarray(blended, "RGB").save(buf, format="JPEG", quality=quality)
        atomic_write_bytes(dest, buf.getvalue())

    return run_per_image(project, out_dir, ids, ".jpg", write, on_progress, cancel_token)


def _write(project: Project, out: Path, ctx: ExportContext) -> list[Path]:
    return export_overlays(
        project, out, ctx.ids, on_progress=ctx.on_progress, cancel_token=ctx.cancel_token
    )


FORMAT = register(ExportFormat("overlay", "Overlay JPEGs…", False, _write))
