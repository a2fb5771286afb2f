"""Tiny synthetic training samples for the ML unit tests (learnable from colour alone)."""

from __future__ import annotations

import numpy as np

from fashionseg_gui.core import data as D

CLASSES = ["background", "red", "green"]


def synthetic_samples(n: int, seed: int = 0) -> list[D.Sample]:
    """Photos with a red and a green rectangle on grey noise; the mask follows the colours."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        mask = np.zeros((32, 48), np.uint8)
        for cls in (1, 2):
            y, x = rng.integers(0, 20), rng.integers(0, 34)
            mask[y : y + 12, x : x + 14] = cls
        photo = rng.integers(90, 140, (32, 48, 3)).astype(np.uint8)
        photo[mask == 1] = (220, 30, 30)
        photo[mask == 2] = (30, 220, 30)
        out.append(D.Sample(f"syn{k}", lambda p=photo: p, lambda m=mask: m))
    return out


#: ``fashionseg train`` options of a tiny, fast model (one epoch, 32x48, depth 2, width 4),
#: with the settings as given (no recipe fitting).
TINY_TRAIN_ARGS = [
    "--epochs",
    "1",
    "--input-size",
    "32x48",
    "--depth",
    "2",
    "--base-width",
    "4",
    "--batch-size",
    "2",
    "--mixed-precision",
    "off",
    "--recipe",
    "manual",
]
