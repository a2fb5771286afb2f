"""Atomic file writes: a temp file in the same folder, flush, fsync, ``os.replace``.

A crash or a full disk at any point leaves either the old file or the new one, never a
half-written file, and never a stray temp file when the failure is an exception. A new file
gets the mode the user's umask gives (``mkstemp`` alone would make it 0600); a replaced file
keeps its mode.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _target_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], before_replace: Callable[[], None] | None = None
) -> Iterator[BinaryIO]:
    """Open a binary temp file next to ``path``; on success it replaces ``path``.

    ``before_replace`` runs once the new content is fully written and synced, just before
    the switch (``project.json`` rotates its backups there, so a failed write rotates none).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, _target_mode(path))
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, before_replace: Callable[[], None] | None = None
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, before_replace) as fh:
        fh.write(data)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Serialise ``obj`` fully in memory first, then write it atomically (UTF-8)."""
    text = json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=False)
    atomic_write_bytes(path, text.encode("utf-8"))


def encode_png(array: np.ndarray) -> bytes:
    """A uint8 label mask (H, W) or RGB image (H, W, 3) as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def atomic_save_png(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Save a uint8 label mask (H, W) or RGB image (H, W, 3) as PNG, atomically."""
    atomic_write_bytes(path, encode_png(array))


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Save arrays as a compressed ``.npz`` (no pickled objects), atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, allow_pickle=False, **arrays)
    atomic_write_bytes(path, buf.getvalue())
