"""Main window wiring: open a project, browse with keys, class shortcuts, saving, start-up.

Most tests drive the window with a small stand-in editor that implements the EditorWidget
API (signals and methods), so they check the window's wiring exactly, including save
failures that a real canvas cannot easily produce. ``test_real_editor_*`` use the real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fake_editor import FakeEditor  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from fashionseg_gui.views.main_window import MainWindow  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "projects" / "demo"


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    if not (DEMO / "project.json").is_file():
        pytest.skip("projects/demo is not present")
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fashionseg.lock", ".cache"))
    return root


@pytest.fixture
def window(qtbot, demo_root):
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    assert w.open_project(demo_root)
    w.show()
    w.activateWindow()
    # window shortcuts need the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    yield w
    w.editor.save_ok = True
    w.close()


def test_open_project_lists_images_and_opens_first(window, demo_root):
    project = window.project
    assert project is not None and project.root == demo_root
    assert window.browser.visible_ids() == list(project.images)
    first = next(iter(project.images))
    assert window.editor.current_image_id() == first
    assert window.position_label.text().startswith("Image 1 / 24")
    assert "demo" in window.windowTitle()
    assert not window.banner.isVisible()
    assert window.recent_projects()[0] == str(demo_root.resolve())


def test_page_and_letter_keys_switch_image_and_save(qtbot, window):
    ids = list(window.project.images)
    saves = window.editor.saves
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.editor.current_image_id() == ids[1]
    assert window.editor.saves > saves  # the editor saved the previous image first
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.editor.current_image_id() == ids[2]
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert window.editor.current_image_id() == ids[0]
    assert window.position_label.text().startswith("Image 1 / 24")


def test_next_follows_the_status_filter(qtbot, window):
    combo = window.browser.status_combo
    combo.setCurrentIndex(combo.findData("unlabelled"))
    unlabelled = window.browser.visible_ids()
    window.browser.select_image(unlabelled[0])
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.editor.current_image_id() == unlabelled[1]
    assert window.project.images[unlabelled[1]].status == "unlabelled"


def test_class_shortcut_selects_class(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.classes.current_class() == 2
    assert window.editor.current_class() == 2
    assert window.project.classes[2].name in window.class_label.text()
    qtbot.keyClick(window, Qt.Key.Key_0)
    assert window.editor.current_class() == 0
    qtbot.keyClick(window, Qt.Key.Key_9)  # no class 9 in the demo: nothing changes
    assert window.editor.current_class() == 0


def test_editor_class_change_updates_panel(window):
    window.editor.sigCurrentClassChanged.emit(3)
    assert window.classes.current_class() == 3


def test_visibility_checkbox_reaches_editor(window):
    window.classes.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert window.editor.visible == {1: False}


def test_save_failure_shows_retry(window):
    window.editor.save_ok = False
    window.editor.sigSaveFailed.emit("x", "disk full")
    assert window.retry_button.isVisible()
    assert "disk full" in window.statusBar().currentMessage()
    window.editor.save_ok = True
    window.retry_button.click()
    assert not window.retry_button.isVisible()
    assert window.save_label.text() == "Saved"


def test_close_with_failing_save_asks(qtbot, window, monkeypatch):
    window.editor.save_ok = False
    answers = [QMessageBox.StandardButton.Cancel]
    asked = []

    def fake_warning(*args, **kwargs):
        asked.append(args[1])
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "warning", fake_warning)
    window.close()
    assert window.isVisible() and window.project is not None and asked
    answers[:] = [QMessageBox.StandardButton.Retry, QMessageBox.StandardButton.Discard]
    window.close()
    assert not window.isVisible() and window.project is None
    assert len(asked) == 3


def test_closing_saves_and_releases_lock(qtbot, window, demo_root):
    saves = window.editor.saves
    window.close()
    assert window.editor.saves > saves
    assert not (demo_root / ".fashionseg.lock").exists()


def test_second_instance_is_read_only_with_banner(qtbot, window, demo_root):
    other = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(other)
    assert other.open_project(demo_root)
    other.show()
    assert other.project.read_only
    assert other.banner.isVisible() and "Read-only" in other.banner.text()
    assert "read-only" in other.windowTitle()
    assert not other.actions_.import_images.isEnabled()
    other.close()


def test_bad_project_shows_one_clear_message(qtbot, tmp_path, monkeypatch):
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    assert not w.open_project(tmp_path)
    assert shown and "not a FashionSeg project" in shown[0]


def test_geometry_is_remembered(qtbot, demo_root):
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    w.resize(640, 480)  # inside the offscreen screen (800x600)
    w.show()
    w.close()
    w2 = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (640, 480)


def test_train_dock_is_created_lazily(qtbot, window):
    assert window.train_panel is None
    window.docks.train.raise_()
    qtbot.waitUntil(lambda: window.train_panel is not None, timeout=5000)
    assert window.docks.train.widget() is window.train_panel


def test_startup_does_not_import_tensorflow_and_reports_time(demo_root, tmp_path):
    code = (
        "import sys; from fashionseg_gui.app import main; "
        f"rc = main(['--project', {str(demo_root)!r}, '--quit-after-shown']); "
        "print('TF-LOADED' if 'tensorflow' in sys.modules or 'keras' in sys.modules "
        "else 'TF-NOT-LOADED'); sys.exit(rc)"
    )
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        FASHIONSEG_DATA_DIR=str(tmp_path / "data"),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "TF-NOT-LOADED" in out.stdout
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("window shown in"))
    assert float(line.split()[3]) > 0


def test_real_editor_follows_browser(qtbot, demo_root):
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    assert w.open_project(demo_root)
    w.show()
    w.activateWindow()
    # window shortcuts need the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    ids = list(w.project.images)
    assert w.editor.current_image_id() == ids[0]
    qtbot.keyClick(w, Qt.Key.Key_PageDown)
    assert w.editor.current_image_id() == ids[1]
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert w.editor.current_class() == 2
    w.close()
    assert w.project is None


def test_demo_project_path_copies_the_bundled_demo(tmp_path):
    from fashionseg_gui.core import settings

    src = tmp_path / "shipped" / "demo"
    src.mkdir(parents=True)
    (src / "project.json").write_text("{}")
    (src / ".fashionseg.lock").write_text("{}")
    data = tmp_path / "data"
    copy = settings.demo_project_path([tmp_path / "missing", src], data)  # never in place
    assert copy == data / "demo"
    assert (copy / "project.json").is_file() and not (copy / ".fashionseg.lock").exists()
    (copy / "marker").write_text("user edit")
    assert settings.demo_project_path([src], data) == copy  # copied once, then reused
    assert (copy / "marker").exists()
    assert settings.demo_project_path([], data) is None
    assert settings.push_recent(["/a", str(tmp_path)], tmp_path) == [str(tmp_path.resolve()), "/a"]


def test_disabled_buttons_look_disabled_with_the_app_style(qtbot, qapp):
    """Issue: with the app's palette and style sheet, a disabled button (Fine-tune with no
    run, tools in read-only mode) was drawn exactly like an enabled one."""
    from PySide6.QtWidgets import QPushButton, QToolButton

    from fashionseg_gui.views.style import apply_style

    saved = (qapp.style().name(), qapp.palette(), qapp.styleSheet())
    apply_style(qapp)
    try:
        for cls in (QPushButton, QToolButton):
            enabled, disabled = cls(), cls()
            for b in (enabled, disabled):
                b.setText("Fine-tune from selected run")
                b.resize(220, 30)
                qtbot.addWidget(b)
            disabled.setEnabled(False)
            a, b = enabled.grab().toImage(), disabled.grab().toImage()
            assert a.size() == b.size()
            assert a != b, f"a disabled {cls.__name__} is drawn like an enabled one"
    finally:
        qapp.setStyle(saved[0])
        qapp.setPalette(saved[1])
        qapp.setStyleSheet(saved[2])


def test_project_events_from_a_worker_thread_reach_the_window_on_its_thread(
    qtbot, window, monkeypatch
):
    """A prediction or import job changes the project on a worker thread; the window's own
    handlers (here: the image position in the status bar) must still run on the GUI thread,
    through the one bridge (``ProjectSignals``)."""
    import threading

    seen: list[threading.Thread] = []
    real = MainWindow._update_position

    def spy(self):  # noqa: ANN001
        seen.append(threading.current_thread())
        return real(self)

    monkeypatch.setattr(MainWindow, "_update_position", spy)
    image_id = next(iter(window.project.images))
    worker = threading.Thread(
        target=lambda: (
            window.project.events.images_changed.emit([image_id]),
            window.project.events.image_changed.emit(image_id),
        )
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    assert all(t is threading.main_thread() for t in seen)
