"""The VIA import dialog: parsed once off the GUI thread; unclassified, outside, closed polylines."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fake_editor import FakeEditor  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

import fashionseg_gui.core.via as via_pkg  # noqa: E402
from fashionseg_gui.views import import_dialogs  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402
from fashionseg_gui.workers.importer import ImportResult  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
VIA = SHARED_DATA / "via"


@pytest.fixture
def window(qtbot, tmp_path):
    if not VIA.is_dir():
        pytest.skip("../shared/data is not present")
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    assert w.create_project(tmp_path / "proj")
    w.show()
    yield w
    w.close()


def test_dialog_choices_and_defaults(qtbot):
    dlg = import_dialogs.ViaImportDialog(
        "x.json",
        {"type": Counter({"Preppy": 3})},
        "type",
        ["background", "bohemian", "preppy"],
        closed_polylines=41,
    )
    qtbot.addWidget(dlg)
    # defaults: skip unclassified regions, outside not labelled, fill closed polylines
    assert dlg.unclassified_class() is None
    assert dlg.outside() == import_dialogs.OUTSIDE_UNLABELLED
    assert dlg.fill_closed_polylines() and "41 in this file" in dlg.fill_check.text()
    dlg.set_unclassified(1)
    dlg.set_outside(import_dialogs.OUTSIDE_BACKGROUND)
    dlg.fill_check.setChecked(False)
    assert dlg.unclassified_class() == 1
    assert dlg.outside() == import_dialogs.OUTSIDE_BACKGROUND
    assert not dlg.fill_closed_polylines()


def test_drop_reads_the_via_file_once_off_the_gui_thread(qtbot, window, monkeypatch):
    """The file is parsed on a worker, once; the dialog's choices reach the import."""
    path = VIA / "04_larvae_mixed_via2" / "via_region_data.json"
    reads: list[str] = []
    real_read = via_pkg.read_via

    def counting_read(p):
        reads.append(threading.current_thread().name)
        return real_read(p)

    monkeypatch.setattr(via_pkg, "read_via", counting_read)
    seen = {}

    def fake_exec(dlg):
        seen["fill"] = dlg.fill_check.text()
        dlg.set_unclassified(window.project.class_by_name("bohemian").id)
        dlg.set_outside(import_dialogs.OUTSIDE_BACKGROUND)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(import_dialogs.ViaImportDialog, "exec", fake_exec)
    with qtbot.waitSignal(window.sigJobFinished, timeout=120000):
        worker = window.import_paths([path])
        assert worker is not None
    assert len(reads) == 1 and reads[0] != threading.main_thread().name
    assert "41 in this file" in seen["fill"]
    report = window.last_report_lines
    assert report[0] == "Imported: 8 (8 with VIA annotations)"
    assert any("41 closed polylines filled as polygons" in ln for ln in report)
    project = window.project
    bohemian = project.class_by_name("bohemian").id
    for rid, rec in project.images.items():
        mask = project.read_mask(rid)
        assert 255 not in np.unique(mask)  # outside every region: background
        if int(rec.original_name.split(".")[0]) % 2:  # odd photos: the outlines, filled
            assert bohemian in np.unique(mask)


def test_unreadable_via_file_is_reported_after_parsing(qtbot, window):
    bad = SHARED_DATA / "bad_inputs" / "via_not_json.json"
    window.import_paths([bad])
    qtbot.waitUntil(lambda: bool(window.last_report_lines), timeout=10000)
    assert window.last_report_lines[0] == "Nothing imported."
    assert any(
        "via_not_json.json" in ln and "not a VIA JSON file" in ln for ln in window.last_report_lines
    )


def test_report_counts_photos_that_came_with_a_via_file():
    result = ImportResult(
        via_lines=["a.json:", "  8 photos added to the project with the VIA file"],
        via_images_added=8,
    )
    lines = import_dialogs.report_lines(result)
    assert lines[0] == "Imported: 8 (8 with VIA annotations)"  # never "Imported: 0"


def test_reading_shows_in_the_progress_area_and_can_be_cancelled(qtbot, window, monkeypatch):
    """Like every job, the VIA read is one of the window's jobs (status bar, cancel); a
    cancelled read opens no dialog and imports nothing."""
    path = VIA / "04_larvae_mixed_via2" / "via_region_data.json"
    release = threading.Event()
    real_read = via_pkg.read_via

    def slow_read(p):
        release.wait(30)
        return real_read(p)

    monkeypatch.setattr(via_pkg, "read_via", slow_read)
    asked: list[str] = []
    monkeypatch.setattr(
        import_dialogs.ViaImportDialog, "exec", lambda dlg: asked.append("exec") or 0
    )
    worker = window.import_paths([path])
    assert worker is not None
    [job] = window.jobs.jobs(kinds=["read file"])
    assert job.label == "Reading 1 VIA file" and job.owner is window
    window.jobs.cancel(job)
    release.set()
    qtbot.waitUntil(lambda: not window.jobs.is_busy(), timeout=30000)
    qtbot.wait(50)  # the worker's last signals
    assert asked == [] and len(window.project.images) == 0
    assert window._via_flow is None


def test_a_cancel_that_arrives_after_the_read_ended_still_ends_the_flow(qtbot, window, monkeypatch):
    """Cancelled between the end of the parse and the window seeing its result: no dialog,
    and the flow still ends (a second import can start)."""
    path = VIA / "04_larvae_mixed_via2" / "via_region_data.json"
    asked: list[str] = []
    monkeypatch.setattr(
        import_dialogs.ViaImportDialog, "exec", lambda dlg: asked.append("exec") or 0
    )
    worker = window.import_paths([path])
    assert worker is not None
    # the GUI thread waits for the worker thread to end (its `finished` is queued, unseen),
    # then cancels: the worker checked for a cancel before it emitted, so none follows
    assert worker.wait(30_000)
    worker.cancel()
    qtbot.waitUntil(lambda: window._via_flow is None, timeout=30000)
    assert asked == [] and len(window.project.images) == 0
