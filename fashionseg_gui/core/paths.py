"""The one place where a name taken from a project file becomes a path.

Ids and file names come from ``project.json`` (or a VIA file), which may have been shared
or downloaded: they are data, never trusted. :func:`safe_join` joins them under a folder
and refuses anything that would resolve outside it (``..``, an absolute path, a drive, a
symbolic link pointing away); :func:`check_id` and :func:`check_file_name` validate them
when the project is opened.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Image ids: what the app generates (12 hex digits) and what older or hand-made projects
# used, restricted to a fixed alphabet that is safe in every file system.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")


class UnsafePathError(ValueError):
    """A name from a project file would leave its folder."""


def check_id(image_id: object) -> str:
    """``image_id`` if it is a safe id (letters, digits, ``_`` and ``-``, at most 64)."""
    if not isinstance(image_id, str) or not _ID_RE.match(image_id):
        raise UnsafePathError(
            f"image id {image_id!r} is not a valid id (letters, digits, '_' and '-' only)"
        )
    return image_id


def check_file_name(name: object) -> str:
    """``name`` if it is a plain relative file name inside its folder (no folder parts)."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise UnsafePathError(f"file name {name!r} is not valid")
    if "/" in name or "\\" in name or "\0" in name or ":" in name:  # covers isabs too
        raise UnsafePathError(f"file name {name!r} must be a plain name inside the folder")
    return name


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """``root / parts...``, refused when the result resolves outside ``root``.

    Raises
    ------
    UnsafePathError
        When a part is absolute, climbs out with ``..``, or a symbolic link on the way
        points outside ``root``.
    """
    base = Path(root)
    path = base
    for part in parts:
        if not isinstance(part, str) or "\0" in part:
            raise UnsafePathError(f"path part {part!r} is not valid")
        p = Path(part)
        if p.is_absolute() or p.drive or p.anchor:
            raise UnsafePathError(f"{part!r} is an absolute path")
        path = path / p
    base_real = os.path.realpath(base)
    real = os.path.realpath(path)
    if real != base_real and not real.startswith(base_real.rstrip(os.sep) + os.sep):
        raise UnsafePathError(f"{os.fspath(path)!r} is outside {os.fspath(base)!r}")
    return path
