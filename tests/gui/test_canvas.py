"""CanvasView: overlay colours, exact labels, zoom at the cursor, pan, fit, pixel snapshot."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QTransform

from fashionseg_gui.core.annotation import AnnotationDocument
from fashionseg_gui.core.project import Project
from fashionseg_gui.views.canvas import CanvasView

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "snapshots"
H, W = 30, 40


@pytest.fixture
def doc(tmp_path: Path) -> AnnotationDocument:
    proj = Project.create(tmp_path / "p")
    yy, xx = np.mgrid[0:H, 0:W]
    photo = np.stack([xx * 6, yy * 8, np.full_like(xx, 120)], axis=-1).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert proj.add_image_file(tmp_path / "photo.png").ok
    d = AnnotationDocument(proj, next(iter(proj.images)))
    d.mask[:, :] = 0
    d.mask[5:20, 5:18] = 1
    d.mask[12:28, 20:36] = 2
    d.mask[0:4, 30:40] = 255
    d.add_shape({"kind": "polygon", "points": [[22, 3], [35, 6], [28, 10]], "class_id": 3})
    yield d
    proj.close()


def _shown_canvas(qtbot, doc: AnnotationDocument) -> CanvasView:
    c = CanvasView()
    qtbot.addWidget(c)
    c.setFixedSize(200, 150)
    c.set_classes(doc.project.classes)
    c.set_document(doc, doc.project.read_image(doc.image_id))
    c.show()
    qtbot.waitExposed(c)
    return c


@pytest.fixture
def canvas(qtbot, doc: AnnotationDocument) -> CanvasView:
    return _shown_canvas(qtbot, doc)


def _render(c: CanvasView) -> np.ndarray:
    img = c.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def _pin_view(c: CanvasView) -> None:
    c.setTransform(QTransform.fromScale(4, 4))
    c.centerOn(QPointF(W / 2, H / 2))


@pytest.mark.parametrize(("name", "outline"), [("canvas_overlay", False), ("canvas_outline", True)])
def test_snapshot(
    qtbot, canvas: CanvasView, update_snapshots: bool, name: str, outline: bool
) -> None:
    canvas.set_tool("select")
    canvas.set_outline(outline)
    canvas.shapes_item.selected = 0
    _pin_view(canvas)
    qtbot.wait(10)
    got = _render(canvas)
    ref = SNAPSHOTS / f"{name}.png"
    if update_snapshots or not ref.exists():
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        Image.fromarray(got).save(ref)
        pytest.skip(f"wrote {ref.name}; check it and commit it")
    want = np.asarray(Image.open(ref).convert("RGB"))
    assert got.shape == want.shape
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16)).max(axis=-1)
    assert diff.mean() < 1.0 and (diff > 24).mean() < 0.01, (
        f"{name} differs from the reference (mean {diff.mean():.2f}); "
        "rerun with --update-snapshots if the change is intended"
    )


def test_overlay_buffer_is_lut_of_mask(canvas: CanvasView, doc: AnnotationDocument) -> None:
    rgba = canvas.overlay_rgba()
    assert np.array_equal(rgba, canvas.colour_table()[doc.mask])
    assert rgba[1, 35, 3] == 0  # unlabelled: transparent
    r, g, b = doc.project.classes[1].rgb
    a = canvas.opacity
    want = (round(r * a), round(g * a), round(b * a), round(255 * a))
    assert tuple(rgba[10, 10]) == want == canvas.class_rgba(1)
    region = doc.paint_disk(10, 10, 3, 2)
    canvas.refresh(region)
    assert tuple(canvas.overlay_rgba()[10, 10]) == canvas.class_rgba(2) != want
    assert np.array_equal(canvas.overlay_rgba(), canvas.colour_table()[doc.mask])
    assert set(np.unique(doc.mask)) <= {0, 1, 2, 3, 255}  # labels stay exact ids
    with pytest.raises(ValueError):
        canvas.overlay_rgba()[0, 0] = 0  # a read-only view, not a way around the document


def test_outline_only_marks_boundaries(canvas: CanvasView, doc: AnnotationDocument) -> None:
    canvas.set_outline(True)
    alpha = canvas.overlay_rgba()[..., 3] > 0
    assert alpha[5, 10] and alpha[19, 10] and not alpha[12, 10] and alpha[12, 5]
    region = doc.paint_disk(10, 12, 1, 3)  # an edit in outline mode updates outlines around it
    canvas.refresh(region)
    alpha = canvas.overlay_rgba()[..., 3] > 0
    assert alpha[12, 10] or alpha[11, 10]


def test_zoom_keeps_point_under_cursor(qtbot, canvas: CanvasView) -> None:
    anchor = QPoint(60, 50)
    before = canvas.mapToScene(anchor)
    z = canvas.zoom
    canvas.zoom_by(2.0, anchor)
    after = canvas.mapToScene(anchor)
    assert canvas.zoom == pytest.approx(2 * z)
    assert abs(after.x() - before.x()) < 0.5 / canvas.zoom + 1e-6
    assert abs(after.y() - before.y()) < 0.5 / canvas.zoom + 1e-6
    canvas.zoom_by(1e9)
    assert canvas.zoom == pytest.approx(64.0)
    canvas.zoom_100()
    assert canvas.zoom == 1.0
    canvas.fit()
    assert canvas.zoom == pytest.approx(min(200 / W, 150 / H), rel=0.1)


def test_wheel_zoom_and_middle_button_pan(qtbot, canvas: CanvasView) -> None:
    from PySide6.QtCore import QPointF as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    z = canvas.zoom
    pos = P(100, 75)
    ev = QWheelEvent(
        pos,
        canvas.viewport().mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), ev)
    assert canvas.zoom > z
    before = canvas.mapToScene(QPoint(100, 75))
    mask_before = canvas.doc.mask.copy()
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=QPoint(100, 75))
    qtbot.mouseMove(vp, QPoint(130, 95))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=QPoint(130, 95))
    after = canvas.mapToScene(QPoint(100, 75))
    assert after.x() < before.x() and after.y() < before.y()
    assert np.array_equal(canvas.doc.mask, mask_before)  # panning edits nothing
    assert canvas.doc.undo_depth == 1


def test_space_drag_pans_instead_of_painting(qtbot, canvas: CanvasView) -> None:
    canvas.set_tool("brush")
    canvas.setFocus()
    vp = canvas.viewport()
    before_mask = canvas.doc.mask.copy()
    before = canvas.mapToScene(QPoint(100, 75))
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(100, 75))
    qtbot.mouseMove(vp, QPoint(120, 75))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(120, 75))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert np.array_equal(canvas.doc.mask, before_mask)
    assert canvas.mapToScene(QPoint(100, 75)).x() < before.x()


def test_brush_cursor_outline_follows_size(qtbot, canvas: CanvasView) -> None:
    canvas.set_tool("brush")
    canvas.set_brush_size(12)
    assert canvas.cursor_item.rect().width() == 12
    qtbot.mouseMove(canvas.viewport(), QPoint(90, 70))
    assert canvas.cursor_item.isVisible()
    assert canvas.cursor_item.pos() == canvas.mapToScene(QPoint(90, 70))
    canvas.set_tool("polygon")
    assert not canvas.cursor_item.isVisible()


def test_empty_image_layers_are_not_painted(qtbot, doc: AnnotationDocument, monkeypatch) -> None:
    """The review layers (heat-map, disagreement) and the GrabCut preview are empty on most
    photos: the view must not call their paint() on every brush repaint."""
    from fashionseg_gui.views.canvas.items import ImageItem

    painted: list[float] = []
    real = ImageItem.paint

    def spy(self, painter, option, widget=None):  # noqa: ANN001
        painted.append(self.zValue())
        return real(self, painter, option, widget)

    monkeypatch.setattr(ImageItem, "paint", spy)  # before the items exist (PySide binds then)
    canvas = _shown_canvas(qtbot, doc)
    painted.clear()
    canvas.viewport().grab()  # renders the scene now
    assert painted == [canvas.overlay_item.zValue()]
    canvas.set_heatmap(np.full((H, W), 0.5, np.float32))
    painted.clear()
    canvas.viewport().grab()  # renders the scene now
    assert painted == [canvas.heat_item.zValue()]  # the heat-map hides the class overlay
    canvas.set_heatmap(None)
    painted.clear()
    canvas.viewport().grab()  # renders the scene now
    assert painted == [canvas.overlay_item.zValue()]


def test_a_document_shown_again_keeps_the_zoom_and_centre_or_the_fit(qtbot, canvas) -> None:
    """The editor shows a photo again when its files change on disk (a prediction arrived):
    a zoomed view keeps its zoom and centre, a fitted one fits again."""
    state = canvas.view_state()
    assert state[2]  # a new document is fitted
    canvas.set_document(canvas.doc, None)
    canvas.restore_view(state)
    assert canvas.view_state()[2]
    canvas.zoom_by(3.0, QPoint(40, 30))
    zoom, centre = canvas.zoom, canvas.mapToScene(canvas.viewport().rect().center())
    state = canvas.view_state()
    canvas.set_document(canvas.doc, None)  # fits again
    assert canvas.zoom != pytest.approx(zoom)
    canvas.restore_view(state)
    after = canvas.mapToScene(canvas.viewport().rect().center())
    assert canvas.zoom == pytest.approx(zoom) and not canvas.view_state()[2]
    assert abs(after.x() - centre.x()) <= 1 and abs(after.y() - centre.y()) <= 1
