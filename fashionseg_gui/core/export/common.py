"""Helpers every export format shares: file names, the per-image loop, class colours.

Export file names
-----------------
``<original stem>__<image id>.<ext>``: the stem is NFC-normalised, characters other than
letters, digits, ``-``, ``_`` and ``.`` become ``_``, it is shortened to 60 characters, and the
image id makes every name unique (two photos both named ``photo.jpg`` never collide).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.labels import IGNORE, hex_to_rgb
from fashionseg_gui.core.masks import MaskRejected

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import ClassInfo, Project

ProgressFn = Callable[[int, int, str], None]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def safe_stem(name: str, max_len: int = 60) -> str:
    """A file-name stem safe on Windows, macOS and Linux, from an original file name.

    Parameters
    ----------
    name : str
        Original file name (with or without extension).
    max_len : int
        Longest stem returned.

    Returns
    -------
    str
        Letters (any script), digits, ``-``, ``_`` and ``.`` only; never empty.
    """
    stem = _norm(Path(name).stem if "." in name else name)
    out = "".join(ch if (ch.isalnum() or ch in "-_.") else "_" for ch in stem)
    out = re.sub(r"_+", "_", out).strip("._ ")[:max_len].rstrip("._ ")
    return out or "image"


def export_name(project: Project, image_id: str, ext: str) -> str:
    """``<original stem>__<image id><ext>``, unique per image and safe on every OS."""
    rec = project.images[image_id]
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", image_id)
    return f"{safe_stem(rec.original_name or rec.file)}__{safe_id}{ext}"


def images_with_mask(project: Project, ids: Iterable[str] | None) -> list[str]:
    """The images of ``ids`` (default: all) that have a mask; an unknown id is an error."""
    if ids is None:
        return [i for i in project.images if project.has_mask(i)]
    out = []
    for i in ids:
        if i not in project.images:
            raise MaskRejected(f"no image with id {i!r} in the project")
        if project.has_mask(i):
            out.append(i)
    return out


def unique_original_names(project: Project, ids: Iterable[str]) -> dict[str, str]:
    """Image id -> its original file name, made unique among ``ids``.

    The first image with a name keeps it; a later one with the same name (compared
    case-insensitively, as on Windows and macOS) becomes ``<stem>__<image id><ext>``.
    """
    used: set[str] = set()
    out: dict[str, str] = {}
    for image_id in ids:
        rec = project.images[image_id]
        name = _norm(rec.original_name or rec.file)
        if name.casefold() in used:
            suffix = Path(name).suffix
            name = f"{Path(name).stem}__{image_id}{suffix}"
        used.add(name.casefold())
        out[image_id] = name
    return out


def colourise(
    mask: np.ndarray, classes: Sequence[ClassInfo], ignore_rgb: tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """Colour a label mask with the class colours.

    Parameters
    ----------
    mask : np.ndarray
        uint8 (H, W) class ids.
    classes : sequence of ClassInfo
        Project classes (``id`` and ``color`` ``#rrggbb``; an unreadable colour is grey).
    ignore_rgb : tuple of int
        Colour of 255 (not labelled) pixels and of ids without a class (default black).

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3).
    """
    lut = np.empty((256, 3), dtype=np.uint8)
    lut[:] = ignore_rgb
    for c in classes:
        if 0 <= c.id < IGNORE:
            lut[c.id] = hex_to_rgb(c.color)
    return lut[np.asarray(mask, dtype=np.uint8)]


IGNORE_COLOUR_CHOICES = (
    (0, 0, 0),
    (255, 255, 255),
    (128, 128, 128),
    (255, 0, 255),
    (0, 255, 255),
    (64, 64, 64),
    (192, 192, 192),
)


def ignore_colour(classes: Sequence[ClassInfo]) -> tuple[int, int, int]:
    """A colour for "not labelled" that no class uses (black unless a class is black)."""
    used = {hex_to_rgb(c.color) for c in classes if 0 <= c.id < IGNORE}
    for rgb in IGNORE_COLOUR_CHOICES:
        if rgb not in used:
            return rgb
    for v in range(256):  # 255 classes cannot use every grey
        if (v, v, v) not in used:
            return (v, v, v)
    return (0, 0, 0)


def write_classes_file(project: Project, out_dir: Path) -> None:
    """``classes.json`` in :func:`load_mapping_json` format, so the export can be re-imported."""
    atomic_write_json(
        out_dir / "classes.json",
        {
            "classes": [c.name for c in project.classes],
            "colors": [c.color for c in project.classes],
            "map": {str(c.id): c.id for c in project.classes},
            "ignore": IGNORE,
        },
    )


def run_per_image(
    project: Project,
    out_dir: str | Path,
    ids: Iterable[str] | None,
    ext: str,
    write: Callable[[str, Path], None],
    on_progress: ProgressFn | None,
    cancel_token: CancelToken | None,
) -> list[Path]:
    """Write one file per image with a mask (``write(image_id, dest)``), checking cancel."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    todo = images_with_mask(project, ids)
    written: list[Path] = []
    for n, image_id in enumerate(todo, 1):
        if cancel_token is not None and getattr(cancel_token, "cancelled", False):
            break
        dest = out / export_name(project, image_id, ext)
        write(image_id, dest)
        written.append(dest)
        if on_progress is not None:
            on_progress(n, len(todo), dest.name)
    return written
