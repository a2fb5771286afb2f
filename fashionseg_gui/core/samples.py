"""Training samples: where the labelled photos come from (a project or a folder pair).

A :class:`Sample` is an image id with loaders for its photo (uint8 RGB, upright) and its
label mask (uint8 class ids, 255 = ignore). Samples come from a project
(:func:`samples_from_project`) or from a folder pair with a value mapping
(:func:`samples_from_folder`, e.g. CCP's ``images/`` + ``masks/`` + ``ccp5.json``).
Nothing here needs TensorFlow; :mod:`fashionseg_gui.core.data` builds the pipeline.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.records import SPLITS

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.train_config import TrainConfig

__all__ = [
    "SPLITS",
    "DataError",
    "Sample",
    "load_mapping",
    "samples_from_folder",
    "samples_from_project",
]


class DataError(Exception):
    """A problem with the training data, worded for the user."""


@dataclass(frozen=True)
class Sample:
    """One labelled photo.

    Attributes
    ----------
    id : str
        Image id (stable; decides the split hash).
    load_image : callable
        Returns the photo as uint8 ``(H, W, 3)`` RGB.
    load_mask : callable
        Returns the label mask as uint8 ``(H, W)``; 255 = ignore.
    split : str or None
        ``"train"``, ``"val"``, ``"test"`` or None (unassigned).
    """

    id: str
    load_image: Callable[[], np.ndarray] = field(repr=False)
    load_mask: Callable[[], np.ndarray] = field(repr=False)
    split: str | None = None


def load_mapping(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read a value-to-class mapping JSON (``{"classes": [...], "map": {"41": 1, ...}}``).

    Returns
    -------
    classes : list of str
        Class names, background first.
    lut : np.ndarray
        uint8 lookup table of 256 entries; unmapped values map to 255 (ignore).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        classes = [str(c) for c in data["classes"]]
        lut = np.full(256, IGNORE, np.uint8)
        for key, value in data["map"].items():
            k, v = int(key), int(value)
            if not (0 <= k <= 255 and 0 <= v < len(classes)):
                raise ValueError(f"entry {key!r}: {value!r} is out of range")
            lut[k] = v
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read mapping {path}: {exc}") from exc
    return classes, lut


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        upright = ImageOps.exif_transpose(im)
        return np.asarray(upright.convert("RGB"), dtype=np.uint8)


def _read_gray(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "P"):
            raise DataError(f"mask {path.name} is not an 8-bit single-channel PNG (mode {im.mode})")
        return np.asarray(im, dtype=np.uint8)


def samples_from_folder(
    image_dir: str | Path,
    mask_dir: str | Path,
    mapping: str | Path | np.ndarray | None = None,
    ids: Iterable[str] | None = None,
) -> list[Sample]:
    """Samples from ``image_dir/<id>.<ext>`` photos and ``mask_dir/<id>.png`` label masks.

    Parameters
    ----------
    image_dir, mask_dir : path
        Folders of photos and of 8-bit label PNGs with the same stem.
    mapping : path or np.ndarray, optional
        Mapping JSON (see :func:`load_mapping`) or a 256-entry lookup table applied to mask
        values; None keeps the values as class ids.
    ids : iterable of str, optional
        Restrict to these stems (sorted order kept).

    Returns
    -------
    list of Sample
        Sorted by id.
    """
    image_dir, mask_dir = Path(image_dir), Path(mask_dir)
    if not image_dir.is_dir():
        raise DataError(f"image folder not found: {image_dir}")
    if not mask_dir.is_dir():
        raise DataError(f"mask folder not found: {mask_dir}")
    if mapping is None:
        lut = None
    elif isinstance(mapping, np.ndarray):
        lut = mapping.astype(np.uint8)
    else:
        lut = load_mapping(mapping)[1]
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    photos = {p.stem: p for p in sorted(image_dir.iterdir()) if p.suffix.lower() in exts}
    wanted = sorted(photos) if ids is None else [str(i) for i in ids]
    samples = []
    for sid in wanted:
        mask = mask_dir / f"{sid}.png"
        if sid not in photos or not mask.is_file():
            if ids is not None:
                raise DataError(f"no photo + mask pair for id {sid!r} in {image_dir} / {mask_dir}")
            continue

        def load_mask(path: Path = mask) -> np.ndarray:
            values = _read_gray(path)
            return values if lut is None else lut[values]

        samples.append(Sample(sid, functools.partial(_read_rgb, photos[sid]), load_mask))
    if not samples:
        raise DataError(f"no photo + mask pairs found in {image_dir} and {mask_dir}")
    return samples


def samples_from_project(project: Project, config: TrainConfig | None = None) -> list[Sample]:
    """Samples of a project's labelled and corrected images (``Project.labelled_ids()``).

    ``config`` (a ``TrainConfig``) is accepted for symmetry with the training call and
    does not change which images are used.
    """
    samples = []
    for image_id in project.labelled_ids():
        record = project.images[image_id]
        samples.append(
            Sample(
                image_id,
                functools.partial(project.read_image, image_id),
                functools.partial(project.read_mask, image_id),
                record.split,
            )
        )
    if not samples:
        raise DataError("the project has no labelled images yet: label or correct some first")
    return samples
