"""Drag and drop onto the window: files, folders and VIA files imported in a worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fake_editor import FakeEditor  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views import import_dialogs  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402
from fashionseg_gui.workers.importer import expand_paths  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BAD = SHARED_DATA / "bad_inputs"


@pytest.fixture
def window(qtbot, tmp_path):
    if not BAD.is_dir():
        pytest.skip("../shared/data is not present")
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    assert w.create_project(tmp_path / "proj")
    w.show()
    yield w
    w.close()


def drop(window: MainWindow, paths: list[Path]) -> None:
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        md,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    ev = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        md,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, ev)
    assert ev.isAccepted()


def test_drop_files_imports_good_and_reports_refused(qtbot, window):
    files = [BAD / "base_64x48.png", BAD / "not_an_image.jpg", BAD / "gray8.png"]
    with qtbot.waitSignal(window.sigJobFinished, timeout=30000) as b:
        drop(window, files)
    assert b.args == ["import"]
    project = window.project
    assert sorted(r.original_name for r in project.images.values()) == [
        "base_64x48.png",
        "gray8.png",
    ]
    report = "\n".join(window.last_report_lines)
    assert "Imported: 2" in report and "Refused: 1" in report
    refused = [ln for ln in window.last_report_lines if "not_an_image.jpg" in ln]
    assert refused and "not an image" in refused[0].lower()
    assert window.report_dialog is not None and window.report_dialog.isVisible()
    assert window.browser.model.rowCount() == 2  # the browser followed the worker's events
    assert not window.progress.isVisible()
    assert Project.open(project.root, read_only=True).images.keys() == project.images.keys()


def test_drop_folder_recursive_and_duplicates(qtbot, window, tmp_path):
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(BAD / "base_64x48.png", folder / "a.png")
    shutil.copy(BAD / "base_64x48.png", folder / "sub" / "same_bytes.png")
    shutil.copy(BAD / "rgba.png", folder / "sub" / "b.png")
    (folder / "notes.txt").write_text("not an image")
    with qtbot.waitSignal(window.sigJobFinished, timeout=30000):
        drop(window, [folder])
    assert len(window.project.images) == 2
    report = "\n".join(window.last_report_lines)
    assert "Duplicates (already in the project): 1" in report
    assert "notes.txt" not in report


def test_drop_via_asks_attribute_and_imports(qtbot, window, monkeypatch):
    via_json = SHARED_DATA / "via" / "01_rice_leaf_via1" / "via_region_data.json"
    if not via_json.is_file():
        pytest.skip("VIA sample missing")
    seen = {}

    def fake_exec(dlg):
        seen["attrs"] = [dlg.attr_combo.itemData(i) for i in range(dlg.attr_combo.count())]
        seen["rows"] = dlg.table.rowCount()
        dlg.set_choice("bacteria", import_dialogs.SKIP)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(import_dialogs.ViaImportDialog, "exec", fake_exec)
    with qtbot.waitSignal(window.sigJobFinished, timeout=120000):
        drop(window, [via_json])
    assert seen == {"attrs": ["class_id"], "rows": 3}
    names = [c.name for c in window.project.classes]
    assert "brown_spot" in names and "leaf_smut" in names and "bacteria" not in names
    assert window.project.images  # the photos next to the VIA file came with it
    assert any("VIA annotations" in ln for ln in window.last_report_lines)


def test_via_dialog_label_map(qtbot):
    from collections import Counter

    dlg = import_dialogs.ViaImportDialog(
        "x.json",
        {"type": Counter({"Preppy": 3, "denim": 2, "junk": 1})},
        "type",
        ["background", "bohemian", "preppy"],
    )
    qtbot.addWidget(dlg)
    assert dlg.attribute() == "type"
    assert dlg.choice("Preppy") == 2  # matched to the class by name, case-insensitively
    assert dlg.choice("denim") == import_dialogs.NEW_CLASS
    dlg.set_choice("junk", import_dialogs.SKIP)
    assert dlg.label_map() == {"Preppy": 2, "junk": None}


def test_unreadable_via_is_reported_not_fatal(qtbot, window):
    drop(window, [BAD / "via_not_json.json"])
    qtbot.waitUntil(lambda: bool(window.last_report_lines), timeout=5000)
    assert any("via_not_json.json" in ln for ln in window.last_report_lines)
    assert window.project.images == {}


def test_cancel_stops_between_files(qtbot, window, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    from PIL import Image

    for i in range(40):
        Image.new("RGB", (64, 48), (i * 5, 0, 0)).save(folder / f"{i:02d}.png")
    worker = window.import_paths([folder])
    assert worker is not None and window.job_running()
    window.cancel_button.click()
    qtbot.waitUntil(lambda: not window.job_running(), timeout=30000)
    assert len(window.project.images) <= 40


def test_expand_paths_sorts_kinds(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.JPG").write_bytes(b"")
    (tmp_path / "d" / "readme.md").write_text("")
    (tmp_path / "a.json").write_text("{}")
    plan = expand_paths([tmp_path / "d", tmp_path / "a.json", tmp_path / "missing.png"])
    assert [p.name for p in plan.images] == ["x.JPG"]
    assert [p.name for p in plan.via] == ["a.json"]
    assert plan.ignored and "missing.png" in plan.ignored[0]


def test_a_dropped_folder_is_walked_in_the_import_job(qtbot, window, tmp_path, monkeypatch):
    """Listing a big dropped folder took seconds on the GUI thread; it runs in the job."""
    import threading

    from fashionseg_gui.workers import importer

    folder = tmp_path / "deep"
    (folder / "a" / "b").mkdir(parents=True)
    shutil.copy(BAD / "base_64x48.png", folder / "a" / "b" / "x.png")
    walked_in: list[int] = []
    real_walk = importer.os.walk

    def spy_walk(top, *args, **kwargs):
        walked_in.append(threading.get_ident())
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(importer.os, "walk", spy_walk)
    with qtbot.waitSignal(window.sigJobFinished, timeout=30000):
        drop(window, [folder])
    assert walked_in and threading.get_ident() not in walked_in
    assert len(window.project.images) == 1


def _drop_on(target, pos: QPoint, paths: list[Path]) -> tuple[bool, bool, bool]:
    """A real drag (enter, move, drop) of ``paths`` at ``pos`` of ``target`` (a widget, or the
    window's QWindow, which finds the widget under the point as a platform drag does)."""
    from PySide6.QtGui import QDragMoveEvent

    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(target, enter)
    move = QDragMoveEvent(pos, *args)
    QApplication.sendEvent(target, move)
    ev = QDropEvent(QPointF(pos), *args)
    QApplication.sendEvent(target, ev)
    return enter.isAccepted(), move.isAccepted(), ev.isAccepted()


@pytest.fixture
def real_window(qtbot, tmp_path):
    if not BAD.is_dir():
        pytest.skip("../shared/data is not present")
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    project = Project.create(tmp_path / "proj")
    assert project.add_image_file(BAD / "gray8.png").ok
    project.save()
    project.close()
    assert w.open_project(tmp_path / "proj")
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_files_dropped_on_the_photo_are_imported(qtbot, real_window):
    """Issue: dropping files on the photo (the canvas, 60 % of the window) did nothing."""
    w = real_window
    assert w.editor.doc is not None  # a photo is open on the canvas
    viewport = w.editor.canvas.viewport()
    centre = viewport.rect().center()
    with qtbot.waitSignal(w.sigJobFinished, timeout=30000):
        assert _drop_on(viewport, centre, [BAD / "base_64x48.png"]) == (True, True, True)
    assert sorted(r.original_name for r in w.project.images.values()) == [
        "base_64x48.png",
        "gray8.png",
    ]
    assert w.editor.doc.mask.shape == w.project.read_mask(w.editor.current_image_id()).shape
    assert not w.editor.doc.dirty  # the drop did not paint or move anything


@pytest.mark.parametrize("where", ["canvas", "browser", "classes", "train", "search field"])
def test_a_platform_drop_anywhere_in_the_window_imports(qtbot, real_window, where):
    """Through the window's QWindow, as a desktop drag arrives: Qt picks the widget under the
    cursor (the canvas viewport, a list, a text field of the Train panel)."""
    w = real_window
    if where == "train":
        w.docks.train.raise_()
        qtbot.waitUntil(lambda: w.train_panel is not None, timeout=5000)
        qtbot.waitUntil(lambda: w.train_panel.epochs.isVisible(), timeout=5000)
    widget = {
        "canvas": lambda: w.editor.canvas.viewport(),
        "browser": lambda: w.browser.view.viewport(),
        "classes": lambda: w.classes.list.viewport(),
        "train": lambda: w.train_panel.epochs,
        "search field": lambda: w.browser.search,
    }[where]()
    assert widget.isVisible()
    pos = w.mapFromGlobal(widget.mapToGlobal(widget.rect().center()))
    assert w.childAt(pos) is widget or widget.isAncestorOf(w.childAt(pos))
    with qtbot.waitSignal(w.sigJobFinished, timeout=30000):
        accepted = _drop_on(w.windowHandle(), pos, [BAD / "rgba.png"])
    assert accepted == (True, True, True)
    assert "rgba.png" in {r.original_name for r in w.project.images.values()}
    assert w.browser.search.text() == ""  # the file's path was not typed into a field
