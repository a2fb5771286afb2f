"""A tiny synthetic project for GUI tests that train (coloured squares on grey, odd sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from fashionseg_gui.core.project import Project

TINY = {
    "epochs": 1,
    "batch_size": 2,
    "learning_rate": 5e-3,
    "input_height": 32,
    "input_width": 48,
    "depth": 2,
    "base_width": 4,
}


def make_tiny_project(root: Path, n: int = 7, labelled: int = 5) -> Project:
    """``n`` synthetic photos of 32x48 or 40x30 (odd sizes); the first ``labelled`` have masks."""
    project = Project.create(
        root / "tiny", [("background", "#000000"), ("red", "#ff0000"), ("blue", "#0000ff")]
    )
    rng = np.random.default_rng(3)
    for i in range(n):
        h, w = (32, 48) if i % 2 == 0 else (40, 30)
        photo = np.full((h, w, 3), 90, np.uint8)
        mask = np.zeros((h, w), np.uint8)
        for cls, color in ((1, (230, 20, 20)), (2, (20, 20, 230))):
            y, x = int(rng.integers(0, h - 12)), int(rng.integers(0, w - 12))
            photo[y : y + 10, x : x + 10] = color
            mask[y : y + 10, x : x + 10] = cls
        path = root / f"src{i}.png"
        Image.fromarray(photo).save(path)
        image_id = project.add_image_file(path, source="test").image_id
        if i < labelled:
            project.write_mask(image_id, mask)
    project.save()
    return project
