"""The Queue menu: sort the browser by the label-next queue or the label-error finder.

The menu's orders are "Browser order" (the browser's own), "Label next (uncertainty)",
"Label next (diverse)" (``core.queue``) and "Label errors" (``core.label_errors``). The
chosen order reaches the browser through its score API: ``set_scores(scores, label)``
(``{image id: score}``, higher first, shown beside each thumbnail), ``clear_scores()``,
``visible_ids()`` and ``select_next()``. The order is computed again after each predict
(:meth:`QueueMenu.refresh`).

The uncertainty and diverse queues are read from ``predictions/scores.json`` (small, on
the GUI thread); the label-error finder compares every labelled mask with its prediction,
so it runs as a job (kind ``"read file"``: it only reads the project).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from fashionseg_gui.core import label_errors as LE
from fashionseg_gui.core.queue import build_queue
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobRefused

#: Order key -> menu text.
ORDERS = {
    None: "Browser order",
    "uncertainty": "Label next (uncertainty)",
    "diverse": "Label next (diverse)",
    "disagreement": "Label errors",
}


#: Folds and time budget per fold of "Cross-predict labels (k-fold)".
KFOLD = 3
KFOLD_MINUTES = 2.0


def _cross_predict_and_find(
    project: Any, config: Any, k: int, *, cancel_token: Any, on_progress: Any
) -> LE.Findings:
    from fashionseg_gui.workers.training import preload_tensorflow_libraries

    preload_tensorflow_libraries()
    LE.cross_predict(project, config, k, cancel_token=cancel_token, on_progress=on_progress)
    return LE.find_label_errors(project)


def kfold_config(project: Any, minutes: float = KFOLD_MINUTES) -> Any:
    """The project's training settings with a time budget of ``minutes`` per fold."""
    from fashionseg_gui.core.train_config import TrainConfig

    saved = project.settings.get("train", {})
    values = dict(saved) if isinstance(saved, dict) else {}
    values.pop("resume_from", None)
    values["max_minutes"] = float(minutes)
    return TrainConfig.from_dict(values)


def _find(project: Any, *, cancel_token: Any, on_progress: Any) -> LE.Findings:
    on_progress(0, 1, "comparing labels with predictions")
    cancel_token.raise_if_cancelled()
    found = LE.find_label_errors(project)
    on_progress(1, 1, "done")
    return found


class QueueMenu(QObject):
    """The Queue menu of a window and the browser order it sets.

    Parameters
    ----------
    window : QWidget
        Has ``project``, ``browser``, ``jobs`` and a status bar.

    Signals
    -------
    sigOrderChanged(str)
        The order now shown (``""`` for the browser's own); emitted once the scores are set.
    """

    sigOrderChanged = Signal(str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        #: The order shown (None: the browser's own).
        self.order: str | None = None
        #: The finder's last result (which prediction each photo was compared with).
        self.findings: LE.Findings | None = None
        #: One line: what the order is and what it left out.
        self.summary = ""
        self._worker: JobWorker | None = None
        self.menu = QMenu("&Queue", window)
        group = QActionGroup(self)
        self.actions: dict[str | None, QAction] = {}
        for key, text in ORDERS.items():
            act = self.menu.addAction(text)
            act.setCheckable(True)
            act.setChecked(key is None)
            act.triggered.connect(lambda _c=False, key=key: self.show(key))
            group.addAction(act)
            self.actions[key] = act
        self.menu.addSeparator()
        self.next_action = self.menu.addAction("Next in &queue")
        self.next_action.setToolTip("Open the next photo of the queue")
        self.next_action.triggered.connect(self.select_next)
        self.kfold_action = self.menu.addAction("Cross-predict labels (k-fold)…")
        self.kfold_action.setToolTip(
            f"Train {KFOLD} small models, each on the other folds, so the label-error "
            "finder compares every label with a model that never saw it (slow)"
        )
        self.kfold_action.triggered.connect(lambda: self.cross_predict())

    # --- public -----------------------------------------------------------------------
    def show(self, order: str | None) -> bool:
        """Sort the browser by ``order`` (a key of :data:`ORDERS`); False if not possible."""
        project = self.window.project
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}")
        self.order = order
        self.actions[order].setChecked(True)
        if project is None or order is None:
            self.summary = ""
            self.findings = None
            self.window.browser.clear_scores()
            self.sigOrderChanged.emit("")
            return project is not None or order is None
        if order == "disagreement":
            return self._start_finder(project)
        queue = build_queue(project, order)
        self.summary = queue.summary()
        self._message(
            self.summary + (f". {next(iter(queue.stale.values()))}" if queue.stale else "")
        )
        self.window.browser.set_scores(queue.scores(), f"{ORDERS[order]}: mean entropy")
        self.sigOrderChanged.emit(order)
        return True

    def refresh(self) -> None:
        """Compute the shown order again (after a predict)."""
        if self.order is not None and self.window.project is not None:
            self.show(self.order)

    def reset(self) -> None:
        """Back to the browser's order (another project was opened)."""
        self.order = None
        self.findings = None
        self.summary = ""
        self.actions[None].setChecked(True)

    def select_next(self) -> None:
        """Open the next photo of the browser's order."""
        self.window.browser.select_next()

    def cross_predict(self, k: int = KFOLD, config: Any = None) -> bool:
        """k-fold cross-predict the labelled photos in a job, then show the label errors.

        ``config`` (a ``TrainConfig``) defaults to :func:`kfold_config`. The job is of kind
        ``"train"``: it trains, so it does not run beside a training or a prediction.
        """
        project = self.window.project
        if project is None or project.read_only:
            self._message("Open a writable project first.")
            return False
        config = kfold_config(project) if config is None else config
        worker = JobWorker(
            _cross_predict_and_find, project, config, int(k), name="k-fold cross-prediction"
        )
        if not self._submit(worker, "train", project):
            return False
        self.order = "disagreement"
        self.actions["disagreement"].setChecked(True)
        self._message(f"Cross-predicting the labelled photos with {k} folds…")
        return True

    def _submit(self, worker: JobWorker, kind: str, project: Any) -> bool:
        """Run a finder worker through the job service; False (and why) when refused."""
        # slots of this QObject (a plain callable would run in the worker thread)
        worker.finished.connect(self._on_found)
        worker.failed.connect(self._on_failed)
        try:
            self.window.jobs.submit(worker, kind, scope=project.root, owner=self)
        except JobRefused as exc:
            self._message(f"{exc}")
            return False
        self._worker = worker
        return True

    # --- the finder -------------------------------------------------------------------
    def _start_finder(self, project: Any) -> bool:
        worker = JobWorker(_find, project, name="label errors")
        if not self._submit(worker, "read file", project):
            return False
        self._message("Comparing the labels with the predictions…")
        return True

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        if self.sender() is self._worker:
            self._worker = None
            self._message(f"Label errors failed: {text}")

    @Slot(object)
    def _on_found(self, found: LE.Findings) -> None:
        if self.sender() is not self._worker or self.order != "disagreement":
            return  # a newer request, or another order was chosen meanwhile
        self._worker = None
        self.findings = found
        self.summary = found.summary()
        self._message(self.summary)
        sources = found.sources()
        where = ", ".join(f"{n} {k}" for k, n in sorted(sources.items())) or "none"
        self.window.browser.set_scores(
            {e.id: 1.0 - e.iou for e in found.items},
            f"Label errors: 1 - IoU (predictions: {where})",
        )
        self.sigOrderChanged.emit("disagreement")

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 15000)
