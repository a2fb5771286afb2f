"""Pausing Python's cyclic garbage collector, shared by every thread of the process.

Automatic collection is one switch for the whole process (``gc.disable``), so jobs that
pause it must agree: :func:`paused` counts its users and turns collection back on when the
last one ends (if it was on before the first began); :func:`frozen` does the same for
``gc.freeze``. Jobs on different threads may nest and overlap them in any order.

Why the app pauses it:

- a full collection walks every tracked object with the interpreter lock held: parsing a
  big VIA file, importing TensorFlow or loading and tracing a model make millions of
  objects, and each full collection then froze the window for 0.1-0.3 s;
- TensorFlow's graph conversion (``convert_variables_to_constants_v2``) walks protobuf
  (upb) messages on a worker; a collection run by the GUI thread meanwhile crashed the
  process (segmentation fault, "Garbage-collecting" on the GUI thread, the worker inside
  the conversion), 1 time in 4 runs of the GUI tests.

The GUI collects by hand on its own thread (:func:`collect_manually`,
``workers.gc_guard``); a pause then also holds that back.

A job that drops a lot of memory in reference cycles (a training's network, datasets and
photo cache: 383 MB after a default run, measured) asks for a full collection with
:func:`collect_soon`, so that the memory is back before the next job loads its own.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_paused = 0
_was_enabled = True
_frozen = 0
_manual = False
_requested = False


def collect_manually() -> None:
    """Switch automatic collection off for good: the caller collects by hand from now on
    (the GUI's timer, ``workers.gc_guard``); a pause ending then leaves it off."""
    global _manual
    with _lock:
        _manual = True
        gc.disable()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic cyclic collection, in any thread, until the last ``paused`` ends.

    Nothing is lost: objects that became cyclic garbage meanwhile are collected by the
    first collection after it."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled and not _manual:
                gc.enable()


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Move every object alive now out of the collector's sight (``gc.freeze``) until the
    last ``frozen`` ends: for objects that live as long as the job (a training's model and
    graphs), which full collections would otherwise walk again and again."""
    global _frozen
    with _lock:
        gc.freeze()
        _frozen += 1
    try:
        yield
    finally:
        with _lock:
            _frozen -= 1
            if _frozen == 0:
                gc.unfreeze()


def is_paused() -> bool:
    """Whether some job holds :func:`paused` now."""
    return _paused > 0


def collect_soon() -> None:
    """A full collection now, or as soon as the thread that may collect can.

    Where Python collects automatically (the command line), collecting on any thread is
    what the interpreter would do anyway: it happens here and now. Where the GUI collects
    by hand, only its thread may: the request waits for :func:`take_request`.
    """
    global _requested
    with _lock:
        if _manual:
            _requested = True
            return
    gc.collect()


def take_request() -> bool:
    """For the thread that collects by hand: whether a full collection was asked for and
    can run now (no pause or freeze held: frozen objects would not be looked at); the
    request is cleared when this says True."""
    global _requested
    with _lock:
        if not _requested or _paused or _frozen:
            return False
        _requested = False
        return True
