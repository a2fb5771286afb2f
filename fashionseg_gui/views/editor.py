"""The annotation editor: tool bar + canvas + autosave + undo + assisted outline.

``EditorWidget`` edits one image of a :class:`~fashionseg_gui.core.project.Project` at a time
through an :class:`~fashionseg_gui.core.annotation.AnnotationDocument`. Edits autosave about
1.5 s after the last change, when another image is opened and on :meth:`EditorWidget.save_now`.
A failed save keeps the edit in memory (the image stays unsaved, even after switching images)
and emits ``sigSaveFailed(image_id, message)``.

Review mode: a photo whose mask is a prediction waiting for review (``core.provenance``)
shows the review bar: the prediction is drawn hatched, "Prediction of run X" and the
number of photos left to review are shown, H toggles the confidence heat-map, the regions
below a confidence threshold are outlined, and the changes against the prediction can be
shown. The same tools correct it; **Enter** accepts it (status ``corrected``, provenance
recorded: the run, the share of pixels changed, the active seconds) and opens the next
photo; **Shift+Delete** rejects it (the prediction is moved out, the photo is unlabelled
again). A stale prediction (the photo changed, the classes no longer match) cannot be
accepted; it is said why and nothing is lost.

Run standalone: ``python -m fashionseg_gui.views.editor [PROJECT]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core import provenance as P
from fashionseg_gui.core.annotation import AnnotationDocument
from fashionseg_gui.core.project import ProjectError
from fashionseg_gui.views.canvas import TOOLS, CanvasView, GrabCutState
from fashionseg_gui.views.canvas import registered as registered_tools
from fashionseg_gui.views.current_class import CurrentClass
from fashionseg_gui.views.editor_actions import TOOL_INFO, EditorActions  # noqa: F401 (re-exported)
from fashionseg_gui.views.editor_demo import demo_project, synthetic_photo  # noqa: F401 (re-exported)
from fashionseg_gui.views.editor_disk_sync import DiskSync
from fashionseg_gui.views.elided_label import ElidedLabel
from fashionseg_gui.views.grabcut_flow import GrabCutFlow
from fashionseg_gui.views.icons import swatch_icon
from fashionseg_gui.views.review_bar import ReviewBar
from fashionseg_gui.views.review_mode import ReviewMode, ReviewState  # noqa: F401 (re-exported)
from fashionseg_gui.workers.bridge import ProjectSignals
from fashionseg_gui.workers.jobs import JobService

if TYPE_CHECKING:
    from fashionseg_gui.core.grabcut import GrabCutResult
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.workers.base import JobWorker

AUTOSAVE_MS = 1500
CACHE_SIZE = 8  # open documents kept (with their undo history) when switching images
INFO_WIDTH = 190  # the cursor/zoom text at the bottom right ("x 1024, y 768 — class  100 %")

#: Tools that change the document (disabled in a read-only project).
EDIT_TOOLS = tuple(cls.name for cls in registered_tools() if cls.edits)
#: Input events that count as activity while a prediction is reviewed.
_ACTIVE_EVENTS = frozenset(
    {QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.KeyPress, QEvent.Type.Wheel}
)


class EditorWidget(EditorActions, DiskSync, ReviewMode, GrabCutFlow, QWidget):
    """Canvas and tool bar for annotating the images of a project.

    Signals
    -------
    sigCursorInfo(str)
        ``"x 120, y 45 — preppy"``; empty when the cursor leaves the photo.
    sigImageSaved(str image_id), sigSaveFailed(str image_id, str message)
    sigCurrentClassChanged(int class_id), sigDirtyChanged(bool has_unsaved)
    sigMessage(str)
        Hints and refusals for a status bar.
    sigReviewAccepted(str image_id), sigReviewRejected(str image_id)
        A reviewed prediction was accepted (now ``corrected``) or rejected.
    """

    sigCursorInfo = Signal(str)
    sigImageSaved = Signal(str)
    sigSaveFailed = Signal(str, str)
    sigCurrentClassChanged = Signal(int)
    sigDirtyChanged = Signal(bool)
    sigMessage = Signal(str)
    sigReviewAccepted = Signal(str)
    sigReviewRejected = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        jobs: JobService | None = None,
        project_signals: ProjectSignals | None = None,
        current_class: CurrentClass | None = None,
    ) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        #: Runs the assisted-outline jobs (a new request replaces the running one).
        self.jobs = jobs if jobs is not None else JobService.shared()
        self.doc: AnnotationDocument | None = None
        self._photo: np.ndarray | None = None
        self._docs: OrderedDict[str, AnnotationDocument] = OrderedDict()
        #: The painting class: the window's one state (the Classes panel and the status bar
        #: follow it too), or the editor's own when it runs alone.
        self.current = current_class if current_class is not None else CurrentClass(self)
        self._saving: str | None = None
        self._last_dirty = False
        self._gc_worker: JobWorker | None = None
        self._gc_result: GrabCutResult | None = None
        #: What the open documents' files on disk looked like when they were read.
        self._stamps: dict[str, tuple[Any, ...]] = {}
        #: The prediction under review (None when the open photo is not one).
        self.review: ReviewState | None = None
        self._review_timers: dict[str, P.ActiveTimer] = {}
        self._clock: Callable[[], float] = time.monotonic
        #: Opens the photo after an accepted review (the window sets the browser's next);
        #: None: the editor opens the next photo waiting for review itself.
        self.next_photo: Callable[[], Any] | None = None

        self.canvas = CanvasView(self)
        # Project events reach the editor through the app's one bridge (the window's, or
        # the editor's own when it runs alone); they arrive on the GUI thread.
        self.project_signals = (
            project_signals if project_signals is not None else ProjectSignals(self)
        )
        self.project_signals.mask_changed.connect(self._on_mask_changed)
        self.project_signals.image_changed.connect(self._on_image_changed)
        self.project_signals.classes_changed.connect(self._on_classes_changed)
        self.project_signals.images_changed.connect(self._on_images_changed)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_now)

        self._build_actions()
        self._build_ui()
        self._connect_canvas()
        self.current.changed.connect(self._on_current_class)
        self._show_current_class()
        self.canvas.installEventFilter(self)
        self.canvas.viewport().installEventFilter(self)
        self.set_tool("brush")
        self._update_enabled()

    # --- construction --------------------------------------------------------------------
    def _build_ui(self) -> None:
        bar = QToolBar("Annotation tools", self)
        bar.setIconSize(QSize(22, 22))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for act in self._tool_actions.values():
            bar.addAction(act)
        bar.addSeparator()
        bar.addAction(self.undo_action)
        bar.addAction(self.redo_action)
        bar.addSeparator()
        self.class_combo = QComboBox(bar)
        self.class_combo.setToolTip("Current class (keys 1..9, 0 = background)")
        # A fixed width: a project with long class names never widens the window.
        self.class_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.class_combo.setMinimumContentsLength(14)
        self.class_combo.currentIndexChanged.connect(self._on_class_combo)
        bar.addWidget(self.class_combo)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.fit_action)
        bar.addAction(self.zoom100_action)
        self.toolbar = bar

        # The view controls sit in the row below the canvas, beside the tool hint: the top
        # bar then fits a canvas of 640 pixels (a 1366-pixel screen with both docks open).
        view_bar = QToolBar("View", self)
        view_bar.setIconSize(QSize(18, 18))
        view_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        view_bar.addWidget(QLabel(" Size ", view_bar))
        self.brush_spin = QSpinBox(view_bar)
        self.brush_spin.setRange(1, 500)
        self.brush_spin.setValue(self.canvas.brush_size)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush and eraser size ([ smaller, ] larger)")
        self.brush_spin.valueChanged.connect(self.canvas.set_brush_size)
        view_bar.addWidget(self.brush_spin)
        view_bar.addWidget(QLabel(" Opacity ", view_bar))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, view_bar)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(round(self.canvas.opacity * 100))
        self.opacity_slider.setFixedWidth(80)
        self.opacity_slider.setToolTip("Overlay opacity")
        self.opacity_slider.valueChanged.connect(lambda v: self.canvas.set_opacity(v / 100))
        view_bar.addWidget(self.opacity_slider)
        view_bar.addAction(self.outline_action)
        view_bar.setMinimumWidth(view_bar.sizeHint().width())  # never folded into "»"
        self.view_bar = view_bar

        # Long hints and messages are cut ("…", whole in the tooltip): a change of tool or a
        # message never resizes the window, so the photo never moves.
        self.hint_label = ElidedLabel("", self)
        self.hint_label.setStyleSheet("color: palette(mid); padding: 2px 6px;")
        self.info_label = ElidedLabel("", self)
        self.info_label.setStyleSheet("padding: 2px 6px;")
        self.info_label.setFixedWidth(INFO_WIDTH)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        status = QHBoxLayout()
        status.setContentsMargins(0, 0, 0, 0)
        status.addWidget(self.hint_label, 1)
        status.addWidget(view_bar)
        status.addWidget(self.info_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.review_bar = ReviewBar(self)
        self.review_bar.hide()
        self.review_bar.sigAccept.connect(self.accept_prediction)
        self.review_bar.sigReject.connect(self.reject_prediction)
        self.review_bar.sigHeatmap.connect(lambda _on: self._show_review_overlays())
        self.review_bar.sigOutlines.connect(lambda _on: self._show_review_overlays())
        self.review_bar.sigThreshold.connect(lambda _t: self._show_review_overlays())
        self.review_bar.sigDiff.connect(lambda _on: self._show_review_overlays())

        layout.addWidget(bar)
        layout.addWidget(self.review_bar)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(status)

    def _connect_canvas(self) -> None:
        c = self.canvas
        c.sigEdited.connect(self._on_edited)
        c.sigCursorMoved.connect(self._on_cursor)
        c.sigMessage.connect(self._message)
        c.sigToolRequested.connect(self.set_tool)
        c.sigClassKey.connect(self._on_class_key)
        c.sigBrushSizeChanged.connect(self.brush_spin.setValue)
        c.sigZoomChanged.connect(lambda _z: self._show_info(""))
        c.sigGrabCutRequested.connect(self._on_grabcut_requested)
        c.sigGrabCutAccepted.connect(self._accept_grabcut)
        c.sigGrabCutRejected.connect(self._reject_grabcut)
        c.sigAcceptKey.connect(self._on_accept_key)

    # --- public API ----------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Show ``project`` (None: nothing). Saves the previous project's edits first."""
        if self.project is not None:
            self.save_now()
        self.open_image(None)
        self._docs.clear()
        self._stamps.clear()
        self.project = project
        self.project_signals.set_project(project)  # the window's bridge: already following
        if project is not None:
            self._on_classes_changed()
        self._update_enabled()
        self._emit_dirty()

    def open_image(self, image_id: str | None) -> None:
        """Edit ``image_id`` (None: show nothing); the previous image is saved first."""
        if self.doc is not None and image_id == self.doc.image_id:
            return
        self._reject_grabcut()
        if self.doc is not None and self.doc.dirty:
            self._save_doc(self.doc)
        self._leave_review()
        self.doc, self._photo = None, None
        if image_id is None or self.project is None:
            self.canvas.set_document(None, None)
            self._update_enabled()
            return
        try:
            doc = self._docs.pop(image_id, None)
            if doc is None:  # read from disk: remember what the files looked like
                self._stamps[image_id] = self._disk_stamp(image_id)
                doc = AnnotationDocument(self.project, image_id)
            photo = self.project.read_image(image_id)
        except (ProjectError, OSError, KeyError, ValueError) as exc:
            self.canvas.set_document(None, None)
            self._message(f"cannot open this image: {exc}")
            self._update_enabled()
            return
        self._docs[image_id] = doc
        self._trim_cache()
        self.doc, self._photo = doc, photo
        self.canvas.set_document(doc, photo)
        self._enter_review(doc)
        self._update_enabled()
        self._emit_dirty()

    def current_image_id(self) -> str | None:
        return self.doc.image_id if self.doc is not None else None

    def set_current_class(self, class_id: int) -> None:
        """Paint with ``class_id`` (ignored when the project has no such class)."""
        self.current.set(class_id)

    def current_class(self) -> int:
        return self.current.value()

    def _on_current_class(self, class_id: int) -> None:
        """The current class changed (here, in the Classes panel, by a key): show it."""
        self._show_current_class()
        self.sigCurrentClassChanged.emit(class_id)

    def _show_current_class(self) -> None:
        class_id = self.current.value()
        self.canvas.current_class = class_id
        idx = self.class_combo.findData(class_id)
        if idx >= 0 and idx != self.class_combo.currentIndex():
            self.class_combo.setCurrentIndex(idx)
        if self._gc_result is not None and self.canvas.grabcut_state is GrabCutState.PROPOSAL:
            self.canvas.set_grabcut_preview(self._gc_result.mask)

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        self.canvas.set_class_visible(class_id, visible)

    def set_tool(self, name: str) -> None:
        """Switch tool: one of ``TOOLS`` (select, polygon, rect, brush, eraser, fill, grabcut,
        eyedropper)."""
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}")
        if self._read_only() and name in EDIT_TOOLS:
            name = "select"
        self.canvas.set_tool(name)
        self._tool_actions[name].setChecked(True)
        label, key, hint = TOOL_INFO[name]
        self.hint_label.setText(f"{label} ({key}): {hint}")

    def tool(self) -> str:
        return self.canvas.tool

    def save_now(self) -> bool:
        """Save every image with unsaved edits; True when nothing is left unsaved."""
        self._autosave.stop()
        ok = True
        for doc in list(self._docs.values()):
            if doc.dirty:
                ok = self._save_doc(doc) and ok
        self._trim_cache()
        self._emit_dirty()
        return ok

    def has_unsaved(self) -> bool:
        return any(d.dirty for d in self._docs.values())

    def unsaved_ids(self) -> list[str]:
        return [i for i, d in self._docs.items() if d.dirty]

    def tool_actions(self) -> list[QAction]:
        return list(self._tool_actions.values())

    def view_actions(self) -> list[QAction]:
        """Fit, 100 %, outline toggle, brush size steps, save (for a View menu)."""
        return [
            self.fit_action,
            self.zoom100_action,
            self.outline_action,
            self.smaller_action,
            self.larger_action,
            self.save_action,
        ]

    def undo(self) -> None:
        if self.doc is None or self._busy_drawing():
            return
        if self.doc.can_undo:
            self.canvas.refresh(self.doc.undo())
            self._on_edited()

    def redo(self) -> None:
        if self.doc is None or self._busy_drawing():
            return
        if self.doc.can_redo:
            self.canvas.refresh(self.doc.redo())
            self._on_edited()

    def shutdown(self) -> None:
        """Save and stop background work (call before the window closes)."""
        self._reject_grabcut()
        self.jobs.stop(owner=self, msecs=5000)
        self.save_now()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)

    # --- internals -----------------------------------------------------------------------
    def _read_only(self) -> bool:
        return self.project is not None and self.project.read_only

    def _busy_drawing(self) -> bool:
        return self.canvas.busy_drawing()

    def _trim_cache(self) -> None:
        current = self.current_image_id()
        for key in list(self._docs):
            if len(self._docs) <= CACHE_SIZE:
                break
            if key != current and not self._docs[key].dirty:
                del self._docs[key]

    def _save_doc(self, doc: AnnotationDocument, accepted: bool = False) -> bool:
        self._saving = doc.image_id
        try:
            doc.save()
            self._record_review(doc, accepted)
        except (OSError, ProjectError, P.ReviewError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            rec = self.project.images.get(doc.image_id) if self.project else None
            name = rec.original_name if rec is not None and rec.original_name else doc.image_id
            message = f"could not save the mask of {name}: {reason}"
            self.sigSaveFailed.emit(doc.image_id, message)
            self._message(message)
            return False
        finally:
            self._saving = None
        self._stamps[doc.image_id] = self._disk_stamp(doc.image_id)
        self.sigImageSaved.emit(doc.image_id)
        return True

    def _emit_dirty(self) -> None:
        dirty = self.has_unsaved()
        if dirty != self._last_dirty:
            self._last_dirty = dirty
            self.sigDirtyChanged.emit(dirty)

    def _on_edited(self) -> None:
        if self.review is not None and self.review_bar.diff_box.isChecked():
            self._show_review_overlays()
        self._autosave.start()
        self._update_enabled()
        self._emit_dirty()

    def _update_enabled(self) -> None:
        has_doc = self.doc is not None
        editable = has_doc and not self._read_only()
        self.canvas.read_only = self._read_only()
        for name, act in self._tool_actions.items():
            act.setEnabled(has_doc and (editable or name not in EDIT_TOOLS))
        self.undo_action.setEnabled(editable and self.doc is not None and self.doc.can_undo)
        self.redo_action.setEnabled(editable and self.doc is not None and self.doc.can_redo)
        if self.doc is not None:
            self.undo_action.setToolTip(f"Undo {self.doc.undo_label} (Ctrl+Z)".replace("  ", " "))
            self.redo_action.setToolTip(f"Redo {self.doc.redo_label} (Ctrl+Shift+Z or Ctrl+Y)")
        self.save_action.setEnabled(editable)
        reviewing = editable and self.review is not None
        self.accept_action.setEnabled(
            reviewing and self.review is not None and self.review.stale is None
        )
        self.reject_action.setEnabled(reviewing)
        self.review_bar.accept_button.setEnabled(self.accept_action.isEnabled())
        self.review_bar.reject_button.setEnabled(reviewing)
        for act in (self.fit_action, self.zoom100_action):
            act.setEnabled(has_doc)

    def _message(self, text: str) -> None:
        self.hint_label.setText(text)
        self.sigMessage.emit(text)

    def _show_info(self, text: str) -> None:
        zoom = f"{self.canvas.zoom * 100:.0f} %" if self.doc is not None else ""
        self.info_label.setText(f"{text}    {zoom}" if text else zoom)

    def _class_name(self, class_id: int) -> str:
        if class_id == 255:
            return "unlabelled"
        if self.project is not None and 0 <= class_id < len(self.project.classes):
            return self.project.classes[class_id].name
        return f"class {class_id} (unknown)"

    def _on_cursor(self, x: int, y: int, class_id: int) -> None:
        text = "" if x < 0 else f"x {x}, y {y} \u2014 {self._class_name(class_id)}"
        self._show_info(text)
        self.sigCursorInfo.emit(text)

    def _on_class_key(self, n: int) -> None:
        if self.project is not None and n < len(self.project.classes):
            self.set_current_class(n)

    def _on_class_combo(self, index: int) -> None:
        data = self.class_combo.itemData(index)
        if data is not None:
            self.set_current_class(int(data))

    def _toggle_outline(self, checked: bool) -> None:
        self.canvas.set_outline(checked)

    def _step_brush(self, direction: int) -> None:
        size = self.canvas.brush_size
        step = max(1, round(size * 0.15))
        self.canvas.set_brush_size(size + direction * step)

    # project events (already on the GUI thread through the bridge)
    def _on_classes_changed(self) -> None:
        if self.project is None:
            return
        classes = self.project.classes
        self.canvas.set_classes(classes)
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for c in classes:
            key = f"  ({c.shortcut})" if c.shortcut else ""
            self.class_combo.addItem(swatch_icon(c.color, 14), f"{c.name}{key}", c.id)
        self.class_combo.blockSignals(False)
        self.current.set_project(self.project)  # a new project resets it, new classes clamp it
        self._show_current_class()  # the combo was rebuilt

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        # review mode: input on the canvas counts as active review time
        if self.review is not None and event.type() in _ACTIVE_EVENTS:
            self.review.timer.event(self._clock())
        return super().eventFilter(obj, event)


# --- standalone ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    import tempfile

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.project import Project
    from fashionseg_gui.views.style import exec_demo

    parser = argparse.ArgumentParser(
        prog="python -m fashionseg_gui.views.editor",
        description="The FashionSeg annotation editor on its own.",
    )
    parser.add_argument("project", nargs="?", help="project folder (default: a temporary demo)")
    parser.add_argument("--image", help="image id to open (default: the first)")
    parser.add_argument(
        "--quit-after-shown",
        action="store_true",
        help="print seconds from start to the shown window, then quit",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = None
    try:
        if args.project:
            project = Project.open(args.project)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="fashionseg-editor-")
            project = demo_project(Path(tmp.name))
    except ProjectError as exc:
        print(f"editor: error: {exc}", file=sys.stderr)
        return 2
    editor = EditorWidget()
    editor.setWindowTitle(f"FashionSeg editor \u2014 {project.name}")
    editor.resize(1100, 760)
    editor.set_project(project)
    first = args.image or next(iter(project.images), None)
    editor.open_image(first)
    editor.sigSaveFailed.connect(lambda _i, m: print(m, file=sys.stderr))
    editor.show()
    if args.quit_after_shown:

        def done() -> None:
            print(f"shown after {time.perf_counter() - t0:.3f} s")
            editor.close()
            app.quit()

        QTimer.singleShot(0, done)
    rc = exec_demo(app)
    editor.shutdown()
    project.close()
    if tmp is not None:
        tmp.cleanup()
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
