"""Review mode of the editor: a photo whose mask is a prediction waiting for review.

:class:`ReviewMode` is mixed into :class:`~fashionseg_gui.views.editor.EditorWidget`. Opening
such a photo shows the review bar: the prediction is drawn hatched, the run and the number
of photos left to review are shown, and the heat-map, the low-confidence outlines and the
changes against the prediction are drawn as the bar asks. :meth:`ReviewMode.accept_prediction`
(Enter) saves it as ``corrected`` with its provenance (``core.provenance``) and opens the next
photo; :meth:`ReviewMode.reject_prediction` (Shift+Delete) moves the prediction out and the
photo is unlabelled again. A stale prediction cannot be accepted; it is said why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core import label_errors
from fashionseg_gui.core import provenance as P
from fashionseg_gui.core.project import ProjectError

if TYPE_CHECKING:
    from fashionseg_gui.core.annotation import AnnotationDocument
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.views.canvas import CanvasView
    from fashionseg_gui.views.review_bar import ReviewBar


@dataclass
class ReviewState:
    """The prediction under review in the editor."""

    image_id: str
    info: P.PredictionInfo
    stale: str | None
    timer: P.ActiveTimer

    @property
    def run(self) -> str:
        return self.info.run


class ReviewMode:
    """Enter / leave review, the overlays, accept and reject (a mixin of the editor, which
    provides ``project``, ``doc``, ``canvas``, ``review_bar``, ``review``, ``next_photo``,
    ``_review_timers``, ``_clock`` and its save / open / message methods)."""

    if TYPE_CHECKING:
        project: Project | None
        doc: AnnotationDocument | None
        canvas: CanvasView
        review_bar: ReviewBar
        review: ReviewState | None
        next_photo: Callable[[], Any] | None
        _review_timers: dict[str, P.ActiveTimer]
        _clock: Callable[[], float]
        sigReviewAccepted: Any
        sigReviewRejected: Any

        def _message(self, text: str) -> None: ...
        def _read_only(self) -> bool: ...
        def _busy_drawing(self) -> bool: ...
        def _save_doc(self, doc: AnnotationDocument, accepted: bool = False) -> bool: ...
        def _emit_dirty(self) -> None: ...
        def _update_enabled(self) -> None: ...
        def _reject_grabcut(self) -> None: ...
        def open_image(self, image_id: str | None) -> None: ...

    def review_left(self) -> int:
        """How many predicted photos wait for review (the open one included)."""
        return len(P.pending_ids(self.project)) if self.project is not None else 0

    def _enter_review(self, doc: AnnotationDocument) -> None:
        assert self.project is not None
        image_id = doc.image_id
        if not (doc.from_prediction or P.review_pending(self.project, image_id)):
            return
        try:
            info = P.read_prediction_info(self.project, image_id)
        except P.ReviewError as exc:
            self._message(str(exc))
            return
        if info is None:
            return
        stale = P.stale_reason(self.project, image_id, info)
        timer = self._review_timers.get(image_id)
        if timer is None:
            entry = P.get(self.project, image_id) or {}
            timer = P.ActiveTimer(float(entry.get("active_seconds", 0.0) or 0.0))
            self._review_timers[image_id] = timer
        self.review = ReviewState(image_id, info, stale, timer)
        self.canvas.set_prediction_style(stale is None or doc.from_prediction)
        self._show_review_overlays()
        left = self.review_left()
        self.review_bar.show_review(info.run, left, stale)
        who = f"run {info.run}" if info.run else "an earlier run"
        if stale:
            self._message(
                f"Prediction of {who}: it cannot be accepted: {stale}. Nothing "
                f"is changed; Shift+Delete discards it."
            )
        else:
            self._message(
                f"Prediction of {who} \u2014 correct it with the tools; Enter "
                f"accepts, Shift+Delete rejects, H heat-map ({left} left to review)"
            )

    def _leave_review(self) -> None:
        if self.review is not None:
            self.review.timer.pause()
        self.review = None
        self.review_bar.hide()
        self.canvas.clear_review()

    def _show_review_overlays(self) -> None:
        """Draw the heat-map, low-confidence outlines and changes the review bar asks for."""
        r, doc = self.review, self.doc
        if r is None or doc is None or r.info.confidence.shape != doc.mask.shape:
            self.canvas.set_heatmap(None)
            self.canvas.set_diff(None)
            self.canvas.set_low_confidence(None)
            return
        conf = np.asarray(r.info.confidence, np.float32)
        bar = self.review_bar
        self.canvas.set_heatmap(conf if bar.heatmap_box.isChecked() else None)
        if bar.outline_box.isChecked():
            self.canvas.set_low_confidence(P.low_confidence_contours(conf, bar.threshold()))
        else:
            self.canvas.set_low_confidence(None)
        if bar.diff_box.isChecked() and r.info.class_ids.shape == doc.mask.shape:
            self.canvas.set_diff(label_errors.diff_map(doc.mask, r.info.class_ids, conf))
        else:
            self.canvas.set_diff(None)

    def _toggle_heatmap(self) -> None:
        if self.review is None:
            self._message(
                "the heat-map shows the confidence of a prediction: this photo "
                "has none under review"
            )
            return
        self.review_bar.heatmap_box.toggle()

    def _on_accept_key(self) -> None:
        if self.review is not None:
            self.accept_prediction()

    def _record_review(self, doc: AnnotationDocument, accepted: bool) -> None:
        """After a save of the photo under review: store its provenance (pending until
        accepted, so that a review left half-done is found again)."""
        r = self.review
        if (
            r is None
            or r.image_id != doc.image_id
            or r.stale is not None
            or self.project is None
            or r.info.class_ids.shape != doc.mask.shape
        ):
            return
        P.record(
            self.project,
            doc.image_id,
            run=r.run,
            pixels_changed=P.changed_pixels(r.info.class_ids, doc.mask),
            pixels=doc.mask.size,
            active_seconds=r.timer.seconds,
            accepted=accepted,
        )

    def accept_prediction(self) -> bool:
        """Accept the prediction under review as corrected, record its provenance and open
        the next photo. False (and a message) when there is nothing to accept."""
        r, doc = self.review, self.doc
        if r is None or doc is None or self.project is None:
            self._message("no prediction to accept on this photo")
            return False
        if self._read_only():
            self._message("the project is read-only: a prediction cannot be accepted")
            return False
        if r.stale is not None:
            self._message(f"cannot accept this prediction: {r.stale}")
            return False
        if self._busy_drawing():
            self._message("finish or cancel the drawing first (Esc)")
            return False
        if not np.any(doc.mask != 255):
            self._message("nothing is labelled in this photo: reject the prediction instead")
            return False
        r.timer.event(self._clock())
        doc.dirty = True  # an unchanged prediction is saved as the label too
        if not self._save_doc(doc, accepted=True):
            return False
        self._emit_dirty()
        entry = P.get(self.project, doc.image_id) or {}
        image_id = doc.image_id
        self._leave_review()
        self._review_timers.pop(image_id, None)
        self.canvas.refresh()
        self._update_enabled()
        left = self.review_left()
        self.sigReviewAccepted.emit(image_id)
        self._open_next_review(image_id)
        self._message(
            f"Accepted as corrected: {100 * entry.get('changed_share', 0):.1f} % of "
            f"the pixels changed, {entry.get('active_seconds', 0):.0f} s; "
            + (
                f"{left} predicted photos left to review"
                if left
                else "every predicted photo is reviewed"
            )
        )
        return True

    def _open_next_review(self, done_id: str) -> None:
        if self.next_photo is not None:
            self.next_photo()
            return
        assert self.project is not None
        ids = list(self.project.images)
        pending = set(P.pending_ids(self.project))
        start = ids.index(done_id) + 1 if done_id in ids else 0
        for image_id in ids[start:] + ids[:start]:
            if image_id in pending:
                self.open_image(image_id)
                return

    def reject_prediction(self) -> bool:
        """Discard the prediction under review: the file moves to predictions/rejected/, a
        mask saved from it goes, the photo is unlabelled again (its shapes are kept)."""
        r, doc = self.review, self.doc
        if r is None or doc is None or self.project is None:
            self._message("no prediction to reject on this photo")
            return False
        if self._read_only():
            self._message("the project is read-only: a prediction cannot be rejected")
            return False
        if self._busy_drawing():
            self._message("finish or cancel the drawing first (Esc)")
            return False
        image_id = doc.image_id
        self._reject_grabcut()
        self._autosave.stop()
        if doc.dirty:  # the shapes drawn meanwhile are the user's: keep them
            try:
                self.project.write_shapes(image_id, doc.shapes)
            except (OSError, ProjectError) as exc:
                self._message(f"cannot reject the prediction: {exc}")
                return False
        self._saving = image_id
        try:
            status = P.reject(self.project, image_id)
        except (OSError, ProjectError, P.ReviewError) as exc:
            self._message(f"cannot reject the prediction: {exc}")
            return False
        finally:
            self._saving = None
        who = f"run {r.run}" if r.run else "an earlier run"
        self._leave_review()
        self._review_timers.pop(image_id, None)
        self._docs.pop(image_id, None)
        self._stamps.pop(image_id, None)
        self.doc = None
        transform = self.canvas.transform()
        self.open_image(image_id)
        self.canvas.setTransform(transform)
        self._emit_dirty()
        self.sigReviewRejected.emit(image_id)
        self._message(
            f"Rejected the prediction of {who}: the photo is {status} again (the "
            f"file is kept in predictions/rejected)"
        )
        return True
