"""The canvas's assisted-outline (GrabCut) proposal: shown tinted, its state, cleared.

:class:`GrabCutPreview` is mixed into :class:`~fashionseg_gui.views.canvas.view.CanvasView`;
the tool itself (box, computing, proposal, accept) is
:mod:`fashionseg_gui.views.canvas.tools.grabcut`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QImage

from fashionseg_gui.views.canvas.items import numpy_qimage
from fashionseg_gui.views.canvas.tools import GrabCutState
from fashionseg_gui.views.canvas.tools.grabcut import GrabCutTool

if TYPE_CHECKING:
    from fashionseg_gui.views.canvas.items import ImageItem
    from fashionseg_gui.views.canvas.tools import CanvasTool


class GrabCutPreview:
    """The proposal overlay (a mixin of the canvas view, which provides ``_tools``,
    ``classes``, ``current_class``, ``preview_item``, ``update_cursor()`` and
    ``clear_draft()``)."""

    if TYPE_CHECKING:
        _tools: dict[str, CanvasTool]
        _preview_buf: np.ndarray | None
        classes: list[Any]
        current_class: int
        preview_item: ImageItem

        def update_cursor(self) -> None: ...
        def clear_draft(self) -> None: ...

    def _grabcut(self) -> GrabCutTool:
        tool = self._tools["grabcut"]
        assert isinstance(tool, GrabCutTool)
        return tool

    @property
    def grabcut_state(self) -> GrabCutState:
        """Where the assisted outline stands (read-only; see :meth:`clear_grabcut`)."""
        return self._grabcut().state

    def set_grabcut_preview(self, proposal: np.ndarray | None, busy: bool = False) -> None:
        """Show a GrabCut proposal (H, W bool) tinted in the current class colour.

        ``busy=True`` marks the outline as computing (busy cursor); ``None`` removes the
        proposal (a computing or proposed outline then goes back to idle).
        """
        gc = self._grabcut()
        if busy:
            gc.state = GrabCutState.BUSY
            self.update_cursor()
            return
        if proposal is None:
            self._preview_buf = None
            self.preview_item.set_image(None)
            if gc.state in (GrabCutState.BUSY, GrabCutState.PROPOSAL):
                gc.state = GrabCutState.IDLE
            self.update_cursor()
            return
        cls = next((c for c in self.classes if c.id == self.current_class), None)
        r, g, b = cls.rgb if cls is not None else (255, 0, 255)
        buf = np.zeros(proposal.shape + (4,), np.uint8)
        buf[~proposal] = (0, 0, 0, 110)  # dim what is left out
        a = 0.55
        buf[proposal] = (round(r * a), round(g * a), round(b * a), round(255 * a))
        self._preview_buf = buf
        self.preview_item.set_image(numpy_qimage(buf, QImage.Format.Format_RGBA8888_Premultiplied))
        gc.state = GrabCutState.PROPOSAL
        self.update_cursor()

    def clear_grabcut(self) -> None:
        """Drop the assisted outline (its proposal and any box being drawn) without signals."""
        gc = self._grabcut()
        if gc.state is not GrabCutState.IDLE:
            self.set_grabcut_preview(None)
            gc.state = GrabCutState.IDLE
            self.clear_draft()
