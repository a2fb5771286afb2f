"""Demo data for the editor's standalone run and benchmarks: a synthetic fashion photo.

:func:`synthetic_photo` draws a photo-like image (a gradient, noise and a dressed figure);
:func:`demo_project` makes a new project holding one such photo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fashionseg_gui.core.project import ProjectError

if TYPE_CHECKING:
    from pathlib import Path

    from fashionseg_gui.core.project import Project


def synthetic_photo(width: int = 832, height: int = 550, seed: int = 0) -> np.ndarray:
    """A photo-like test image: a soft gradient, noise and a dressed figure (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.empty((height, width, 3), np.float32)
    img[..., 0] = 180 + 40 * xx / width
    img[..., 1] = 190 + 30 * yy / height
    img[..., 2] = 205 - 20 * xx / width
    cx = width / 2
    body = ((xx - cx) / (width * 0.12)) ** 2 + ((yy - height * 0.55) / (height * 0.33)) ** 2 < 1
    head = (xx - cx) ** 2 + (yy - height * 0.15) ** 2 < (height * 0.08) ** 2
    skirt = body & (yy > height * 0.6)
    img[body] = (60, 80, 150)
    img[skirt] = (200, 90, 70)
    img[head] = (225, 180, 150)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def demo_project(folder: Path) -> Project:
    """A new project in ``folder`` holding one synthetic photo."""
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(folder / "demo")
    path = folder / "outfit.png"
    Image.fromarray(synthetic_photo()).save(path)
    outcome = project.add_image_file(path, source="synthetic")
    if not outcome.ok:
        raise ProjectError(outcome.error or "cannot add the demo photo")
    project.save()
    return project
