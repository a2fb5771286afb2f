"""The real main window (real editor) driven as a user does: keys after a click elsewhere,
one current class across projects, drops on the photo, the size at 1366x768, Help, take-over.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402


def _make_project(root: Path, classes: list[tuple[str, str]], n: int = 3) -> Path:
    project = Project.create(root, classes)
    for i in range(n):
        photo = np.full((90, 120, 3), 60 + 40 * i, np.uint8)
        path = root.parent / f"{root.name}_{i}.png"
        Image.fromarray(photo).save(path)
        assert project.add_image_file(path, source="test").ok
    project.save()
    project.close()
    return root


@pytest.fixture
def projects(tmp_path: Path) -> tuple[Path, Path, Path]:
    a = _make_project(
        tmp_path / "a",
        [
            ("background", "#000000"),
            ("skin_hair", "#e0a070"),
            ("upper", "#2060e0"),
            ("lower", "#20c040"),
            ("shoes", "#c02020"),
        ],
    )
    b = _make_project(
        tmp_path / "b",
        [
            ("background", "#000000"),
            ("coat", "#a040c0"),
            ("bag", "#e0e020"),
            ("hat", "#20e0e0"),
            ("scarf", "#e02080"),
        ],
    )
    small = _make_project(tmp_path / "small", [("background", "#000000"), ("dress", "#ff8000")])
    return a, b, small


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    yield w
    w.close()


def _vp(w: MainWindow, x: float, y: float) -> QPoint:
    return w.editor.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def _drag(qtbot, w: MainWindow, points: list[tuple[int, int]]) -> None:
    vp = w.editor.canvas.viewport()
    qtbot.mousePress(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _vp(w, *points[0])
    )
    for p in points[1:]:
        qtbot.mouseMove(vp, _vp(w, *p))
    qtbot.mouseRelease(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _vp(w, *points[-1])
    )


def _click_thumbnail(qtbot, w: MainWindow, row: int) -> None:
    view = w.browser.view
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _agree(w: MainWindow) -> int:
    """The class the editor's combo, the canvas, the panel and the status bar show (equal)."""
    cid = w.current_class.value()
    name = w.project.classes[cid].name
    assert w.editor.current_class() == cid
    assert w.editor.canvas.current_class == cid
    assert w.editor.class_combo.currentData() == cid
    assert w.editor.class_combo.currentText().startswith(name)
    assert w.classes.current_class() == cid
    assert w.classes.list.currentRow() == cid
    assert name in w.classes.current_label.text()
    assert f"{name} ({cid})" in w.class_label.text()
    return cid


# --- 12.6: tool keys work wherever the focus is ----------------------------------------------
def test_tool_keys_work_after_clicking_a_thumbnail(qtbot, window, projects):
    """Issue: after a click on a thumbnail, P B E F G V R were dead (digits and A/D worked),
    so the next drag ran the previous tool."""
    assert window.open_project(projects[0])
    window.editor.set_tool("select")
    _click_thumbnail(qtbot, window, 1)
    ids = list(window.project.images)
    assert window.editor.current_image_id() == ids[1]
    focus = QApplication.focusWidget()
    assert focus is window.browser.view or window.browser.isAncestorOf(focus)
    for key, tool in [
        (Qt.Key.Key_P, "polygon"),
        (Qt.Key.Key_R, "rect"),
        (Qt.Key.Key_E, "eraser"),
        (Qt.Key.Key_F, "fill"),
        (Qt.Key.Key_G, "grabcut"),
        (Qt.Key.Key_V, "select"),
        (Qt.Key.Key_I, "eyedropper"),
        (Qt.Key.Key_B, "brush"),
    ]:
        qtbot.keyClick(QApplication.focusWidget(), key)
        assert window.editor.tool() == tool, key
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2)
    window.editor.canvas.set_brush_size(5)
    _drag(qtbot, window, [(20, 30), (40, 30), (60, 30)])
    assert window.editor.doc.mask[30, 40] == 2
    assert window.editor.doc.image_id == ids[1]


def test_typing_in_the_search_field_does_not_switch_tools(qtbot, window, projects):
    assert window.open_project(projects[0])
    window.editor.set_tool("select")
    window.browser.search.setFocus()
    qtbot.keyClicks(window.browser.search, "bag")
    assert window.browser.search.text() == "bag"
    assert window.editor.tool() == "select"


# --- 12.5: one current class -----------------------------------------------------------------
@pytest.mark.parametrize("other", [1, 2], ids=["other-classes", "fewer-classes"])
def test_one_current_class_after_opening_another_project(qtbot, window, projects, other):
    """Issue: after opening another project the tool bar showed and painted "lower (3)"
    while the Classes panel and the status bar said "skin_hair (1)"."""
    assert window.open_project(projects[0])
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert _agree(window) == 3
    assert window.open_project(projects[other])
    cid = _agree(window)
    assert cid == 1  # a new project starts with its first class
    window.editor.set_tool("brush")
    window.editor.canvas.set_brush_size(5)
    _drag(qtbot, window, [(20, 40), (50, 40)])
    assert window.editor.doc.mask[40, 35] == cid
    # every way of choosing keeps them together: the panel, the combo, a key
    window.classes.list.setCurrentRow(0)
    assert _agree(window) == 0
    window.editor.class_combo.setCurrentIndex(window.editor.class_combo.findData(1))
    assert _agree(window) == 1
    qtbot.keyClick(window, Qt.Key.Key_0)
    assert _agree(window) == 0
    qtbot.keyClick(window, Qt.Key.Key_4)  # no class 4 in the small project: unchanged
    assert _agree(window) == (4 if other == 1 else 0)


# --- 12.2: the window fits 1366x768 and never resizes itself ----------------------------------
LONG = "a_really_long_class_name_for_the_left_sleeve_of_the_double_breasted_overcoat"
#: What a 1366x768 screen leaves for a window (a desktop panel, the title bar).
FITS = (1340, 720)


def _settle(w: MainWindow) -> None:
    for _ in range(3):
        QApplication.processEvents()
        w.layout().activate()


def _fits(w: MainWindow, what: str) -> None:
    _settle(w)
    hint = w.minimumSizeHint()
    assert hint.width() <= FITS[0] and hint.height() <= FITS[1], (what, hint)
    assert (w.width(), w.height()) == (1366, 768), (what, w.size())


def test_the_window_fits_1366x768_whatever_is_shown(qtbot, window, projects):
    """Issue: at 1400x900, V widened the window to 1,516 px (the hint's minimum width), G to
    1,600, the Train tab to 1,761 (the panel's minimum width 611), and every change of tool
    or class re-centred the photo."""
    a = Project.open(projects[0])
    a.add_class(LONG)
    a.close()
    assert window.open_project(projects[0])
    ed = window.editor
    canvas = ed.canvas
    for dock in (window.docks.browser, window.docks.classes, window.docks.train):
        dock.show()
    _fits(window, "opened")
    viewport, transform = canvas.viewport().size(), canvas.transform()
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    editor_min = ed.minimumSizeHint()

    def unmoved(what: str) -> None:
        _fits(window, what)
        assert ed.minimumSizeHint() == editor_min, what  # no text widens the editor
        assert canvas.viewport().size() == viewport, what
        assert canvas.transform() == transform, what
        assert canvas.mapToScene(canvas.viewport().rect().center()) == centre, what

    for name in [a.data() for a in ed.tool_actions()]:
        ed.set_tool(name)
        unmoved(f"tool {name}")
    for key in (Qt.Key.Key_V, Qt.Key.Key_G):
        qtbot.keyClick(window, key)
        unmoved(f"key {key}")
    for cid in range(len(window.project.classes)):
        window.select_class(cid)
        unmoved(f"class {cid}")
    assert LONG[:20] in ed.class_combo.currentText()  # the long class is current now
    ed.sigMessage.emit("x")  # messages of any length
    ed._message("Assisted outline: " + "a very long explanation of what to do next " * 8)
    window.cursor_label.setText("x 1024, y 768 — " + LONG * 2)
    window.retry_button.show()  # a failed save: the status bar's widest state
    window.statusBar().showMessage("Save failed: " + LONG * 3)
    unmoved("long texts")
    window.docks.classes.raise_()
    unmoved("classes tab")
    window.docks.train.raise_()
    qtbot.waitUntil(lambda: window.train_panel is not None, timeout=5000)
    panel = window.train_panel
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        _fits(window, f"train tab {i}")
    # with the Train tab open, its whole settings area can be reached (it scrolls)
    panel.scroll.ensureWidgetVisible(panel.train_button)
    assert panel.train_button.visibleRegion().boundingRect().height() > 0
    assert panel.scroll.horizontalScrollBar().maximum() == 0  # never scrolls sideways
    for i in range(panel.tabs.count()):  # the tool bar of the editor is whole: no "»"
        panel.tabs.setCurrentIndex(i)
    bar = ed.toolbar
    for act in (*ed.tool_actions(), ed.undo_action, ed.fit_action, ed.zoom100_action):
        button = bar.widgetForAction(act)
        assert button is not None and button.isVisible(), act.text()
    assert ed.brush_spin.isVisible() and ed.opacity_slider.isVisible()


def test_first_start_fits_the_screen(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    assert w.width() <= avail.width() and w.height() <= avail.height()


# --- Help ----------------------------------------------------------------------------------
def test_help_lists_every_shortcut_from_the_actions(qtbot, window, projects):
    from PySide6.QtGui import QAction, QKeySequence

    from fashionseg_gui.views.help import ShortcutsDialog

    assert window.open_project(projects[0])
    window.ensure_train_panel()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in help_menu.actions()] == [
        "&Keyboard shortcuts…",
        "&About FashionSeg Studio",
    ]
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dlg = window.shortcuts_dialog
    assert isinstance(dlg, ShortcutsDialog) and dlg.isVisible()
    native = QKeySequence.SequenceFormat.NativeText
    listed = {(r.text, r.keys) for r in dlg.rows}
    with_keys = [a for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert len(with_keys) > 25
    for act in with_keys:
        keys = " or ".join(s.toString(native) for s in act.shortcuts())
        assert any(keys == k for _t, k in listed), (act.text(), keys)
    assert dlg.keys_of("Brush") == ["B"] and dlg.keys_of("Next image") == ["PgDown or D"]
    assert dlg.keys_of("Undo") == ["Ctrl+Z"] and dlg.keys_of("Class 3") == ["3"]
    assert dlg.keys_of("Train") == ["Ctrl+T"]  # a button's shortcut (the Train panel)
    assert dlg.table.rowCount() == len(dlg.rows)
    # generated, not copied: an action added later is listed the next time
    extra = QAction("Brand-new command", window)
    extra.setShortcut("Ctrl+Alt+N")
    window.addAction(extra)
    assert window.show_shortcuts().keys_of("Brand-new command") == ["Ctrl+Alt+N"]


def test_help_about_names_the_version(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    import fashionseg_gui

    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.actions_.about.trigger()
    assert shown and fashionseg_gui.__version__ in shown[0]


# --- 13.3: take over a project opened elsewhere ------------------------------------------------
def _lock_record(root: Path) -> dict:
    import json

    return json.loads((root / ".fashionseg.lock").read_text())


def _take_over(qtbot, w: MainWindow, monkeypatch, answer) -> list[str]:
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []

    def fake_question(_parent, _title, text, *_args):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", fake_question)
    assert w.take_over_button.isVisible()
    qtbot.mouseClick(w.take_over_button, Qt.MouseButton.LeftButton)
    return asked


def _assert_editable(qtbot, w: MainWindow, root: Path) -> None:
    assert not w.project.read_only and w.project.lock_owned
    assert not w.banner.isVisible() and "read-only" not in w.windowTitle()
    assert w.actions_.import_images.isEnabled()
    assert _lock_record(root)["pid"] == os.getpid()
    w.editor.set_tool("brush")
    assert w.editor.tool() == "brush"
    w.editor.canvas.set_brush_size(5)
    _drag(qtbot, w, [(20, 40), (50, 40)])
    assert w.editor.save_now()
    image_id = w.editor.current_image_id()
    assert Project.open(root, read_only=True).read_mask(image_id)[40, 35] == 1


def test_take_over_from_a_live_instance(qtbot, window, projects, monkeypatch):
    import subprocess
    import sys

    from PySide6.QtWidgets import QMessageBox

    root = projects[0]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from fashionseg_gui.core.project import Project; "
            f"p = Project.open({str(root)!r}); assert not p.read_only; print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path.cwd(),
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert window.open_project(root)
        assert window.project.read_only and window.banner.isVisible()
        text = window.banner.text()
        assert f"process {holder.pid}" in text and "since" in text
        # Cancel keeps it read-only
        asked = _take_over(qtbot, window, monkeypatch, QMessageBox.StandardButton.Cancel)
        assert asked and "still running" in asked[0]
        assert window.project.read_only and window.banner.isVisible()
        asked = _take_over(qtbot, window, monkeypatch, QMessageBox.StandardButton.Yes)
        assert "Took over" in window.statusBar().currentMessage()
        _assert_editable(qtbot, window, root)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_take_over_a_lock_recorded_by_another_machine(qtbot, window, projects, monkeypatch):
    import json
    import time

    from PySide6.QtWidgets import QMessageBox

    root = projects[0]
    (root / ".fashionseg.lock").write_text(
        json.dumps({"pid": 4242, "host": "studio-pc.elsewhere", "time": time.time() - 60})
    )
    assert window.open_project(root)
    assert window.project.read_only and "studio-pc.elsewhere" in window.banner.text()
    asked = _take_over(qtbot, window, monkeypatch, QMessageBox.StandardButton.Yes)
    assert asked and "can no longer save" in asked[0] and "still running" not in asked[0]
    _assert_editable(qtbot, window, root)


@pytest.mark.parametrize(
    "record",
    [
        '{"pid": 999999, "host": "@HOST@", "time": 1}',
        "",
        "garbage{",
        '{"pid": 1, "host": "@HOST@", "time": 1}',
        '{"pid": 1e400, "host": "x", "time": "yesterday"}',
    ],
    ids=["dead-pid", "empty", "garbage", "pid-1", "impossible"],
)
def test_a_dead_or_implausible_lock_opens_read_write(qtbot, window, projects, record):
    import socket

    root = projects[0]
    (root / ".fashionseg.lock").write_text(record.replace("@HOST@", socket.gethostname()))
    assert window.open_project(root)
    assert not window.project.read_only and not window.banner.isVisible()
    assert not window.take_over_button.isVisible()
    assert _lock_record(root)["pid"] == os.getpid()


def test_a_project_opened_read_only_on_purpose_offers_no_take_over(qtbot, window, projects):
    assert window.open_project(projects[0], read_only=True)
    assert window.banner.isVisible() and not window.take_over_button.isVisible()
    assert not window.take_over_project(confirm=False)
    assert window.project.read_only


# --- export dialogs: where they open, and a new folder typed in --------------------------------
def test_export_folder_dialog_starts_beside_the_project_and_creates_a_typed_folder(
    qtbot, window, projects, tmp_path
):
    """Issue: export dialogs opened in the working folder and refused a new folder name."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLineEdit

    from fashionseg_gui.views.main_window import EXPORT_FOLDER_KEY, FolderDialog

    root = projects[0]
    assert window.open_project(root)
    image_id = next(iter(window.project.images))
    window.project.write_mask(image_id, np.ones((90, 120), np.uint8))
    seen: dict[str, str] = {}

    def type_new_folder(name: str) -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, FolderDialog)
        seen["start"] = dlg.directory().absolutePath()
        dlg.findChild(QLineEdit, "fileNameEdit").setText(name)
        dlg.accept()

    QTimer.singleShot(50, lambda: type_new_folder("masks out"))
    with qtbot.waitSignal(window.sigJobFinished, timeout=30000):
        window.export_actions["label-png"].trigger()
    out = root.parent / "masks out"
    assert seen["start"] == str(root.parent)  # beside the project, not the working folder
    assert out.is_dir() and any(out.glob("*.png"))
    assert window.settings.value(EXPORT_FOLDER_KEY) == str(out)
    # the next export opens in the last export folder, and a nested new name works too
    QTimer.singleShot(50, lambda: type_new_folder("colour/v2"))
    with qtbot.waitSignal(window.sigJobFinished, timeout=30000):
        window.export_actions["colour-png"].trigger()
    assert seen["start"] == str(out)
    assert any((out / "colour" / "v2").glob("*.png"))


def test_single_file_export_opens_in_the_last_export_folder(
    qtbot, window, projects, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from fashionseg_gui.views.main_window import EXPORT_FOLDER_KEY

    assert window.open_project(projects[0])
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(a[2]), ("", ""))[1]
    )
    window.export_actions["coco"].trigger()
    assert asked[-1] == str(projects[0].parent / "a_coco.json")
    window.settings.setValue(EXPORT_FOLDER_KEY, str(tmp_path))
    window.export_actions["via"].trigger()
    assert asked[-1] == str(tmp_path / "a_via.json")
