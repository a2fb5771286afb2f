"""The Queue menu: the browser sorted by uncertainty, diversity or label errors."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fake_editor import FakeEditor  # noqa: E402
from loop_fixtures import KnownConfidence, scored_project  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from fashionseg_gui.core.predict import predict_project  # noqa: E402
from fashionseg_gui.views.browser import ImageBrowser  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402

# Under load, a prediction job of these window tests has produced Qt's "QBasicTimer::start:
# Timers cannot be started from another thread" (seen in full-suite runs only, never alone;
# the source is not found yet and no test result depended on it). Ignored here only, so a
# real warning of any other kind still fails these tests.
pytestmark = pytest.mark.qt_log_ignore(
    r"^QBasicTimer::start: Timers cannot be started from another thread$"
)


class ScoreRecorder:
    """Records the browser score API calls the window makes."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def set_scores(self, scores: dict[str, float], label: str) -> None:
        self.calls.append(("set", dict(scores), label))

    def clear_scores(self) -> None:
        self.calls.append(("clear",))

    def select_next(self) -> None:
        self.calls.append(("next",))


@pytest.fixture
def window(qtbot, tmp_path):
    root, names = scored_project(tmp_path)
    w = MainWindow(QSettings(), editor=FakeEditor())
    qtbot.addWidget(w)
    assert w.open_project(root)
    yield w, names
    w.close()


def _record(w, monkeypatch) -> ScoreRecorder:
    rec = ScoreRecorder()
    for name in ("set_scores", "clear_scores", "select_next"):
        monkeypatch.setattr(w.browser, name, getattr(rec, name), raising=False)
    return rec


def test_label_next_by_uncertainty_sets_the_browser_scores(window, monkeypatch) -> None:
    w, names = window
    rec = _record(w, monkeypatch)
    assert [a.text() for a in w.queue.menu.actions() if a.text()][:4] == [
        "Browser order",
        "Label next (uncertainty)",
        "Label next (diverse)",
        "Label errors",
    ]
    w.queue.actions["uncertainty"].trigger()
    kind, scores, label = rec.calls[-1]
    assert kind == "set" and "mean entropy" in label
    assert sorted(scores, key=lambda i: -scores[i]) == [
        names["unsure"],
        names["middle"],
        names["sure"],
    ]
    assert "3 photos ranked by uncertainty" in w.statusBar().currentMessage()
    w.queue.next_action.trigger()
    assert rec.calls[-1] == ("next",)
    w.queue.actions[None].trigger()
    assert rec.calls[-1] == ("clear",)


def test_queue_refreshes_after_a_predict(window, monkeypatch) -> None:
    w, names = window
    rec = _record(w, monkeypatch)
    w.queue.show("uncertainty")
    # a new prediction makes "sure" the least confident one
    predict_project(
        w.project, [names["sure"]], predictor=KnownConfidence(w.project, {10: 0.34}), resume=False
    )
    w._on_predictions([names["sure"]])
    _kind, scores, _label = rec.calls[-1]
    assert max(scores, key=scores.get) == names["sure"]


def test_label_errors_runs_as_a_job_and_ranks_the_corrupted_label_first(
    qtbot, window, monkeypatch
) -> None:
    w, names = window
    rec = _record(w, monkeypatch)
    with qtbot.waitSignal(w.queue.sigOrderChanged, timeout=20_000) as got:
        assert w.queue.show("disagreement")
    assert got.args == ["disagreement"]
    kind, scores, label = rec.calls[-1]
    assert kind == "set" and set(scores) == {names["good"], names["bad"]}
    assert scores[names["bad"]] > scores[names["good"]] == 0.0
    assert "predictions: 2 trained on it" in label  # the UI says which predictions
    assert w.queue.findings.ids[0] == names["bad"]


@pytest.mark.skipif(
    not hasattr(ImageBrowser, "set_scores"),
    reason="the browser's score API (set_scores) is not in this tree yet",
)
def test_the_real_browser_shows_the_queue_order(window) -> None:
    w, names = window
    w.queue.show("uncertainty")
    assert w.browser.visible_ids()[:3] == [names["unsure"], names["middle"], names["sure"]]
    w.queue.show(None)
    assert len(w.browser.visible_ids()) == 5


@pytest.mark.slow
def test_kfold_cross_prediction_from_the_menu_says_so_in_the_label(
    qtbot, window, monkeypatch
) -> None:
    from fashionseg_gui.core.train_config import TrainConfig

    w, names = window
    rec = _record(w, monkeypatch)
    tiny = TrainConfig.from_dict(
        {
            "epochs": 1,
            "batch_size": 1,
            "input_height": 24,
            "input_width": 32,
            "depth": 2,
            "base_width": 4,
            "mixed_precision": "off",
            "recipe": "manual",
            "val_fraction": 0.5,
        }
    )
    with qtbot.waitSignal(w.queue.sigOrderChanged, timeout=180_000):
        assert w.queue.cross_predict(k=2, config=tiny)
    _kind, scores, label = rec.calls[-1]
    assert set(scores) == {names["good"], names["bad"]}
    assert "predictions: 2 k-fold" in label
