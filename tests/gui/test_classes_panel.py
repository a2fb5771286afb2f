"""Classes panel: list, current class, visibility, add / rename / recolour / delete, style."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QColorDialog, QInputDialog, QMessageBox  # noqa: E402

from fashionseg_gui.core.project import IGNORE, ImageRecord, Project  # noqa: E402
from fashionseg_gui.views.classes_panel import ClassesPanel, DeleteClassDialog  # noqa: E402


@pytest.fixture
def project(tmp_path: Path):
    p = Project.create(tmp_path / "p")  # background, bohemian, preppy, streetwear
    p.images["a"] = ImageRecord(id="a", file="a.png", width=4, height=2)
    p.save()
    yield p
    p.close()


@pytest.fixture
def panel(qtbot, project):
    w = ClassesPanel()
    qtbot.addWidget(w)
    w.set_project(project)
    return w


def test_lists_classes_with_shortcuts_and_current(panel, project):
    assert panel.list.count() == 4
    assert panel.list.item(2).text().startswith("preppy")
    assert panel.list.item(2).text().endswith("2")
    assert panel.current_class() == 1
    assert "bohemian" in panel.current_label.text()


def test_select_and_visibility_signals(qtbot, panel):
    with qtbot.waitSignal(panel.sigCurrentClassChanged) as b:
        assert panel.set_current_class(3)
    assert b.args == [3] and "streetwear" in panel.current_label.text()
    assert not panel.set_current_class(9)
    with qtbot.waitSignal(panel.sigClassVisibilityChanged) as b:
        panel.list.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert b.args == [2, False] and not panel.is_visible(2)


def test_add_and_rename(panel, project, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("denim", True))
    panel.add_class()
    assert project.classes[-1].name == "denim" and panel.list.count() == 5
    assert panel.current_class() == 4
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("jeans", True))
    panel.list.itemDoubleClicked.emit(panel.list.item(4))
    assert project.classes[4].name == "jeans"
    assert panel.list.item(4).text().startswith("jeans")


def test_duplicate_name_refused_with_message(qtbot, panel, project, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Preppy", True))
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    with qtbot.waitSignal(panel.sigError):
        panel.add_class()
    assert len(project.classes) == 4 and "exists already" in warned[0]


def test_recolor(panel, project, monkeypatch):
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#123456"))
    panel.set_current_class(2)
    panel.recolor_current()
    assert project.classes[2].color == "#123456"


def test_delete_moves_pixels_to_chosen_class(qtbot, panel, project, monkeypatch):
    project.write_mask("a", np.array([[0, 1, 2, 3], [3, 2, 1, IGNORE]], np.uint8))
    panel.set_current_class(2)  # preppy -> its pixels become bohemian (1)
    monkeypatch.setattr(DeleteClassDialog, "ask", classmethod(lambda cls, p, c, parent: (True, 1)))
    worker = panel.delete_current()  # a job: the masks are rewritten off the GUI thread
    assert worker is not None and panel.is_busy() and not panel.delete_btn.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=10000)
    assert [c.name for c in project.classes] == ["background", "bohemian", "streetwear"]
    assert project.read_mask("a").tolist() == [[0, 1, 1, 2], [2, 1, 1, IGNORE]]
    assert panel.list.count() == 3


def test_delete_to_unlabelled_and_cancel(qtbot, panel, project, monkeypatch):
    project.write_mask("a", np.array([[0, 1, 2, 3], [3, 2, 1, 0]], np.uint8))
    panel.set_current_class(1)
    monkeypatch.setattr(
        DeleteClassDialog, "ask", classmethod(lambda cls, p, c, parent: (False, None))
    )
    assert panel.delete_current() is None
    assert len(project.classes) == 4
    monkeypatch.setattr(
        DeleteClassDialog, "ask", classmethod(lambda cls, p, c, parent: (True, None))
    )
    assert panel.delete_current() is not None
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=10000)
    assert project.read_mask("a").tolist() == [[0, IGNORE, 1, 2], [2, 1, IGNORE, 0]]


def test_delete_dialog_offers_other_classes(qtbot, project):
    dlg = DeleteClassDialog(project, 2)
    qtbot.addWidget(dlg)
    texts = [dlg.combo.itemText(i) for i in range(dlg.combo.count())]
    assert texts[0].startswith("Unlabelled") and "preppy" not in texts
    assert dlg.target() is None
    dlg.combo.setCurrentIndex(2)
    assert dlg.target() == 1


def test_background_cannot_be_deleted(panel):
    panel.set_current_class(0)
    assert not panel.delete_btn.isEnabled()


def test_image_style(panel, project, monkeypatch):
    panel.set_image("a")
    panel.style_combo.setCurrentText("preppy")
    panel.style_combo.activated.emit(panel.style_combo.currentIndex())
    assert project.images["a"].style == "preppy"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("grunge", True))
    panel.style_combo.setCurrentIndex(panel.style_combo.count() - 1)
    panel.style_combo.activated.emit(panel.style_combo.currentIndex())
    assert project.images["a"].style == "grunge"
    assert panel.style_combo.currentText() == "grunge"
    panel.style_combo.setCurrentText("none")
    panel.style_combo.activated.emit(panel.style_combo.currentIndex())
    assert project.images["a"].style is None


def test_read_only_project_disables_edits(qtbot, project, tmp_path):
    ro = Project.open(project.root, read_only=True)
    w = ClassesPanel()
    qtbot.addWidget(w)
    w.set_project(ro)
    assert not w.add_btn.isEnabled() and not w.delete_btn.isEnabled()


def test_selected_class_swatch_keeps_its_exact_colour(qtbot, panel, project):
    """The selection highlight must not tint the current class's swatch grey or blue."""
    panel.resize(280, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_current_class(2)
    panel.list.setFocus()
    qtbot.wait(20)
    item = panel.list.item(2)
    assert item.isSelected()
    rect = panel.list.visualItemRect(item)
    img = panel.list.viewport().grab(rect).toImage()
    want = QColor(project.classes[2].color)
    found = {
        img.pixelColor(x, y).name()
        for x in range(min(40, img.width()))
        for y in range(img.height())
    }
    assert want.name() in found, (want.name(), sorted(found)[:20])
