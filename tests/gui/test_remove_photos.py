"""Removing photos from the real window: Delete on the image list, its context menu,
multi-select, a job for many photos, the Trash dialog (restore, empty); the user's original
files are never touched. And the status-bar position follows the filtered list."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views import main_window as mw  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "projects" / "demo"


@pytest.fixture
def originals(tmp_path: Path) -> list[Path]:
    """Photos outside the project (the user's own files), imported by the fixture below."""
    folder = tmp_path / "my photos"
    folder.mkdir()
    paths = []
    rng = np.random.default_rng(1)
    for n in range(30):
        path = folder / f"look_{n:02d}.png"
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def project_root(tmp_path: Path, originals) -> Path:
    root = tmp_path / "proj"
    project = Project.create(root)
    for path in originals:
        assert project.add_image_file(path).ok
    project.save()
    ids = list(project.images)
    mask = np.zeros((24, 32), np.uint8)
    mask[:12] = 1
    project.write_mask(ids[0], mask)
    project.close()
    return root


@pytest.fixture
def window(qtbot, project_root):
    w = MainWindow(QSettings())  # the real editor
    qtbot.addWidget(w)
    assert w.open_project(project_root)
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    yield w
    w.close()


@pytest.fixture
def yes(monkeypatch):
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2] if len(args) > 2 else "")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    return asked


def _bytes(paths):
    return [p.read_bytes() for p in paths]


def test_delete_key_on_the_list_moves_the_current_photo_to_the_trash(qtbot, window, yes, originals):
    project = window.project
    before = _bytes(originals)
    ids = list(project.images)
    first = ids[0]
    assert window.editor.current_image_id() == first
    copy = project.image_path(first)
    window.browser.view.setFocus()
    qtbot.waitUntil(window.browser.view.hasFocus)
    qtbot.keyClick(window.browser.view, Qt.Key.Key_Delete)
    assert yes and "trash" in yes[0]
    assert first not in project.images
    assert window.browser.visible_ids() == ids[1:]
    # the next photo took its place, in the list and in the editor
    assert window.browser.current_image_id() == ids[1]
    assert window.editor.current_image_id() == ids[1]
    assert window.position_label.text().startswith("Image 1 / 29")
    assert not copy.exists()  # the project's copy (and its mask) are in the trash
    assert [t.image_id for t in project.trash_entries()] == [first]
    assert _bytes(originals) == before  # the user's own files are untouched
    reopened = Project.open(project.root, read_only=True)
    assert first not in reopened.images
    reopened.close()


def test_delete_in_the_editor_does_not_remove_the_photo(qtbot, window, yes):
    project = window.project
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_Delete)
    assert len(project.images) == 30 and not yes


def test_cancel_keeps_the_photos(qtbot, window, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    window.browser.view.setFocus()
    qtbot.keyClick(window.browser.view, Qt.Key.Key_Delete)
    assert len(window.project.images) == 30


def test_context_menu_removes_a_multi_selection(qtbot, window, yes):
    project = window.project
    ids = list(project.images)
    view = window.browser.view
    view.setCurrentIndex(window.browser.proxy.index(2, 0))
    for row in (3, 5):  # ctrl-click style additions
        view.selectionModel().select(
            window.browser.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select
        )
    assert window.browser.selected_ids() == [ids[2], ids[3], ids[5]]
    menu = window.browser.context_menu()
    action = next(a for a in menu.actions() if a.text().startswith("Remove 3 photos"))
    action.trigger()
    assert "these 3 photos" in yes[0]
    assert [i for i in (ids[2], ids[3], ids[5]) if i in project.images] == []
    assert len(project.images) == 27
    assert sorted(t.image_id for t in project.trash_entries()) == sorted([ids[2], ids[3], ids[5]])


def test_many_photos_are_removed_in_a_job(qtbot, window, yes, monkeypatch, originals):
    project = window.project
    before = _bytes(originals)
    ids = list(project.images)
    monkeypatch.setattr(mw, "REMOVE_IN_JOB", 5)
    calls = []
    real = project.remove_images

    def spy(chosen):
        import threading

        calls.append(threading.current_thread() is threading.main_thread())
        return real(chosen)

    monkeypatch.setattr(project, "remove_images", spy)
    window.browser.set_selected_ids(ids[:25])
    with qtbot.waitSignal(window.sigJobFinished, timeout=20000) as blocker:
        worker = window.browser.request_remove()  # the Delete key's slot
        assert worker is None  # the window runs the job
    assert blocker.args == ["remove"]
    assert calls == [False]  # off the GUI thread
    qtbot.waitUntil(lambda: len(window.browser.visible_ids()) == 5, timeout=5000)
    assert window.browser.visible_ids() == ids[25:]
    assert any("moved to the project trash" in line for line in window.last_report_lines)
    assert _bytes(originals) == before


def test_trash_dialog_restores_selected_and_empties_with_confirmation(
    qtbot, window, yes, originals
):
    project = window.project
    ids = list(project.images)
    mask_before = project.read_mask(ids[0])
    window.browser.set_selected_ids(ids[:3])
    window.browser.request_remove()
    assert len(project.images) == 27
    window.trash_menu_action.trigger()  # Edit ▸ Trash…
    dlg = window.trash_dialog
    assert dlg is not None and dlg.isVisible()
    assert sorted(dlg.trashed_ids()) == sorted(ids[:3])
    assert dlg.list.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert dlg.list.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    dlg.select_ids([ids[0]])
    qtbot.mouseClick(dlg.restore_button, Qt.MouseButton.LeftButton)
    assert ids[0] in project.images
    assert np.array_equal(project.read_mask(ids[0]), mask_before)  # its mask came back
    qtbot.waitUntil(lambda: ids[0] in window.browser.visible_ids(), timeout=5000)
    assert sorted(dlg.trashed_ids()) == sorted(ids[1:3])
    before = _bytes(originals)
    with qtbot.waitSignal(window.jobs.jobRemoved, timeout=10000):
        qtbot.mouseClick(dlg.empty_button, Qt.MouseButton.LeftButton)
    assert "for good" in yes[-1]
    qtbot.waitUntil(lambda: dlg.trashed_ids() == [], timeout=5000)
    assert project.trash_entries() == []
    assert ids[1] not in project.images and ids[2] not in project.images
    assert _bytes(originals) == before  # emptying never touches the user's files
    assert not dlg.empty_button.isEnabled()


def test_context_menu_restore_from_trash_opens_the_dialog(qtbot, window, yes):
    action = next(
        a for a in window.browser.context_menu().actions() if a.text() == "Restore from trash…"
    )
    action.trigger()
    assert window.trash_dialog is not None and window.trash_dialog.isVisible()
    assert window.trash_dialog.trashed_ids() == []
    assert "empty" in window.trash_dialog.info.text()


def test_status_bar_position_follows_the_filtered_list(qtbot, window):
    project = window.project
    ids = list(project.images)
    assert window.browser.select_image(ids[0])
    assert window.position_label.text().startswith("Image 1 / 30")
    browser = window.browser
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("labelled"))
    assert browser.visible_ids() == [ids[0]]
    assert window.position_label.text().startswith("Image 1 / 1")
    browser.status_combo.setCurrentIndex(0)
    browser.search.setText("look_0")
    assert window.position_label.text().startswith("Image 1 / 10")
    browser.search.setText("look_29")
    assert window.position_label.text().startswith("Image 0 / 1")  # the open one is hidden


def test_demo_copy_remove_and_restore_round_trip(qtbot, tmp_path, yes):
    if not (DEMO / "project.json").is_file():
        pytest.skip("projects/demo is not present")
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fashionseg.lock", ".cache"))
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    assert w.open_project(root)
    ids = list(w.project.images)
    w.browser.set_selected_ids(ids[1:3])
    w.browser.request_remove()
    dlg = w.show_trash()
    dlg.select_ids(ids[1:3])
    assert sorted(dlg.restore_selected()) == sorted(ids[1:3])  # one removal: restored as one
    assert list(w.project.images) != [] and set(ids) == set(w.project.images)
    w.close()
