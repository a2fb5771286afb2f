"""Default class colours: readable on skin, hair and photos; users' colours never rewritten."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fashionseg_gui.core.project import DEFAULT_CLASSES, PALETTE, Project

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "projects" / "demo"

#: sRGB skin tones from very light to very dark, and hair (black, brown, auburn, blond).
SKIN_AND_HAIR = [
    (255, 224, 189),
    (241, 194, 125),
    (234, 192, 134),
    (224, 172, 105),
    (198, 134, 66),
    (141, 85, 36),
    (94, 59, 38),
    (60, 40, 30),
    (35, 28, 25),
    (106, 78, 66),
    (165, 107, 70),
    (145, 70, 45),
    (230, 206, 150),
]
OLD_DEMO = [
    ("background", "#000000"),
    ("skin_hair", "#f4c28b"),
    ("upper", "#e6194b"),
    ("lower", "#4363d8"),
    ("footwear_accessories", "#3cb44b"),
]


def _lab(rgb) -> np.ndarray:
    c = np.asarray(rgb, float) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ c
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _min_distance_to_skin(hex_colour: str) -> float:
    lab = _lab(_rgb(hex_colour))
    return min(float(np.linalg.norm(lab - _lab(s))) for s in SKIN_AND_HAIR)


def test_first_palette_colours_stand_out_on_skin_and_hair():
    # the colours the default classes and the demo use (CIE76 delta E; ~2.3 is "just
    # noticeable", 25+ is a plainly different colour)
    for colour in PALETTE[:5]:
        assert _min_distance_to_skin(colour) >= 25, colour
    assert _min_distance_to_skin("#f4c28b") < 10  # the old skin default: a skin tone itself
    assert len(set(PALETTE)) == len(PALETTE)


def test_new_project_uses_the_palette(tmp_path):
    project = Project.create(tmp_path / "p")
    try:
        assert [(c.name, c.color) for c in project.classes] == list(DEFAULT_CLASSES)
        for c in project.classes[1:]:
            assert _min_distance_to_skin(c.color) >= 25, c
        added = project.add_class("denim")
        assert _min_distance_to_skin(added.color) >= 25
    finally:
        project.close()


def _project_with_classes(root: Path, classes) -> Path:
    p = Project.create(root, classes)
    p.close()
    return root


def test_untouched_old_demo_colours_get_the_new_palette_on_open(tmp_path):
    root = _project_with_classes(tmp_path / "demo", OLD_DEMO)
    project = Project.open(root)
    try:
        skin = project.classes[1]
        assert skin.name == "skin_hair" and skin.color != "#f4c28b"
        assert _min_distance_to_skin(skin.color) >= 25
        assert len({c.color for c in project.classes}) == 5
    finally:
        project.close()
    saved = json.loads((root / "project.json").read_text())["classes"]
    assert saved[1]["color"] == skin.color  # written once, atomically, by the open


def test_a_users_own_colours_are_never_rewritten(tmp_path):
    mine = list(OLD_DEMO)
    mine[2] = ("upper", "#123456")  # the user recoloured one class: keep every colour
    root = _project_with_classes(tmp_path / "mine", mine)
    project = Project.open(root)
    try:
        assert [(c.name, c.color) for c in project.classes] == mine
    finally:
        project.close()
    custom = [("background", "#000000"), ("skin", "#f4c28b")]
    root = _project_with_classes(tmp_path / "custom", custom)
    with Project.open(root) as project:
        assert [(c.name, c.color) for c in project.classes] == custom


def test_shipped_demo_project_colours_stand_out_on_skin(tmp_path):
    if not (DEMO / "project.json").is_file():
        pytest.skip("projects/demo is not present")
    classes = json.loads((DEMO / "project.json").read_text())["classes"]
    assert classes[1]["name"] == "skin_hair"
    for c in classes[1:]:
        assert _min_distance_to_skin(c["color"]) >= 25, c
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fashionseg.lock", ".cache"))
    with Project.open(root) as project:
        assert [c.color for c in project.classes] == [c["color"] for c in classes]
