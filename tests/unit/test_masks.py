"""core.masks: reading label masks (bad_inputs, CCP), folder import, PNG/overlay export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.core.export.colour_png import export_colour_pngs
from fashionseg_gui.core.export.common import colourise, safe_stem
from fashionseg_gui.core.export.label_png import export_label_pngs
from fashionseg_gui.core.export.overlay import export_overlays, overlay
from fashionseg_gui.core.mask_import import import_mask_folder
from fashionseg_gui.core.masks import MaskRejected, load_mapping_json, read_label_mask
from fashionseg_gui.core.project import ClassInfo, Project

COLOURS = {(0, 0, 0): 0, (128, 0, 0): 1, (0, 128, 0): 2}


def _reference(bad: Path) -> np.ndarray:
    with Image.open(bad / "mask_ok_64x48.png") as im:
        return np.asarray(im).copy()


# --------------------------------------------------------------------------- bad_inputs masks


def test_mask_ok(bad: Path) -> None:
    mask, warnings = read_label_mask(bad / "mask_ok_64x48.png", (64, 48), 3)
    assert mask.dtype == np.uint8 and mask.shape == (48, 64)
    assert set(np.unique(mask)) == {0, 1, 2}
    assert warnings == []


def test_mask_wrong_size_names_both_sizes(bad: Path) -> None:
    with pytest.raises(
        MaskRejected, match=r"mask_wrong_size_63x48.png: mask is 63x48 but the image is 64x48"
    ):
        read_label_mask(bad / "mask_wrong_size_63x48.png", (64, 48), 3)


def test_mask_out_of_range_histogram_and_ignored(bad: Path) -> None:
    mask, warnings = read_label_mask(bad / "mask_label_out_of_range.png", (64, 48), 3)
    assert mask.max() == 255 and not np.isin(mask, [7]).any()
    assert set(np.unique(mask)) == {0, 1, 2, 255}
    with Image.open(bad / "mask_label_out_of_range.png") as im:
        raw = np.asarray(im)
    assert (mask[raw == 7] == 255).all()
    (text,) = warnings
    assert "7: 32 px" in text and "255: 256 px" in text


def test_mask_palette_reads_indices(bad: Path) -> None:
    mask, _ = read_label_mask(bad / "mask_palette.png", (64, 48), 3)
    np.testing.assert_array_equal(mask, _reference(bad))


def test_mask_rgb_needs_colour_map(bad: Path) -> None:
    with pytest.raises(MaskRejected, match="colour-to-class map"):
        read_label_mask(bad / "mask_rgb_colored.png", (64, 48), 3)
    mask, _ = read_label_mask(bad / "mask_rgb_colored.png", (64, 48), 3, colour_map=COLOURS)
    np.testing.assert_array_equal(mask, _reference(bad))
    partial = {(0, 0, 0): 0, (128, 0, 0): 1}
    with pytest.raises(MaskRejected, match=r"1 colours not in the colour map: #008000 \(500 px\)"):
        read_label_mask(bad / "mask_rgb_colored.png", (64, 48), 3, colour_map=partial)


def test_mask_jpeg_refused(bad: Path) -> None:
    with pytest.raises(MaskRejected, match="JPEG masks are lossy"):
        read_label_mask(bad / "mask_saved_as_jpeg.jpg", (64, 48), 3, colour_map=COLOURS)


def test_mask_gray_alpha_uses_channel_zero(bad: Path) -> None:
    mask, warnings = read_label_mask(
        bad / "mask_gray_alpha.png", (64, 48), 3, mapping={0: 0, 100: 1, 200: 2}
    )
    assert mask.ndim == 2
    np.testing.assert_array_equal(mask, _reference(bad))
    assert any("alpha channel ignored" in w for w in warnings)


def test_mapping_unmapped_values_ignored(bad: Path) -> None:
    mask, warnings = read_label_mask(bad / "mask_ok_64x48.png", (64, 48), 3, mapping={0: 0, 1: 2})
    ref = _reference(bad)
    assert (mask[ref == 1] == 2).all() and (mask[ref == 2] == 255).all()
    assert "not in the mapping" in warnings[0] and "2: 500 px" in warnings[0]
    # a mapping may send a value to 255 on purpose: no warning for it
    mask, warnings = read_label_mask(
        bad / "mask_ok_64x48.png", (64, 48), 3, mapping={0: 0, 1: 1, 2: 255}
    )
    assert warnings == [] and (mask[ref == 2] == 255).all()


def test_unreadable_masks(tmp_path: Path) -> None:
    empty = tmp_path / "e.png"
    empty.write_bytes(b"")
    with pytest.raises(MaskRejected, match="empty file"):
        read_label_mask(empty, None, 3)
    html = tmp_path / "h.png"
    html.write_text("<html></html>")
    with pytest.raises(MaskRejected, match="not an image"):
        read_label_mask(html, None, 3)
    with pytest.raises(MaskRejected, match="file not found"):
        read_label_mask(tmp_path / "missing.png", None, 3)


def test_sixteen_bit_mask_values(tmp_path: Path) -> None:
    arr = np.zeros((20, 20), np.uint16)
    arr[5:10] = 1000
    path = tmp_path / "m16.png"
    Image.fromarray(arr).save(path)
    mask, warnings = read_label_mask(path, (20, 20), 3, mapping={0: 0, 1000: 2})
    assert (mask[5:10] == 2).all() and (mask[:5] == 0).all() and warnings == []


# --------------------------------------------------------------------------- CCP + mapping


def test_ccp_masks_with_ccp5_mapping(ccp: Path) -> None:
    classes, mapping = load_mapping_json(ccp / "ccp5.json")
    assert classes[0] == "background" and len(classes) == 5
    assert mapping[41] == 1 and len(mapping) == 59
    for stem in ("0001", "0002", "0003"):
        with Image.open(ccp / "images" / f"{stem}.jpg") as im:
            size = im.size
        mask, warnings = read_label_mask(ccp / "masks" / f"{stem}.png", size, 5, mapping=mapping)
        assert mask.shape == (size[1], size[0])
        assert set(np.unique(mask)) <= {0, 1, 2, 3, 4}
        assert warnings == []
        with Image.open(ccp / "masks" / f"{stem}.png") as im:
            raw = np.asarray(im)
        assert (mask[raw == 41] == 1).all()  # skin -> skin_hair


def test_load_mapping_json_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"classes": ["bg", "a"], "map": {"1": 5}}')
    with pytest.raises(MaskRejected, match=r"map\['1'\] = 5 is not a class index 0..1"):
        load_mapping_json(bad)
    bad.write_text('{"classes": ["bg"], "map": {"x": 0}}')
    with pytest.raises(MaskRejected, match="not an integer"):
        load_mapping_json(bad)
    bad.write_text('{"classes": ["bg"],')
    with pytest.raises(MaskRejected, match="not valid JSON"):
        load_mapping_json(bad)


# --------------------------------------------------------------------------- project import/export


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project.create(
        tmp_path / "proj",
        classes=[("background", "#000000"), ("leaf", "#ff0000"), ("stem", "#00ff00")],
    )
    yield proj
    proj.close()


def test_import_mask_folder_bad_inputs(bad: Path, project: Project, tmp_path: Path) -> None:
    base = project.add_image_file(bad / "base_64x48.png")
    a = project.add_image_file(bad / "dup_a" / "photo.jpg")
    b = project.add_image_file(bad / "dup_b" / "photo.jpg")
    assert base.ok and a.ok and b.ok
    folder = tmp_path / "masks"
    folder.mkdir()
    shutil.copy(bad / "mask_palette.png", folder / "base_64x48_mask.png")
    shutil.copy(bad / "mask_ok_64x48.png", folder / "photo.png")  # ambiguous twin name
    shutil.copy(bad / "mask_ok_64x48.png", folder / f"photo__{b.image_id}.png")
    shutil.copy(bad / "mask_saved_as_jpeg.jpg", folder / "base_64x48.jpg")
    shutil.copy(bad / "mask_ok_64x48.png", folder / "unknown.png")
    report = import_mask_folder(project, folder)
    imported = {i for i, _ in report.imported}
    assert imported == {base.image_id, b.image_id}
    assert project.images[base.image_id].status == "labelled"
    np.testing.assert_array_equal(project.read_mask(base.image_id), _reference(bad))
    assert not project.has_mask(a.image_id)  # never attached to the wrong twin
    unmatched = {p.name: r for p, r in report.unmatched}
    assert "ambiguous" in unmatched["photo.png"] and "unknown.png" in unmatched
    refused = {p.name: r for p, r in report.refused}
    assert "JPEG masks are lossy" in refused["base_64x48.jpg"]
    assert "2 masks imported" in report.summary()

    again = import_mask_folder(project, folder, overwrite=False)
    assert not again.imported and len(again.skipped) == 3  # the .jpg matches base too

    # Two usable files for one image: the first (sorted) wins, the other is reported.
    shutil.copy(bad / "mask_ok_64x48.png", folder / "base_64x48.png")
    third = import_mask_folder(project, folder)
    skipped = {p.name: r for p, r in third.skipped}
    assert [p.name for i, p in third.imported if i == base.image_id] == ["base_64x48.png"]
    assert "base_64x48.png was already imported" in skipped["base_64x48_mask.png"]


def test_import_ccp_with_class_names(ccp: Path, tmp_path: Path) -> None:
    proj = Project.create(
        tmp_path / "ccp_proj"
    )  # default classes: bg, bohemian, preppy, streetwear
    try:
        ids = [proj.add_image_file(ccp / "images" / f"{s}.jpg").image_id for s in ("0001", "0002")]
        folder = tmp_path / "ccp_masks"
        folder.mkdir()
        for s in ("0001", "0002"):
            shutil.copy(ccp / "masks" / f"{s}.png", folder / f"{s}.png")
        names, mapping = load_mapping_json(ccp / "ccp5.json")
        steps: list[tuple[int, int]] = []
        report = import_mask_folder(
            proj,
            folder,
            mapping=mapping,
            class_names=names,
            on_progress=lambda d, t, _n: steps.append((d, t)),
        )
        assert steps == [(1, 2), (2, 2)]
        assert report.classes_added == names[1:]
        assert len(report.imported) == 2 and not report.refused and not report.warnings
        ids_by_name = {c.name: c.id for c in proj.classes}
        with Image.open(ccp / "masks" / "0001.png") as im:
            raw = np.asarray(im)
        mask = proj.read_mask(ids[0])
        assert (mask[raw == 41] == ids_by_name["skin_hair"]).all()
        assert (mask[raw == 0] == 0).all()
        assert set(np.unique(mask)) <= {0} | {ids_by_name[n] for n in names[1:]}
    finally:
        proj.close()


def test_import_cancelled(bad: Path, project: Project, tmp_path: Path) -> None:
    project.add_image_file(bad / "base_64x48.png")
    folder = tmp_path / "m"
    folder.mkdir()
    shutil.copy(bad / "mask_ok_64x48.png", folder / "base_64x48.png")

    class Token:
        cancelled = True

    report = import_mask_folder(project, folder, cancel_token=Token())
    assert report.cancelled and not report.imported


def test_exports_names_and_round_trip(bad: Path, project: Project, tmp_path: Path) -> None:
    ids = []
    for name in ("dup_a/photo.jpg", "dup_b/photo.jpg", "image (1).jpg"):
        # image (1).jpg has the same pixels as dup_a: a different file is made for it
        src = bad / name
        if name == "image (1).jpg":
            src = tmp_path / "image (1).png"
            Image.open(bad / "base_64x48.png").rotate(180).save(src)
        out = project.add_image_file(src)
        assert out.ok, out.error
        ids.append(out.image_id)
    ref = _reference(bad)
    ref_with_ignore = ref.copy()
    ref_with_ignore[:2] = 255
    project.write_mask(ids[0], ref)
    project.write_mask(ids[1], ref_with_ignore)
    # ids[2] has no mask: skipped by every export

    labels = export_label_pngs(project, tmp_path / "labels")
    names = [p.name for p in labels]
    assert names == [f"photo__{ids[0]}.png", f"photo__{ids[1]}.png"]
    assert len(set(names)) == 2
    for p, i in zip(labels, ids[:2], strict=True):
        with Image.open(p) as im:
            assert im.mode == "L"
            np.testing.assert_array_equal(np.asarray(im), project.read_mask(i))
    classes_file = tmp_path / "labels" / "classes.json"
    cls_names, mapping = load_mapping_json(classes_file)
    assert cls_names == ["background", "leaf", "stem"]
    assert json.loads(classes_file.read_text())["colors"][1] == "#ff0000"

    # re-import the exported folder into the same project: matched by <stem>__<id>
    for i in ids[:2]:
        project.write_mask(i, np.zeros_like(ref))
    report = import_mask_folder(project, tmp_path / "labels", mapping=mapping)
    assert {i for i, _ in report.imported} == set(ids[:2])
    np.testing.assert_array_equal(project.read_mask(ids[1]), ref_with_ignore)

    colour = export_colour_pngs(project, tmp_path / "colour", ids=[ids[1], ids[2]])
    assert [p.name for p in colour] == [f"photo__{ids[1]}.png"]
    with Image.open(colour[0]) as im:
        arr = np.asarray(im)
    assert arr.shape == (48, 64, 3)
    assert (arr[ref_with_ignore == 1] == (255, 0, 0)).all()
    # not labelled (255) is never drawn in the background's colour (black here): it gets the
    # colour the folder's colours.json names, one no class uses
    legend = json.loads((tmp_path / "colour" / "colours.json").read_text())
    assert legend["colors"][0] == "#000000" and legend["not_labelled_color"] == "#ffffff"
    assert (arr[ref_with_ignore == 255] == 255).all()
    assert (arr[ref_with_ignore == 0] == 0).all()

    overlays = export_overlays(project, tmp_path / "overlay", alpha=0.5)
    assert [p.suffix for p in overlays] == [".jpg", ".jpg"]
    with Image.open(overlays[0]) as im:
        assert im.format == "JPEG" and im.size == (64, 48)
    with pytest.raises(MaskRejected, match="no image with id"):
        export_label_pngs(project, tmp_path / "x", ids=["nope"])


def test_colourise_and_overlay() -> None:
    classes = [ClassInfo(0, "background", "#000000"), ClassInfo(1, "a", "#ff8000")]
    mask = np.array([[0, 1], [255, 7]], np.uint8)
    col = colourise(mask, classes)
    assert col.tolist() == [[[0, 0, 0], [255, 128, 0]], [[0, 0, 0], [0, 0, 0]]]
    img = np.full((2, 2, 3), 100, np.uint8)
    out = overlay(img, mask, classes, alpha=0.5)
    assert out[0, 0].tolist() == [100, 100, 100]  # background untouched
    assert out[1, 0].tolist() == [100, 100, 100]  # ignore untouched
    assert out[0, 1].tolist() == [178, 114, 50]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("image (1).jpg", "image_1"),
        ("é_ü_日本.jpg", "é_ü_日本"),
        ("CON:?*<>|.png", "CON"),
        ("...", "image"),
        ("a" * 200 + ".png", "a" * 60),
    ],
)
def test_safe_stem(name: str, expected: str) -> None:
    assert safe_stem(name) == expected
