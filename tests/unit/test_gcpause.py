"""core.gcpause: one process-wide collector switch shared by overlapping jobs."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from fashionseg_gui.core import gcpause


def test_overlapping_pauses_from_two_threads_end_in_any_order() -> None:
    before = gc.isenabled()  # off for good once a GUI collects by hand (workers.gc_guard)
    assert not gcpause.is_paused()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def job_a() -> None:
        with gcpause.paused():
            a_in.set()
            assert b_in.wait(10)
        a_out.set()

    def job_b() -> None:
        assert a_in.wait(10)
        with gcpause.paused():
            b_in.set()
            assert a_out.wait(10)
            seen.append(gcpause.is_paused() and not gc.isenabled())  # A ended first

    threads = [threading.Thread(target=job_a), threading.Thread(target=job_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [True]
    assert gc.isenabled() == before and not gcpause.is_paused()


def test_a_pause_leaves_a_callers_own_switch_as_it_was_and_survives_errors() -> None:
    before = gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        if before:
            gc.enable()
    try:
        with gcpause.paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled() == before and not gcpause.is_paused()


def test_frozen_holds_until_the_last_user_ends() -> None:
    assert gc.get_freeze_count() == 0
    outer = gcpause.frozen()
    outer.__enter__()
    with gcpause.frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() > 0  # the outer job still holds it
    outer.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0


def test_freezing_a_graph_runs_with_the_collector_paused(monkeypatch) -> None:
    """The conversion walks protobuf messages that a collection on another thread crashed
    on; it runs paused and gives back a working function."""
    import tensorflow as tf
    from tensorflow.python.framework import convert_to_constants as C

    from fashionseg_gui.core.serving import freeze

    before = gc.isenabled()
    seen: list[bool] = []
    real = C.convert_variables_to_constants_v2

    def spy(fn):
        seen.append(gcpause.is_paused() and not gc.isenabled())
        return real(fn)

    monkeypatch.setattr(C, "convert_variables_to_constants_v2", spy)
    weight = tf.Variable([[2.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
    def double(x):
        return {"y": tf.matmul(x, weight)}

    frozen = freeze(double.get_concrete_function())
    assert frozen is not None and seen == [True] and gc.isenabled() == before
    np.testing.assert_allclose(frozen(np.array([[3.0]], np.float32))["y"].numpy(), [[6.0]])


class _Cycle:
    """Cyclic garbage: only a collection frees it."""

    def __init__(self) -> None:
        self.me = self


def test_collect_soon_collects_here_where_python_collects_automatically(monkeypatch) -> None:
    import weakref

    monkeypatch.setattr(gcpause, "_manual", False)  # the command line
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ref = weakref.ref(_Cycle())
        assert ref() is not None
        gcpause.collect_soon()
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_collect_soon_waits_for_the_thread_that_collects_by_hand(monkeypatch) -> None:
    monkeypatch.setattr(gcpause, "_manual", True)  # a GUI collects on its own thread
    monkeypatch.setattr(gcpause, "_requested", False)
    monkeypatch.setattr(gc, "collect", lambda *a: pytest.fail("collected on the wrong thread"))
    assert not gcpause.take_request()
    worker = threading.Thread(target=gcpause.collect_soon)
    worker.start()
    worker.join(10)
    with gcpause.frozen():  # frozen objects would not be looked at: wait
        assert not gcpause.take_request()
    with gcpause.paused():
        assert not gcpause.take_request()
    assert gcpause.take_request()
    assert not gcpause.take_request()  # once
