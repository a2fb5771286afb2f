"""GUI test hygiene: no window survives its test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _close_leftover_windows(qapp):
    """Close top-level widgets a test left visible (a dialog left open by one test would sit
    over the next test's window on the offscreen platform and eat its mouse events)."""
    yield
    from PySide6.QtWidgets import QApplication

    for w in QApplication.topLevelWidgets():
        if w.isVisible():
            w.close()
    QApplication.processEvents()


@pytest.fixture
def train_panel(qtbot):
    """A Train panel, shut down (its workers stopped) after the test."""
    from fashionseg_gui.views.train_panel import TrainPanel

    widget = TrainPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()
