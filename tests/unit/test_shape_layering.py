"""Layering of paint and vector shapes in AnnotationDocument: later edits win; editing a shape
changes only the pixels it gains or loses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.core.annotation import AnnotationDocument
from fashionseg_gui.core.project import Project
from fashionseg_gui.core.shapes import rasterize

H, W = 60, 80
SQUARE = {"kind": "polygon", "points": [[10, 10], [40, 10], [40, 40], [10, 40]], "class_id": 1}


@pytest.fixture
def doc(tmp_path: Path) -> AnnotationDocument:
    proj = Project.create(tmp_path / "p")
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / "photo.png")
    assert proj.add_image_file(tmp_path / "photo.png").ok
    yield AnnotationDocument(proj, next(iter(proj.images)))
    proj.close()


def _fp(shape: dict) -> np.ndarray:
    return rasterize([dict(shape, class_id=1)], H, W, ignore_value=0)[0] == 1


def test_vertex_move_keeps_later_paint_and_changes_only_gained_and_lost(doc) -> None:
    doc.add_shape(SQUARE)
    doc.paint_disk(25, 25, 4, 2)  # paint over the middle
    doc.paint_disk(38, 38, 2, 3)  # paint in the corner that will be lost
    doc.paint_disk(14, 14, 2, 255)  # an erased hole
    before = doc.mask.copy()
    moved = {**SQUARE, "points": [[10, 10], [40, 10], [55, 25], [10, 40]]}
    doc.update_shape(0, moved)
    gained, lost = _fp(moved) & ~_fp(SQUARE), _fp(SQUARE) & ~_fp(moved)
    assert gained.any() and lost.any()
    assert (doc.mask[gained] == 1).all()
    assert (doc.mask[lost & (before == 1)] == 255).all()  # the shape's own pixels go
    assert doc.mask[38, 38] == 3  # paint in the lost corner stays (it was made later)
    rest = ~gained & ~(lost & (before == 1))
    assert np.array_equal(doc.mask[rest], before[rest])
    assert doc.mask[25, 25] == 2 and doc.mask[14, 14] == 255
    doc.undo()
    assert np.array_equal(doc.mask, before) and doc.shapes[0] == SQUARE


def test_lost_pixels_fall_back_to_shapes_beneath_and_shapes_above_win(doc) -> None:
    below = {"kind": "rect", "x": 30, "y": 30, "w": 20, "h": 20, "class_id": 2}
    above = {"kind": "rect", "x": 0, "y": 0, "w": 15, "h": 15, "class_id": 3}
    doc.add_shape(below)
    doc.add_shape(SQUARE)
    doc.add_shape(above)
    shrunk = {**SQUARE, "points": [[5, 5], [30, 10], [30, 30], [10, 30]]}
    doc.update_shape(1, shrunk)
    assert doc.mask[35, 35] == 2  # lost by the square: the rect beneath shows again
    assert doc.mask[20, 38] == 255  # lost, nothing beneath
    assert doc.mask[6, 6] == 3  # gained by the square but covered by the rect above
    assert np.array_equal(doc.mask, rasterize(doc.shapes, H, W)[0])  # no paint: same as redraw


def test_class_change_recolours_the_shape_but_not_paint_over_it(doc) -> None:
    doc.add_shape(SQUARE)
    doc.paint_disk(25, 25, 3, 2)
    doc.update_shape(0, {**SQUARE, "class_id": 3})
    assert doc.mask[12, 12] == 3 and doc.mask[25, 25] == 2
