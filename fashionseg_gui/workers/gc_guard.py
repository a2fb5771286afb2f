"""Python's cyclic garbage collection runs on the GUI thread only, once the app has worker
threads.

An automatic collection runs in whichever thread allocates when a threshold is crossed.
The workers allocate the most (TensorFlow), so collections ran there, and a collection
destroys the Qt objects held in the garbage cycles it frees (a finished dialog, a closure
connected to a signal) on that thread: Qt objects must die in their own thread, and the
process crashed later, in unrelated places of the GUI thread (segmentation faults in slots
of the job service, 5 runs in 5 of the GUI tests while some jobs paused collection for a
few seconds, which made a worker's first collection after a pause a big one). So, as
pyqtgraph advises, automatic collection is switched off and a timer of the GUI thread
collects with the same generation thresholds (:class:`pyqtgraph.util.garbage_collector.
GarbageCollector`), and not while a job holds :func:`fashionseg_gui.core.gcpause.paused`.

The command line, which has no Qt objects, keeps Python's automatic collection.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QCoreApplication, QThread

from fashionseg_gui.core import gcpause

#: Seconds between the GUI thread's checks of the collector's counts.
INTERVAL_S = 0.25


class GuiThreadCollector(GarbageCollector):
    """pyqtgraph's timer-driven collector that waits while a job pauses collection."""

    def check(self) -> None:
        if gcpause.is_paused():
            return
        if gcpause.take_request():  # a job ended and left its memory in cycles
            gc.collect()
            return
        super().check()


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread() -> GuiThreadCollector | None:
    """Switch to GUI-thread collection (once per process; call it from the GUI thread
    before starting a thread that runs Python). None without an application."""
    global _collector
    app = QCoreApplication.instance()
    if app is None:
        return None
    if _collector is None:
        if QThread.currentThread() is not app.thread():
            raise RuntimeError("collect_on_gui_thread must be called from the GUI thread")
        gcpause.collect_manually()
        _collector = GuiThreadCollector(interval=INTERVAL_S)
        _collector.timer.setParent(app)
    return _collector
