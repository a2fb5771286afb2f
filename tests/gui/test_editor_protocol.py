"""The main window's editor is an ``EditorLike``: the real editor and the test stand-in both
implement it, so the window needs no ``hasattr`` branches for either."""

from __future__ import annotations

from fake_editor import FakeEditor
from PySide6.QtCore import QSettings, Qt

from fashionseg_gui.views.editor import EditorWidget
from fashionseg_gui.views.main_window import MainWindow
from fashionseg_gui.views.protocols import EditorLike


def test_the_real_editor_and_the_fake_implement_editor_like(qtbot) -> None:
    real, fake = EditorWidget(), FakeEditor()
    qtbot.addWidget(real)
    qtbot.addWidget(fake)
    assert isinstance(real, EditorLike)
    assert isinstance(fake, EditorLike)
    real.shutdown()


def test_an_editor_missing_a_member_is_not_editor_like(qtbot) -> None:
    fake = FakeEditor()
    qtbot.addWidget(fake)
    del fake.save_action
    assert not isinstance(fake, EditorLike)


def test_the_window_uses_the_editors_actions(qtbot) -> None:
    fake = FakeEditor()
    window = MainWindow(QSettings(), editor=fake)
    qtbot.addWidget(window)
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert [fake.undo_action, fake.redo_action] == edit_menu.actions()[:2]
    # The editor's save action owns Ctrl+S, so the window's Save has no shortcut (no clash).
    assert window.actions_.save.shortcut().isEmpty()
    assert fake.save_action.shortcut().toString() == "Ctrl+S"
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5000)
    before = fake.saves
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert fake.saves == before + 1
    window.close()
