"""Atomic file writes: a temp file in the same folder, flush, fsync, ``os.replace``.

A crash or a full disk at any point leaves either the old file or the new one, never a
half-written file, and never a stray temp file when the failure is an exception.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary temp file next to ``path``; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as fh:
        fh.write(data)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Serialise ``obj`` fully in memory first, then write it atomically (UTF-8)."""
    text = json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=False)
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_png(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Save a uint8 label mask (H, W) or RGB image (H, W, 3) as PNG, atomically."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
    atomic_write_bytes(path, buf.getvalue())


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Save arrays as a compressed ``.npz`` (no pickled objects), atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
