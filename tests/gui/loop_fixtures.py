"""A project with scored predictions of known confidence (no network), for the queue views."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from fashionseg_gui.core import scores as S
from fashionseg_gui.core.predict import predict_project
from fashionseg_gui.core.project import Project

H, W = 24, 32
CLASSES = [("background", "#000000"), ("top", "#ff0000"), ("skirt", "#0000ff")]


def truth() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[4:14, 4:14] = 1
    mask[12:22, 16:30] = 2
    return mask


class KnownConfidence:
    """Predicts :func:`truth` with the confidence its grey level names (``levels``)."""

    num_classes = 3

    def __init__(self, project: Project, levels: dict[int, float]) -> None:
        run = Path(project.runs_dir) / "run-known"
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps({"created": "2026-01-01T00:00:00+00:00"}))
        self.run = S.run_identity(run, [c[0] for c in CLASSES], 3)
        self.levels = levels

    def predict_scored(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = self.levels.get(int(image[0, 0, 0]), 0.9)
        ids = truth()
        probs = np.stack([np.where(ids == c, q, (1 - q) / 2) for c in range(3)], -1)
        return ids, np.full((H, W), q, np.float32), S.pixel_entropy(probs)

    def predict(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_scored(image)[:2]


def scored_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Photos ``sure`` (0.95), ``unsure`` (0.4), ``middle`` (0.7) unlabelled and predicted;
    ``good`` and ``bad`` labelled (``bad``'s label has two classes swapped), predicted too."""
    project = Project.create(tmp_path / "p", CLASSES)
    names = {}
    for level, name in ((10, "sure"), (20, "unsure"), (30, "middle"), (40, "good"), (50, "bad")):
        photo = np.full((H, W, 3), level, np.uint8)
        path = tmp_path / f"{name}.png"
        Image.fromarray(photo).save(path)
        names[name] = project.add_image_file(path).image_id
    project.write_mask(names["good"], truth())
    bad = truth()
    bad[bad == 1] = 2
    project.write_mask(names["bad"], bad)
    predict_project(project, predictor=KnownConfidence(project, {10: 0.95, 20: 0.4, 30: 0.7}))
    project.save()
    project.close()
    return tmp_path / "p", names
