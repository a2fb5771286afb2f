"""workers.bridge.ProjectSignals: project events from any thread -> Qt signals on the GUI thread,
and the views that rely on it (the window's panels, the editor) through the real window."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from tiny_project import make_tiny_project  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.workers.bridge import EVENTS, ProjectSignals  # noqa: E402


@pytest.fixture
def project(tmp_path: Path):
    p = make_tiny_project(tmp_path, n=3, labelled=2)
    yield p
    p.close()


def _in_thread(fn) -> None:
    t = threading.Thread(target=fn)
    t.start()
    t.join(10)


def test_every_event_from_a_worker_thread_arrives_on_the_gui_thread(qtbot, project) -> None:
    bridge = ProjectSignals()
    bridge.set_project(project)
    got: list[tuple] = []
    gui = threading.get_ident()
    for name in EVENTS:
        getattr(bridge, name).connect(
            lambda *args, name=name: got.append((name, args, threading.get_ident() == gui))
        )
    ev = project.events

    def emit_all() -> None:
        ev.images_changed.emit(["a", "b"])
        ev.image_changed.emit("a")
        ev.mask_changed.emit("b")
        ev.classes_changed.emit()
        ev.settings_changed.emit()

    _in_thread(emit_all)
    qtbot.waitUntil(lambda: len(got) == 5, timeout=5000)
    assert got == [
        ("images_changed", (["a", "b"],), True),
        ("image_changed", ("a",), True),
        ("mask_changed", ("b",), True),
        ("classes_changed", (), True),
        ("settings_changed", (), True),
    ]


def test_follows_one_project_at_a_time(qtbot, project, tmp_path) -> None:
    other = Project.create(tmp_path / "other")
    bridge = ProjectSignals()
    seen: list[str] = []
    bridge.mask_changed.connect(seen.append)
    bridge.set_project(project)
    bridge.set_project(project)  # the same one again: still connected once
    project.events.mask_changed.emit("x")
    bridge.set_project(other)
    project.events.mask_changed.emit("old project")
    other.events.mask_changed.emit("y")
    bridge.set_project(None)
    other.events.mask_changed.emit("after close")
    assert seen == ["x", "y"]
    other.close()


def test_window_views_follow_a_class_deleted_on_a_worker_thread(
    qtbot, project, monkeypatch
) -> None:
    """The user deletes a class in the Classes panel: the deletion runs as a job, and the
    editor, the panel and the status bar follow through the bridge."""
    from fashionseg_gui.views.classes_panel import DeleteClassDialog
    from fashionseg_gui.views.main_window import MainWindow

    root = project.root
    project.close()
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    w.show()
    assert w.open_project(root)
    first = w.editor.current_image_id()
    before = w.project.read_mask(first)
    assert w.editor.class_combo.count() == 3
    w.classes.set_current_class(1)  # "red": its pixels become unlabelled
    monkeypatch.setattr(
        DeleteClassDialog, "ask", classmethod(lambda cls, p, c, parent: (True, None))
    )
    main_thread = threading.get_ident()
    deleted_in: list[int] = []
    original = w.project.delete_class

    def spy(*args, **kwargs):
        deleted_in.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(w.project, "delete_class", spy)
    assert w.classes.delete_current() is not None
    assert w.jobs.is_busy(root, ["delete class"]) and w.jobs_bar.isVisible()
    assert not w.editor.isEnabled()  # no edit while every mask is rewritten
    qtbot.waitUntil(lambda: not w.jobs.is_busy(root), timeout=20000)
    assert deleted_in and deleted_in[0] != main_thread  # off the GUI thread
    qtbot.waitUntil(lambda: w.editor.class_combo.count() == 2, timeout=5000)
    assert [w.classes.list.item(i).text().split("\t")[0] for i in range(2)] == [
        "background",
        "blue",
    ]
    expected = np.where(before == 1, 255, np.where(before == 2, 1, before)).astype(np.uint8)
    # The open photo was reloaded from the rewritten mask (blue is now class 1).
    qtbot.waitUntil(lambda: np.array_equal(w.editor.doc.mask, expected), timeout=5000)
    assert w.editor.isEnabled()  # editing resumed
    w.close()


def test_deleting_a_class_is_refused_while_training(qtbot, project, monkeypatch) -> None:
    import threading as _t

    from fashionseg_gui.views import classes_panel as cp
    from fashionseg_gui.views.classes_panel import DeleteClassDialog
    from fashionseg_gui.views.main_window import MainWindow
    from fashionseg_gui.workers.base import JobWorker

    root = project.root
    project.close()
    w = MainWindow(QSettings())
    qtbot.addWidget(w)
    assert w.open_project(root)
    gate = _t.Event()

    def fake_training(*, cancel_token, on_progress):
        while not gate.wait(0.01):
            cancel_token.raise_if_cancelled()

    w.jobs.submit(JobWorker(fake_training), "train", scope=w.project.root)
    monkeypatch.setattr(
        DeleteClassDialog, "ask", classmethod(lambda cls, p, c, parent: (True, None))
    )
    told: list[str] = []
    monkeypatch.setattr(
        cp.QMessageBox, "information", lambda _parent, _title, text: told.append(text)
    )
    w.classes.set_current_class(1)
    assert w.classes.delete_current() is None
    assert told and "while training is running" in told[0]
    assert len(w.project.classes) == 3
    gate.set()
    qtbot.waitUntil(lambda: not w.jobs.is_busy(w.project.root), timeout=10000)
    w.close()
