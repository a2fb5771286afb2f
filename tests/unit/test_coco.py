"""COCO export/import of masks: polygons with bridged holes, round trips, RLE decoding.

Tolerance: a masks -> COCO -> masks round trip must give IoU >= 0.98 per class (the only
pixels that may change are those on a zero-width hole bridge), and every hole pixel must stay
out of its class.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from fashionseg_gui.core.coco import coco_to_masks, mask_to_polygons
from fashionseg_gui.core.export.coco import export_coco
from fashionseg_gui.core.masks import MaskRejected, load_mapping_json, read_label_mask
from fashionseg_gui.core.project import Project

IOU_MIN = 0.98


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _fill(polygons: list[list[float]], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    for poly in polygons:
        cv2.fillPoly(out, [np.rint(np.asarray(poly).reshape(-1, 2)).astype(np.int32)], 1)
    return out.astype(bool)


def _synthetic_with_holes() -> np.ndarray:
    """Class 1 frame with two holes (one holding a class-2 island), a ring, specks, class 3."""
    m = np.zeros((80, 100), np.uint8)
    m[5:60, 5:70] = 1
    m[15:30, 15:35] = 0  # empty hole
    m[35:50, 40:60] = 2  # hole filled by another class
    m[40:45, 45:50] = 0  # a hole inside the class-2 island
    cv2.circle(m, (85, 65), 10, 3, thickness=3)  # ring of class 3 (hole in the middle)
    m[70:72, 10:12] = 1  # a 4-pixel speck
    m[75, 30] = 2  # a single pixel
    m[0:3, 90:100] = 255  # ignore
    return m


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project.create(
        tmp_path / "proj",
        classes=[("background", "#000000"), ("a", "#ff0000"), ("b", "#00ff00"), ("c", "#0000ff")],
    )
    yield proj
    proj.close()


def _add_blank_image(
    proj: Project, tmp_path: Path, name: str, shape: tuple[int, int], seed: int
) -> str:
    rng = np.random.default_rng(seed)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(path)
    out = proj.add_image_file(path)
    assert out.ok, out.error
    return out.image_id


def test_mask_to_polygons_keeps_holes() -> None:
    m = np.zeros((40, 40), bool)
    m[2:38, 2:38] = True
    m[6:12, 6:12] = False
    m[20:30, 20:25] = False
    m[25, 22] = True  # an island inside the second hole is its own component
    polys = mask_to_polygons(m)
    assert len(polys) == 2
    filled = _fill(polys, m.shape)
    assert not filled[8, 8] and not filled[22, 21]  # holes stay empty
    assert _iou(filled, m) >= IOU_MIN
    assert mask_to_polygons(np.zeros((5, 5), bool)) == []
    single = np.zeros((5, 5), bool)
    single[2, 3] = True
    (poly,) = mask_to_polygons(single)
    assert len(poly) >= 6 and _fill([poly], single.shape).sum() == 1


def test_export_coco_structure_and_synthetic_round_trip(project: Project, tmp_path: Path) -> None:
    mask = _synthetic_with_holes()
    image_id = _add_blank_image(project, tmp_path, "holes.png", mask.shape, 0)
    project.write_mask(image_id, mask)
    out = tmp_path / "coco" / "annotations.json"
    coco = export_coco(project, out)
    assert json.loads(out.read_text(encoding="utf-8")) == coco
    assert [c["id"] for c in coco["categories"]] == [1, 2, 3]
    assert [c["name"] for c in coco["categories"]] == ["a", "b", "c"]
    (img,) = coco["images"]
    assert (img["width"], img["height"], img["fashionseg_id"]) == (100, 80, image_id)
    anns = coco["annotations"]
    assert len({a["id"] for a in anns}) == len(anns)
    # class 1: frame + speck; class 2: island (with its hole) + single pixel; class 3: ring
    assert sorted(a["category_id"] for a in anns) == [1, 1, 2, 2, 3]
    frame = max((a for a in anns if a["category_id"] == 1), key=lambda a: a["area"])
    assert frame["bbox"] == [5.0, 5.0, 65.0, 55.0]
    assert frame["area"] == float((mask[5:60, 5:70] == 1).sum())
    assert all(a["iscrowd"] == 0 and len(a["segmentation"][0]) >= 6 for a in anns)

    back = coco_to_masks(coco)[img["id"]]
    for cid in (1, 2, 3):
        assert _iou(back == cid, mask == cid) >= IOU_MIN, cid
    assert (back[15:30, 15:35] == 0).all()  # empty hole preserved
    assert (back[40:45, 45:50] == 0).all()  # hole in the island preserved
    assert back[65, 85] == 0  # centre of the ring
    assert (back[mask == 255] == 0).all()  # ignore is not exported


def test_ccp_round_trip(tmp_path: Path, ccp: Path) -> None:
    names, mapping = load_mapping_json(ccp / "ccp5.json")
    proj = Project.create(tmp_path / "ccp", classes=[(n, "#808080") for n in names])
    try:
        stems = ("0004", "0005", "0006")
        originals = {}
        for s in stems:
            src = tmp_path / f"{s}.jpg"
            shutil.copy(ccp / "images" / f"{s}.jpg", src)
            rec_id = proj.add_image_file(src).image_id
            mask, _ = read_label_mask(ccp / "masks" / f"{s}.png", None, 5, mapping=mapping)
            proj.write_mask(rec_id, mask)
            originals[rec_id] = mask
        coco = export_coco(proj, tmp_path / "ccp.json")
        decoded = coco_to_masks(coco)
        for img in coco["images"]:
            original = originals[img["fashionseg_id"]]
            back = decoded[img["id"]]
            for cid in range(1, 5):
                if (original == cid).any():
                    iou = _iou(back == cid, original == cid)
                    assert iou >= IOU_MIN, (img["original_name"], cid, iou)
    finally:
        proj.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(np.bool_, st.tuples(st.integers(8, 28), st.integers(8, 28)), elements=st.booleans()),
    st.integers(0, 2),
)
def test_random_masks_polygons_fill_back(noise: np.ndarray, grow: int) -> None:
    # Dilating random noise gives blobby components with holes and thin necks.
    mask = noise.astype(np.uint8)
    if grow:
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8), iterations=grow)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    for comp in range(1, count):
        component = labels == comp
        if component.sum() < 20:
            continue
        polys = mask_to_polygons(component)
        assert len(polys) == 1
        assert _iou(_fill(polys, mask.shape), component) >= 0.9


def _rle_string(counts: list[int]) -> str:
    """Compressed COCO RLE, as pycocotools ``rleToString`` writes it."""
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5
            more = (x != -1) if ch & 0x10 else (x != 0)
            if more:
                ch |= 0x20
            out.append(chr(ch + 48))
    return "".join(out)


def test_rle_segmentations_decode() -> None:
    m = np.zeros((6, 5), bool)
    m[1:4, 2:4] = True
    m[5, 0] = True
    flat = m.T.ravel()  # column-major
    counts, run, value = [], 0, False
    for px in flat:
        if px != value:
            counts.append(run)
            run, value = 0, bool(px)
        run += 1
    counts.append(run)
    coco = {
        "images": [{"id": 7, "width": 5, "height": 6}],
        "annotations": [
            {"image_id": 7, "category_id": 2, "segmentation": {"counts": counts, "size": [6, 5]}}
        ],
    }
    np.testing.assert_array_equal(coco_to_masks(coco)[7] == 2, m)
    coco["annotations"][0]["segmentation"] = {"counts": _rle_string(counts), "size": [6, 5]}
    np.testing.assert_array_equal(coco_to_masks(coco)[7] == 2, m)


@pytest.mark.parametrize(
    "coco,message",
    [
        ({}, "no 'images' list"),
        ({"images": [{"id": 1}]}, r"images\[0\] lacks"),
        (
            {
                "images": [{"id": 1, "width": 4, "height": 4}],
                "annotations": [
                    {"image_id": 2, "category_id": 1, "segmentation": [[0, 0, 1, 1, 2, 2]]}
                ],
            },
            "unknown image id 2",
        ),
        (
            {
                "images": [{"id": 1, "width": 4, "height": 4}],
                "annotations": [{"image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1]]}],
            },
            "not a flat list",
        ),
        (
            {
                "images": [{"id": 1, "width": 4, "height": 4}],
                "annotations": [{"image_id": 1, "category_id": 300, "segmentation": []}],
            },
            "outside 1..254",
        ),
        (
            {
                "images": [{"id": 1, "width": 4, "height": 4}],
                "annotations": [
                    {
                        "image_id": 1,
                        "category_id": 1,
                        "segmentation": {"counts": [3, 2], "size": [4, 4]},
                    }
                ],
            },
            "bad RLE",
        ),
    ],
)
def test_malformed_coco_rejected(coco: dict, message: str) -> None:
    with pytest.raises(MaskRejected, match=message):
        coco_to_masks(coco)
