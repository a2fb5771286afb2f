"""core.export: one registry and one export() for the CLI and the GUI; names, colours, 255."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.cli import main
from fashionseg_gui.core import export as export_pkg
from fashionseg_gui.core.export import FORMATS, ExportFormat, export, register
from fashionseg_gui.core.labels import IGNORE, hex_to_rgb
from fashionseg_gui.core.project import Project, ProjectError


@pytest.fixture
def project(tmp_path: Path, bad: Path) -> Project:
    p = Project.create(
        tmp_path / "proj", [("background", "#000000"), ("leaf", "#ff0000"), ("stem", "#00ff00")]
    )
    yield p
    p.close()


def _add(project: Project, src: Path) -> str:
    out = project.add_image_file(src)
    assert out.ok, out.error
    return out.image_id


def _mask(project: Project, image_id: str) -> np.ndarray:
    rec = project.images[image_id]
    mask = np.zeros((rec.height, rec.width), np.uint8)
    mask[:10] = IGNORE
    mask[20:30, 20:40] = 1
    return mask


def test_hex_to_rgb_never_raises() -> None:
    assert hex_to_rgb("#ff8000") == (255, 128, 0)
    assert hex_to_rgb("0f0") == (0, 255, 0)
    assert hex_to_rgb("red") == (255, 0, 0)
    assert hex_to_rgb("#12") == (128, 128, 128)
    assert hex_to_rgb(None) == (128, 128, 128)
    assert hex_to_rgb("x" * 1000, default=(1, 2, 3)) == (1, 2, 3)


def test_ignore_has_one_home() -> None:
    from fashionseg_gui.core import data, labels, masks, model, project

    assert data.IGNORE is model.IGNORE is project.IGNORE is masks.IGNORE is labels.IGNORE


def test_one_image_suffix_set_for_cli_and_gui(tmp_path: Path, bad: Path) -> None:
    from fashionseg_gui.cli_project import collect_image_files
    from fashionseg_gui.core.filetypes import IMAGE_SUFFIXES
    from fashionseg_gui.workers.importer import IMAGE_EXTS, expand_paths

    assert IMAGE_EXTS is IMAGE_SUFFIXES
    folder = tmp_path / "photos"
    folder.mkdir()
    for suffix in (".jpe", ".jfif", ".JPG"):
        shutil.copy(bad / "exif_rotated_6.jpg", folder / f"photo{suffix}")
    # the CLI missed .jpe, a dropped folder missed .jfif
    cli = {p.suffix for p in collect_image_files([folder])}
    gui = {p.suffix for p in expand_paths([folder]).images}
    assert cli == gui == {".jpe", ".jfif", ".JPG"}


def test_cli_and_gui_export_through_the_same_function(
    project: Project, bad: Path, tmp_path: Path, monkeypatch
) -> None:
    from fashionseg_gui.workers.importer import EXPORT_FORMATS, export_job

    image_id = _add(project, bad / "base_64x48.png")
    project.write_mask(image_id, _mask(project, image_id))
    assert list(EXPORT_FORMATS) == list(FORMATS)
    calls: list[tuple[str, Path]] = []
    real = FORMATS["label-png"]

    def spy(p: Project, out: Path, ctx) -> list[Path]:
        calls.append((real.key, out))
        return real.write(p, out, ctx)

    monkeypatch.setitem(FORMATS, "label-png", ExportFormat("label-png", real.title, False, spy))
    lines = export_job(project, "label-png", tmp_path / "gui")
    assert lines[0].startswith("exported 1 image(s) as label-png")
    project.close()
    assert (
        main(["export", str(project.root), "--format", "label-png", "--out", str(tmp_path / "cli")])
        == 0
    )
    assert calls == [("label-png", tmp_path / "gui"), ("label-png", tmp_path / "cli")]
    a = sorted(p.name for p in (tmp_path / "gui").iterdir())
    b = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert a == b and len(a) == 2  # the PNG and classes.json


def test_a_new_format_is_one_registration(
    project: Project, bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    project.write_mask(image_id, _mask(project, image_id))

    def write(p: Project, out: Path, ctx) -> list[Path]:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(p.images[i].original_name for i in ctx.ids))
        ctx.notes.append("a remark")
        return [out]

    fmt = register(ExportFormat("names-txt", "Names (text)…", True, write, suffix=".txt"))
    try:
        with pytest.raises(ValueError, match="registered twice"):
            register(fmt)
        result = export(project, "names-txt", tmp_path / "out")
        assert result.written == [tmp_path / "out" / "proj_names-txt.txt"]
        assert result.written[0].read_text() == "base_64x48.png"
        assert result.lines()[-1] == "a remark"
        project.close()
        assert (
            main(
                [
                    "export",
                    str(project.root),
                    "--format",
                    "names-txt",
                    "--out",
                    str(tmp_path / "cli.txt"),
                ]
            )
            == 0
        )
        assert (tmp_path / "cli.txt").read_text() == "base_64x48.png"
        assert "exported 1 image(s) as names-txt" in capsys.readouterr().out
    finally:
        del FORMATS["names-txt"]
    with pytest.raises(ValueError, match="unknown export format"):
        export_pkg.get_format("names-txt")


def test_via_export_notes_reach_the_report(project: Project, bad: Path, tmp_path: Path) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    project.write_shapes(
        image_id,
        [
            {"kind": "rect", "x": 1, "y": 1, "w": 5, "h": 5, "class_id": 1},
            {"kind": "rect", "x": 9, "y": 9, "w": 5, "h": 5, "class_id": 99},
        ],
    )
    result = export(project, "via", tmp_path / "v.json")
    assert result.written == [tmp_path / "v.json"]
    assert result.notes == ["base_64x48.png: shape 2 left out (unknown kind or class)"]
    assert result.lines()[1:] == result.notes
    doc = json.loads((tmp_path / "v.json").read_text())
    (entry,) = doc["_via_img_metadata"].values()
    assert len(entry["regions"]) == 1


def test_coco_file_names_are_original_and_unique(
    project: Project, bad: Path, tmp_path: Path
) -> None:
    a = _add(project, bad / "dup_a" / "photo.jpg")
    b = _add(project, bad / "dup_b" / "photo.jpg")
    c = _add(project, bad / "base_64x48.png")
    for i in (a, b, c):
        project.write_mask(i, _mask(project, i))
    export(project, "coco", tmp_path / "c.json")
    coco = json.loads((tmp_path / "c.json").read_text())
    names = [im["file_name"] for im in coco["images"]]
    assert names == ["photo.jpg", f"photo__{b}.jpg", "base_64x48.png"]
    assert [im["original_name"] for im in coco["images"]] == [
        "photo.jpg",
        "photo.jpg",
        "base_64x48.png",
    ]


def test_unlabelled_pixels_are_never_exported_as_background(
    project: Project, bad: Path, tmp_path: Path
) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    mask = _mask(project, image_id)
    project.write_mask(image_id, mask)
    coco = export(project, "coco", tmp_path / "c.json")
    doc = json.loads((tmp_path / "c.json").read_text())
    assert coco.ids == [image_id]
    assert {c["id"] for c in doc["categories"]} == {1, 2}
    from fashionseg_gui.core.coco import coco_to_masks

    back = coco_to_masks(doc)[1]
    assert not back[mask == IGNORE].any()  # no annotation covers a 255 pixel
    export(project, "colour-png", tmp_path / "colour")
    (png,) = (tmp_path / "colour").glob("*.png")
    rgb = np.asarray(Image.open(png))
    legend = json.loads((tmp_path / "colour" / "colours.json").read_text())
    ignore_rgb = hex_to_rgb(legend["not_labelled_color"])
    assert ignore_rgb != hex_to_rgb(project.classes[0].color)
    assert (rgb[mask == IGNORE] == ignore_rgb).all()
    assert (rgb[mask == 0] == (0, 0, 0)).all()


def test_colour_export_survives_a_hand_edited_colour(
    project: Project, bad: Path, tmp_path: Path
) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    project.write_mask(image_id, _mask(project, image_id))
    root = project.root
    project.close()
    doc = json.loads((root / "project.json").read_text())
    doc["classes"][1]["color"] = "red"
    doc["classes"][2]["color"] = "#12"
    (root / "project.json").write_text(json.dumps(doc))
    assert (
        main(["export", str(root), "--format", "colour-png", "--out", str(tmp_path / "colour")])
        == 0
    )
    (png,) = (tmp_path / "colour").glob("*.png")
    rgb = np.asarray(Image.open(png))
    assert (rgb[20:30, 20:40] == (255, 0, 0)).all()
    assert (
        main(["export", str(root), "--format", "overlay", "--out", str(tmp_path / "overlay")]) == 0
    )


@pytest.mark.parametrize(
    "bad_file,message",
    [
        ("bomb_header.png", "decompression bomb"),
        ("not_an_image.jpg", "not an image"),
        ("", "damaged"),  # the project's own mask, cut at 60 %
    ],
)
def test_unreadable_stored_mask_gives_a_clear_error(
    project: Project,
    bad: Path,
    tmp_path: Path,
    bad_file: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    project.write_mask(image_id, _mask(project, image_id))
    if bad_file:
        shutil.copy(bad / bad_file, project.mask_path(image_id))
    else:
        data = project.mask_path(image_id).read_bytes()
        project.mask_path(image_id).write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ProjectError, match=message):
        project.read_mask(image_id)
    project.close()
    assert (
        main(["export", str(project.root), "--format", "label-png", "--out", str(tmp_path / "out")])
        == 2
    )
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_wrong_size_stored_mask_is_refused_before_decoding(project: Project, bad: Path) -> None:
    image_id = _add(project, bad / "base_64x48.png")
    project.write_mask(image_id, _mask(project, image_id))
    shutil.copy(bad / "mask_wrong_size_63x48.png", project.mask_path(image_id))
    with pytest.raises(ProjectError, match="is 63x48, expected 64x48"):
        project.read_mask(image_id)
