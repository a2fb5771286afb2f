"""What a crash leaves in a project folder, found on open and offered to the user.

- *Orphan photos*: files in ``images/`` that no image record names (an import killed
  after copying, before ``project.json`` was saved). They are never deleted silently:
  :func:`reattach` adds them back as images, :func:`remove` moves them to the trash.
  A later import of the same photo finds the copy (by the SHA-256 of its bytes) and
  adopts it instead of copying the photo again (:func:`adopt_copy`).
- *Temp files*: ``.<name>.<random>.tmp`` files of writes killed half-way (the atomic
  write removes its own on an exception). Only those older than :data:`TEMP_GRACE_S`
  count, so a write in progress on another thread is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fashionseg_gui.core.paths import UnsafePathError, check_file_name, check_id

if TYPE_CHECKING:
    from fashionseg_gui.core.project import ImportOutcome, Leftovers, Project

TEMP_GRACE_S = 60.0
_TEMP_RE = re.compile(r"\..+\.tmp\Z")
_FOLDERS = ("", "images", "masks", "shapes", "predictions")


def _orphan_names(project: Project) -> list[str]:
    with project._mutex:
        known = {r.file for r in project.images.values()}
    try:
        names = os.listdir(project.root / "images")
    except OSError:
        return []
    out = []
    for name in sorted(names):
        if name in known or _TEMP_RE.match(name) or name.startswith("."):
            continue
        path = project.root / "images" / name
        if path.is_file() and not path.is_symlink():
            out.append(name)
    return out


def _temp_files(project: Project, grace_s: float) -> list[str]:
    now = time.time()
    out = []
    for folder in _FOLDERS:
        base = project.root / folder if folder else project.root
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if not _TEMP_RE.match(name):
                continue
            try:
                age = now - (base / name).stat().st_mtime
            except OSError:
                continue
            if age >= grace_s:
                out.append(f"{folder}/{name}" if folder else name)
    return sorted(out)


def find(project: Project, grace_s: float = TEMP_GRACE_S) -> Leftovers:
    from fashionseg_gui.core.project import Leftovers

    return Leftovers(orphans=_orphan_names(project), temp_files=_temp_files(project, grace_s))


def _sha_of_file(path: os.PathLike[str] | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def adopt_copy(project: Project, data: bytes) -> tuple[str, str] | None:
    """(image id, file) of an orphan copy in ``images/`` holding exactly ``data``, if any.

    Orphans come only from an earlier process that died, so they are listed once per
    open project (not once per imported photo); an adopted one leaves the list.
    """
    state = project.__dict__
    if "_orphans" not in state:
        state["_orphans"] = _orphan_names(project)
    orphans: list[str] = state["_orphans"]
    if not orphans:
        return None
    cache: dict[str, tuple[float, int, str]] = state.setdefault("_orphan_sha", {})
    want = hashlib.sha256(data).hexdigest()
    for name in list(orphans):
        path = project.root / "images" / name
        try:
            st = path.stat()
            key = (st.st_mtime, st.st_size)
            if st.st_size != len(data):
                continue
            if name not in cache or cache[name][:2] != key:
                cache[name] = (*key, _sha_of_file(path))
        except OSError:
            continue
        if cache[name][2] == want:
            stem = name.rsplit(".", 1)[0]
            try:
                image_id = check_id(stem)
            except UnsafePathError:
                image_id = uuid.uuid4().hex[:12]
            if image_id in project.images:
                image_id = uuid.uuid4().hex[:12]
            orphans.remove(name)
            return image_id, name
    return None


def reattach(project: Project, files: Iterable[str] | None = None) -> list[ImportOutcome]:
    """Import orphan photos of ``images/`` back as images (they are adopted, not copied)."""
    from fashionseg_gui.core.project import ProjectError

    project._check_writable()
    orphans = _orphan_names(project)
    project.__dict__["_orphans"] = list(orphans)
    chosen = orphans if files is None else [f for f in files if f in set(orphans)]
    paths = []
    for name in chosen:
        try:
            paths.append(project.path("images", check_file_name(name)))
        except (UnsafePathError, ProjectError):
            continue
    return project.import_images(paths, source="recovered from images/")


def remove(
    project: Project,
    orphans: Iterable[str] = (),
    temp_files: bool = True,
    grace_s: float = TEMP_GRACE_S,
) -> int:
    """Move the named orphans to ``trash/orphans-<stamp>/``, delete stale temp files."""
    project._check_writable()
    project.__dict__.pop("_orphans", None)  # listed afresh by the next import
    n = 0
    known = set(_orphan_names(project))
    moving = [o for o in orphans if o in known]
    if moving:
        dest = project.root / "trash" / f"orphans-{time.strftime('%Y%m%d-%H%M%S')}"
        dest.mkdir(parents=True, exist_ok=True)
        for name in moving:
            with contextlib.suppress(OSError):
                shutil.move(os.fspath(project.root / "images" / name), os.fspath(dest / name))
                n += 1
    if temp_files:
        for rel in _temp_files(project, grace_s):
            with contextlib.suppress(OSError):
                (project.root / rel).unlink()
                n += 1
    return n
