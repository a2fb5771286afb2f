"""Thumbnails made off the GUI thread, cached on disk and in memory.

The browser asks for the thumbnail of an item only when the list view paints it (so a
5,000-image project requests only the visible ones). Requests go to a LIFO queue served
by a few ``QRunnable`` tasks on a private ``QThreadPool``: the items the user scrolled to
last come first, and requests for items scrolled past long ago are dropped.

Disk cache: ``<project>/.cache/thumbs/<id>.jpg`` (rebuilt when the image file is newer).
Memory cache: an LRU of ``QImage`` (cheap to share between threads, unlike ``QPixmap``).
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from fashionseg_gui.core.atomic import atomic_write_bytes
from fashionseg_gui.workers.gc_guard import collect_on_gui_thread

log = logging.getLogger(__name__)

THUMB_SIZE = 96
MAX_PENDING = 256


def thumb_cache_path(project_root: Path, image_id: str) -> Path:
    """Where the disk-cached thumbnail of ``image_id`` lives."""
    return Path(project_root) / ".cache" / "thumbs" / f"{image_id}.jpg"


def load_or_make_thumbnail(image_path: Path, cache_path: Path, size: int = THUMB_SIZE) -> QImage:
    """Read the cached thumbnail, or make it from the image and cache it.

    Runs in a worker thread (QImage is safe off the GUI thread).

    Parameters
    ----------
    image_path : Path
        The project's copy of the photo.
    cache_path : Path
        The JPEG cache file.
    size : int
        Largest side in pixels.

    Returns
    -------
    QImage
        The thumbnail (null QImage if the photo cannot be read).
    """
    try:
        if cache_path.is_file() and cache_path.stat().st_mtime >= image_path.stat().st_mtime:
            img = QImage(str(cache_path))
            if not img.isNull() and max(img.width(), img.height()) <= size:
                return img
    except OSError:
        pass
    from PIL import Image

    from fashionseg_gui.core.images import make_thumbnail

    rgb = make_thumbnail(image_path, size)
    h, w = rgb.shape[:2]
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    try:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
        atomic_write_bytes(cache_path, buf.getvalue())
    except OSError as exc:  # a read-only project still gets thumbnails, just not cached
        log.debug("thumbnail cache not written for %s: %s", cache_path, exc)
    return img


class _Signals(QObject):
    done = Signal(str, str, QImage)  # generation key, image id, image
    failed = Signal(str, str, str)  # generation key, image id, message


class _Task(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader
        self.setAutoDelete(True)

    def run(self) -> None:
        loader = self._loader
        while True:
            job = loader._pop()
            if job is None:
                return
            key, image_id, image_path, cache_path = job
            try:
                img = load_or_make_thumbnail(image_path, cache_path, loader.size)
            except Exception as exc:  # a bad file must never kill the pool
                loader._signals.failed.emit(key, image_id, str(exc) or type(exc).__name__)
            else:
                loader._signals.done.emit(key, image_id, img)


class ThumbnailLoader(QObject):
    """Asynchronous thumbnail provider with a memory LRU and a disk cache.

    Signals
    -------
    sigThumbnailReady(str image_id)
        The thumbnail is now in :meth:`get`'s cache.
    """

    sigThumbnailReady = Signal(str)

    def __init__(
        self,
        size: int = THUMB_SIZE,
        capacity: int = 600,
        threads: int = 2,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.size = size
        self.capacity = capacity
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, str, Path, Path]] = deque()
        self._queued: set[str] = set()
        self._running = 0
        self._max_threads = threads
        collect_on_gui_thread()  # its tasks run Python on the pool's threads
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._root: Path | None = None
        self._key = ""
        self._signals = _Signals()
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)

    def set_project_root(self, root: Path | None) -> None:
        """Switch projects: forget the memory cache and every pending request."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()
        self._cache.clear()
        self._failed.clear()
        self._root = Path(root) if root is not None else None
        self._key = str(root) if root is not None else ""

    def get(self, image_id: str) -> QImage | None:
        """The cached thumbnail (marked recently used), or None."""
        img = self._cache.get(image_id)
        if img is not None:
            self._cache.move_to_end(image_id)
        return img

    def has_failed(self, image_id: str) -> bool:
        """Whether the thumbnail could not be made (the browser shows a placeholder)."""
        return image_id in self._failed

    def invalidate(self, image_id: str) -> None:
        """Forget a thumbnail (after the image changed)."""
        self._cache.pop(image_id, None)
        self._failed.discard(image_id)
        if self._root is not None:
            thumb_cache_path(self._root, image_id).unlink(missing_ok=True)

    def request(self, image_id: str, image_path: Path) -> None:
        """Ask for a thumbnail; ``sigThumbnailReady`` follows when it is cached."""
        if self._root is None or image_id in self._cache or image_id in self._failed:
            return
        with self._lock:
            if image_id in self._queued:
                # move it to the front: it is visible now
                for i, job in enumerate(self._queue):
                    if job[1] == image_id:
                        del self._queue[i]
                        break
            self._queue.append(
                (self._key, image_id, Path(image_path), thumb_cache_path(self._root, image_id))
            )
            self._queued.add(image_id)
            while len(self._queue) > MAX_PENDING:
                dropped = self._queue.popleft()
                self._queued.discard(dropped[1])
            start = self._running < self._max_threads
            if start:
                self._running += 1
        if start:
            self._pool.start(_Task(self))

    def pending(self) -> int:
        """Number of requests not yet served."""
        with self._lock:
            return len(self._queue)

    def wait_idle(self, msecs: int = 10000) -> bool:
        """Block until every task has finished (for shutdown and tests)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Drop pending work and wait for the running tasks."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()
        self._pool.waitForDone(5000)

    # --- worker side --------------------------------------------------------------------
    def _pop(self) -> tuple[str, str, Path, Path] | None:
        with self._lock:
            if not self._queue:
                self._running -= 1
                return None
            job = self._queue.pop()  # LIFO: the most recently shown item first
            self._queued.discard(job[1])
            return job

    # --- GUI side -----------------------------------------------------------------------
    def _on_done(self, key: str, image_id: str, img: QImage) -> None:
        if key != self._key:
            return  # a result for a project that is no longer open
        self._cache[image_id] = img
        self._cache.move_to_end(image_id)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.sigThumbnailReady.emit(image_id)

    def _on_failed(self, key: str, image_id: str, message: str) -> None:
        if key != self._key:
            return
        log.info("no thumbnail for %s: %s", image_id, message)
        self._failed.add(image_id)
        self.sigThumbnailReady.emit(image_id)
