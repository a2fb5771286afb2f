"""The ``fashionseg`` command line: project commands and one-line user errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.cli import main
from fashionseg_gui.core.project import Project


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        p = folder / f"photo {i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def test_new_import_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    proj = tmp_path / "p"
    assert main(["new", str(proj), "--classes", "boho, prep"]) == 0
    assert [c.name for c in Project.open(proj, read_only=True).classes] == [
        "background",
        "boho",
        "prep",
    ]
    photos = _photos(tmp_path / "in", 3)
    bad = shared_data / "bad_inputs" / "not_an_image.jpg"
    rc = main(["import", str(proj), str(tmp_path / "in"), str(bad), str(photos[0])])
    out = capsys.readouterr().out
    assert rc == 1  # something was refused
    assert "imported 3 photo(s), 1 duplicate(s), 1 refused" in out
    assert "not an image" in out
    assert main(["info", str(proj)]) == 0
    out = capsys.readouterr().out
    assert "images   3  (unlabelled 3)" in out


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        ["info", str(tmp_path / "nowhere")],
        ["import", str(tmp_path / "nowhere"), "x.jpg"],
        ["new", str(tmp_path / "q"), "--classes", "a,a"],
    ]
    for args in cases:
        out = subprocess.run(
            [sys.executable, "-m", "fashionseg_gui.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 2, out
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fashionseg: error:"), out.stderr
        assert "Traceback" not in out.stderr


def test_import_into_locked_project_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = tmp_path / "p"
    holder = Project.create(proj)  # this process holds the lock; the CLI is another instance
    _photos(tmp_path / "in", 1)
    out = subprocess.run(
        [sys.executable, "-m", "fashionseg_gui.cli", "import", str(proj), str(tmp_path / "in")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "read-only" in out.stderr
    assert holder.images == {} and len(Project.open(proj, read_only=True).images) == 0
    holder.close()


def test_via_import_and_every_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    import json

    proj = tmp_path / "p"
    assert main(["new", str(proj)]) == 0
    via = shared_data / "via" / "03_receipts_via2" / "via_export_json.json"
    assert main(["import", str(proj), "--via", str(via)]) == 0
    out = capsys.readouterr().out
    assert "18 regions imported, 0 skipped" in out
    for fmt in ("label-png", "colour-png", "overlay", "coco", "via"):
        assert main(["export", str(proj), "--format", fmt, "--out", str(tmp_path / fmt)]) == 0
    assert len(list((tmp_path / "label-png").glob("*.png"))) == 6
    assert len(list((tmp_path / "overlay").glob("*.jpg"))) == 6
    coco = json.loads(next((tmp_path / "coco").glob("*.json")).read_text())
    assert len(coco["images"]) == 6 and len(coco["annotations"]) >= 18
    # The exported VIA project re-imports into a fresh project with the same regions.
    proj2 = tmp_path / "p2"
    assert main(["new", str(proj2)]) == 0
    exported = next((tmp_path / "via").glob("*.json"))
    assert main(["import", str(proj2), "--via", str(exported), "--images", str(via.parent)]) == 0
    assert "18 regions imported, 0 skipped" in capsys.readouterr().out


def test_mask_folder_import_with_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    import shutil

    ccp = shared_data / "ccp"
    (tmp_path / "img").mkdir()
    (tmp_path / "msk").mkdir()
    for n in ("0001", "0002", "0003"):
        shutil.copy(ccp / "images" / f"{n}.jpg", tmp_path / "img")
        shutil.copy(ccp / "masks" / f"{n}.png", tmp_path / "msk")
    proj = tmp_path / "p"
    assert main(["new", str(proj), "--classes", "skin_hair"]) == 0
    assert (
        main(
            [
                "import",
                str(proj),
                str(tmp_path / "img"),
                "--masks",
                str(tmp_path / "msk"),
                "--mapping",
                str(ccp / "ccp5.json"),
            ]
        )
        == 0
    )
    assert "3 masks imported" in capsys.readouterr().out
    project = Project.open(proj, read_only=True)
    assert [c.name for c in project.classes][:2] == ["background", "skin_hair"]
    assert len(project.classes) == 5
    for image_id in project.images:
        assert project.images[image_id].status == "labelled"
        assert int(project.read_mask(image_id).max()) <= 4


def test_via_regions_without_labels_get_the_chosen_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    proj = tmp_path / "p"
    assert main(["new", str(proj), "--classes", "crater"]) == 0
    via = shared_data / "via" / "05_craters_circle_via2" / "via_region_data.json"
    assert main(["import", str(proj), "--via", str(via)]) == 0
    out = capsys.readouterr().out
    assert "0 regions imported" in out  # no attribute: skipped with a reason, never class 0
    assert main(["import", str(proj), "--via", str(via), "--unlabelled-class", "crater"]) == 0
    out = capsys.readouterr().out
    assert "0 regions imported" not in out
    project = Project.open(proj, read_only=True)
    labelled = [i for i in project.images if project.has_mask(i)]
    assert labelled and all(set(np.unique(project.read_mask(i))) <= {1, 255} for i in labelled)
