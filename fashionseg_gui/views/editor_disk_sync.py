"""The editor follows changes on disk: a mask or prediction written by a job, photos removed.

:class:`DiskSync` is mixed into :class:`~fashionseg_gui.views.editor.EditorWidget`; the
project bridge calls its slots on the GUI thread. A document with unsaved edits is never
replaced (the edits win and the next save writes them); an unchanged one is read again,
keeping the zoom and the pan.
"""

from __future__ import annotations

from typing import Any


class DiskSync:
    """Reload open documents whose files changed on disk (a mixin of the editor)."""

    def _disk_stamp(self, image_id: str) -> tuple[Any, ...]:
        """Modification time and size of the image's mask and prediction files."""
        assert self.project is not None
        stamp: list[Any] = []
        for path in (self.project.mask_path(image_id), self.project.prediction_path(image_id)):
            try:
                st = path.stat()
            except OSError:
                stamp.append(None)
            else:
                stamp.append((st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def _on_mask_changed(self, image_id: str) -> None:
        if image_id == self._saving:
            return
        self._reload_from_disk(image_id)

    def _on_image_changed(self, image_id: str) -> None:
        """A record changed (status, split...): reload if its mask or prediction changed
        on disk (a prediction written for the open photo)."""
        if image_id == self._saving or image_id not in self._docs or self.project is None:
            return
        if self._disk_stamp(image_id) != self._stamps.get(image_id):
            self._reload_from_disk(image_id)

    def _reload_from_disk(self, image_id: str) -> None:
        """Read ``image_id`` again from disk, unless it has unsaved edits (they win)."""
        doc = self._docs.get(image_id)
        if doc is None:
            return
        if doc.dirty:  # unsaved edits win; the next save writes them
            if self.doc is doc:
                self._message(
                    "This photo's mask or prediction changed on disk; your unsaved "
                    "edits are kept (saving them replaces it)."
                )
            return
        del self._docs[image_id]
        self._stamps.pop(image_id, None)
        if self.doc is doc:
            self.doc = None
            # Restoring the transform alone moved the photo: the scroll position comes back
            # from the scene's margins, so a prediction for the open photo showed its top-left
            # corner at the view's centre.
            view = self.canvas.view_state()
            self.open_image(image_id)
            self.canvas.restore_view(view)

    def _on_images_changed(self, ids: list[str]) -> None:
        if self.project is None:
            return
        for image_id in ids:
            if image_id not in self.project.images:
                self._docs.pop(image_id, None)
                if self.doc is not None and self.doc.image_id == image_id:
                    self.doc = None
                    self.open_image(None)
        self._emit_dirty()
