"""The assisted outline (GrabCut) flow of the editor.

:class:`GrabCutFlow` is mixed into :class:`~fashionseg_gui.views.editor.EditorWidget`: a
request of the canvas's assisted-outline tool (a box, a lasso or refinement strokes) runs
``core.grabcut`` in a worker of the job service (a new request cancels the previous one);
the proposal is previewed on the canvas, Enter writes it into the current class as one undo
step and Esc drops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtCore import QObject

    from fashionseg_gui.core.annotation import AnnotationDocument
    from fashionseg_gui.core.grabcut import GrabCutResult
    from fashionseg_gui.views.canvas import CanvasView
    from fashionseg_gui.views.current_class import CurrentClass
    from fashionseg_gui.workers.base import JobWorker
    from fashionseg_gui.workers.jobs import JobService


class GrabCutFlow:
    """Request, preview, accept and reject an assisted outline (a mixin of the editor, which
    provides ``doc``, ``canvas``, ``current``, ``jobs``, ``_photo``, ``_gc_result``,
    ``_gc_worker`` and its message / edit methods)."""

    if TYPE_CHECKING:
        doc: AnnotationDocument | None
        canvas: CanvasView
        current: CurrentClass
        jobs: JobService
        _photo: np.ndarray | None
        _gc_result: GrabCutResult | None
        _gc_worker: JobWorker | None

        def sender(self) -> QObject: ...
        def _message(self, text: str) -> None: ...
        def _read_only(self) -> bool: ...
        def _on_edited(self) -> None: ...

    def _on_grabcut_requested(self, request: dict[str, Any]) -> None:
        from fashionseg_gui.core import grabcut
        from fashionseg_gui.workers.base import JobWorker

        if self._photo is None or self.doc is None:
            return
        mode = request["mode"]
        if mode == "rect":
            self._gc_result = None
            worker = JobWorker(
                grabcut.propose_from_rect, self._photo, request["rect"], name="grabcut"
            )
        elif mode == "lasso":
            self._gc_result = None
            worker = JobWorker(
                grabcut.propose_from_lasso, self._photo, request["points"], name="grabcut"
            )
        elif self._gc_result is not None:
            worker = JobWorker(
                grabcut.refine,
                self._photo,
                self._gc_result.state,
                request.get("fg"),
                request.get("bg"),
                name="grabcut",
            )
        else:
            return
        # Bound methods of this widget: Qt queues them to the GUI thread (a lambda would run
        # in the worker thread). The sender tells which job answered.
        worker.finished.connect(self._grabcut_done)
        worker.failed.connect(self._grabcut_failed)
        worker.cancelled.connect(self._grabcut_cancelled)
        self._gc_worker = worker
        self.canvas.set_grabcut_preview(None, busy=True)
        self._message("Assisted outline: computing\u2026")
        # A new request replaces (cancels) the previous one; the service keeps it alive.
        self.jobs.submit(worker, "grabcut", scope=self, owner=self)

    def _retire_worker(self) -> None:
        """Cancel the running assisted-outline job (its late answer is ignored)."""
        self.jobs.cancel_all(scope=self, kinds=["grabcut"])
        self._gc_worker = None

    def _current_job(self) -> bool:
        sender = self.sender()
        return sender is not None and sender is self._gc_worker and self.doc is not None

    def _grabcut_done(self, result: GrabCutResult) -> None:
        if not self._current_job():
            return
        self._gc_result = result
        self.canvas.set_grabcut_preview(result.mask)
        self._message(
            "Assisted outline: Enter accepts into the current class, Esc rejects; "
            "paint strokes to refine (left = keep, right = remove)"
        )

    def _grabcut_failed(self, message: str) -> None:
        if not self._current_job():
            return
        if self._gc_result is not None:
            self.canvas.set_grabcut_preview(self._gc_result.mask)
        else:
            self.canvas.set_grabcut_preview(None)
        if message:
            self._message(f"Assisted outline: {message}")

    def _grabcut_cancelled(self) -> None:
        self._grabcut_failed("")

    def _accept_grabcut(self) -> None:
        if self._gc_result is None or self.doc is None or self._read_only():
            return
        region = self.doc.set_region(
            self._gc_result.mask, self.current.value(), label="assisted outline"
        )
        self._reject_grabcut()
        self.canvas.refresh(region)
        self._on_edited()

    def _reject_grabcut(self) -> None:
        self._gc_result = None
        self._retire_worker()
        self.canvas.clear_grabcut()
