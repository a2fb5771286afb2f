"""AnnotationDocument: pixel edits, shapes, bbox-diff undo/redo, saving, prediction status."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.core.annotation import AnnotationDocument, disk_stamp
from fashionseg_gui.core.atomic import atomic_save_npz
from fashionseg_gui.core.project import Project, ProjectError, ReadOnlyError
from fashionseg_gui.core.shapes import rasterize

H, W = 60, 80


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project.create(tmp_path / "p")
    photo = np.zeros((H, W, 3), np.uint8)
    photo[10:40, 20:50] = (200, 30, 30)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    out = proj.add_image_file(tmp_path / "photo.png")
    assert out.ok, out.error
    proj.save()
    yield proj
    proj.close()


@pytest.fixture
def doc(project: Project) -> AnnotationDocument:
    return AnnotationDocument(project, next(iter(project.images)))


def test_new_document_is_unlabelled(doc: AnnotationDocument) -> None:
    assert doc.mask.shape == (H, W) and doc.mask.dtype == np.uint8
    assert (doc.mask == 255).all()
    assert not doc.dirty and not doc.from_prediction and not doc.can_undo


def test_disk_stamp_is_round_and_cached() -> None:
    s = disk_stamp(10)
    assert s.shape == (21, 21) and s[10, 10] and s[0, 10] and not s[0, 0]
    assert disk_stamp(10) is s
    assert disk_stamp(0.2).shape == (1, 1)


def test_paint_disk_sets_exact_pixels(doc: AnnotationDocument) -> None:
    region = doc.paint_disk(30, 20, 3, 2)
    yy, xx = np.mgrid[0:H, 0:W]
    expected = (xx - 30) ** 2 + (yy - 20) ** 2 <= 9
    assert ((doc.mask == 2) == expected).all()
    assert (doc.mask[~expected] == 255).all()
    assert doc.mask[region].shape == (7, 7)
    assert doc.dirty and doc.can_undo


def test_paint_disk_clips_at_border(doc: AnnotationDocument) -> None:
    doc.paint_disk(0, 0, 5, 1)
    assert doc.mask[0, 0] == 1 and doc.mask[5, 0] == 1 and doc.mask[6, 0] == 255
    assert doc.paint_disk(-50, -50, 3, 1) is None


def test_stroke_has_no_gaps_and_is_one_step(doc: AnnotationDocument) -> None:
    doc.begin_edit()
    doc.paint_stroke(5, 30, 70, 30, 1, 3)
    doc.paint_stroke(70, 30, 70, 50, 1, 3)
    doc.end_edit("brush")
    assert (doc.mask[30, 5:71] == 3).all() and (doc.mask[30:51, 70] == 3).all()
    assert doc.undo_depth == 1
    doc.undo()
    assert (doc.mask == 255).all()


def test_fill_connected_region_only(doc: AnnotationDocument) -> None:
    doc.mask[:, 40] = 1  # a wall splits the image (set directly: part of the setup)
    region = doc.fill(5, 5, 2)
    assert region is not None
    assert (doc.mask[:, :40] == 2).all() and (doc.mask[:, 41:] == 255).all()
    assert (doc.mask[:, 40] == 1).all()
    assert doc.fill(5, 5, 2) is None  # same value: nothing to do
    assert doc.fill(500, 5, 2) is None


def test_set_region_rejects_wrong_shape(doc: AnnotationDocument) -> None:
    with pytest.raises(ProjectError):
        doc.set_region(np.ones((3, 3), bool), 1)


def test_polygon_shape_matches_rasterize(doc: AnnotationDocument) -> None:
    poly = {"kind": "polygon", "points": [[10, 10], [50, 12], [30, 45]], "class_id": 2}
    doc.add_shape(poly)
    expected, _ = rasterize([poly], H, W)
    assert np.array_equal(doc.mask, expected)
    assert doc.shapes == [poly]
    doc.undo()
    assert doc.shapes == [] and (doc.mask == 255).all()
    doc.redo()
    assert doc.shapes == [poly] and np.array_equal(doc.mask, expected)


def test_invalid_shape_is_refused(doc: AnnotationDocument) -> None:
    with pytest.raises(ProjectError, match="at least 3"):
        doc.add_shape({"kind": "polygon", "points": [[1, 1], [2, 2]], "class_id": 1})
    assert not doc.can_undo


def test_update_and_delete_shape_reraster(doc: AnnotationDocument) -> None:
    under = {"kind": "rect", "x": 0, "y": 0, "w": 40, "h": 40, "class_id": 1}
    top = {"kind": "rect", "x": 20, "y": 20, "w": 30, "h": 30, "class_id": 2}
    doc.add_shape(under)
    doc.add_shape(top)
    moved = dict(top, x=45, y=25)
    doc.update_shape(1, moved)
    expected, _ = rasterize([under, moved], H, W)
    assert np.array_equal(doc.mask, expected)
    doc.delete_shape(0)
    expected, _ = rasterize([moved], H, W)
    assert np.array_equal(doc.mask, expected)
    for _ in range(4):
        doc.undo()
    assert (doc.mask == 255).all() and doc.shapes == []


def test_undo_redo_byte_identical_random_edits(doc: AnnotationDocument) -> None:
    rng = np.random.default_rng(0)
    states = [doc.mask.copy()]
    for _ in range(250):
        kind = rng.integers(3)
        x, y = rng.integers(0, W), rng.integers(0, H)
        if kind == 0:
            doc.paint_disk(x, y, float(rng.uniform(0.5, 6)), int(rng.integers(0, 4)))
        elif kind == 1:
            doc.paint_stroke(x, y, rng.integers(0, W), rng.integers(0, H), 2, int(rng.integers(4)))
        else:
            doc.fill(x, y, int(rng.integers(0, 4)))
        if doc.undo_depth == len(states):  # the edit changed something
            states.append(doc.mask.copy())
    n = len(states) - 1
    assert n >= 200
    for i in range(n, 0, -1):
        assert np.array_equal(doc.mask, states[i])
        doc.undo()
    assert np.array_equal(doc.mask, states[0]) and not doc.can_undo
    for i in range(1, n + 1):
        doc.redo()
        assert np.array_equal(doc.mask, states[i])
    # diffs, not full copies: the stored patches are much smaller than n full masks
    assert sum(s.nbytes for s in doc._undo) < n * doc.mask.nbytes


def test_new_edit_clears_redo_and_noop_edit_adds_no_step(doc: AnnotationDocument) -> None:
    doc.paint_disk(10, 10, 2, 1)
    doc.undo()
    assert doc.can_redo
    doc.paint_disk(10, 10, 2, 255)  # already 255: nothing changes
    assert doc.can_redo and not doc.can_undo
    doc.paint_disk(10, 10, 2, 2)
    assert not doc.can_redo


def test_undo_limit_drops_oldest(project: Project) -> None:
    doc = AnnotationDocument(project, next(iter(project.images)), max_undo=200)
    for i in range(230):
        doc.paint_disk(i % W, (i // W) * 3, 0, 1)
    assert doc.undo_depth == 200


def test_save_writes_mask_shapes_and_status(project: Project, doc: AnnotationDocument) -> None:
    doc.add_shape({"kind": "rect", "x": 1, "y": 1, "w": 5, "h": 5, "class_id": 1})
    doc.save()
    assert not doc.dirty
    iid = doc.image_id
    assert np.array_equal(project.read_mask(iid), doc.mask)
    assert project.read_shapes(iid) == doc.shapes
    assert project.images[iid].status == "labelled"
    again = AnnotationDocument(project, iid)
    assert np.array_equal(again.mask, doc.mask) and not again.from_prediction


def test_failed_save_stays_dirty(
    project: Project, doc: AnnotationDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc.paint_disk(5, 5, 2, 1)

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project, "write_mask", full)  # after the shapes were staged
    with pytest.raises(OSError):
        doc.save()
    assert doc.dirty and doc.mask[5, 5] == 1
    assert not project.has_mask(doc.image_id)
    assert not list((project.root / "shapes").iterdir())  # the staged shapes are gone
    monkeypatch.undo()
    # The same with the disk filling up inside the real mask write.
    monkeypatch.setattr("fashionseg_gui.core.project_files.atomic_write_bytes", full)
    with pytest.raises(OSError):
        doc.save()
    assert doc.dirty and not project.has_mask(doc.image_id)
    assert not list((project.root / "shapes").iterdir())


def test_read_only_save_raises(project: Project, doc: AnnotationDocument) -> None:
    doc.paint_disk(5, 5, 2, 1)
    project._set_read_only("test")
    with pytest.raises(ReadOnlyError):
        doc.save()
    assert doc.dirty


def test_prediction_becomes_corrected(project: Project) -> None:
    iid = next(iter(project.images))
    ids = np.zeros((H, W), np.uint8)
    ids[10:40, 20:50] = 1
    atomic_save_npz(
        project.prediction_path(iid), class_ids=ids, confidence=np.ones((H, W), np.float16)
    )
    doc = AnnotationDocument(project, iid)
    assert doc.from_prediction and np.array_equal(doc.mask, ids)
    doc.paint_disk(0, 0, 1, 2)
    doc.save()
    assert project.images[iid].status == "corrected"
    assert project.read_mask(iid)[0, 0] == 2 and project.read_mask(iid)[20, 30] == 1
