"""Importing photos into a project: decode, de-duplicate, copy into ``images/``, record.

A copy that a crashed import left in ``images/`` is adopted instead of written twice
(:func:`fashionseg_gui.core.leftovers.adopt_copy`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core.atomic import atomic_write_bytes
from fashionseg_gui.core.records import ImageRecord, ImportOutcome, ProjectError, displayable

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def add_image_file(
    project: Project, path: str | os.PathLike[str], source: str = ""
) -> ImportOutcome:
    """Import one photo (decoded by content). A refused file changes nothing."""
    from fashionseg_gui.core import leftovers
    from fashionseg_gui.core.images import ImageRejected, decode_for_import

    project._check_writable()
    outcome = ImportOutcome(str(path))
    try:
        decoded = decode_for_import(path)
    except ImageRejected as exc:
        outcome.error = displayable(str(exc))
        return outcome
    if decoded.sha256 in project._sha_index:
        outcome.duplicate_of = project._sha_index[decoded.sha256]
        outcome.error = (
            f"{Path(path).name}: duplicate of an image already in the project "
            f"({project.images[outcome.duplicate_of].original_name})"
        )
        return outcome
    data, ext = decoded.project_copy()
    adopted = leftovers.adopt_copy(project, data)  # a copy a crashed import left behind
    if adopted is not None:
        image_id, file = adopted
    else:
        image_id = uuid.uuid4().hex[:12]
        file = f"{image_id}{ext}"
        dest = project.path("images", file)
        try:
            atomic_write_bytes(dest, data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                dest.unlink()
            if exc.errno == errno.ENOSPC:
                raise ProjectError(f"disk full while importing {Path(path).name}") from exc
            raise
    width, height = decoded.image.size
    rec = ImageRecord(
        id=image_id,
        file=file,
        width=width,
        height=height,
        source=displayable(source or str(Path(path).parent)),
        sha256=decoded.sha256,
        original_name=displayable(Path(path).name),
        warnings=[displayable(w) for w in decoded.warnings],
    )
    with project._mutex:
        project.images[image_id] = rec
        project._sha_index[rec.sha256] = image_id
    outcome.image_id = image_id
    outcome.warnings = list(decoded.warnings)
    return outcome


def import_images(
    project: Project,
    paths: Iterable[str | os.PathLike[str]],
    source: str = "",
    on_progress: Any = None,
    cancel_token: Any = None,
) -> list[ImportOutcome]:
    """Import many photos; one bad file never stops the batch. Saves once at the end."""
    paths = list(paths)
    outcomes: list[ImportOutcome] = []
    try:  # add_image_file does not save: project.json is written once, below
        for i, p in enumerate(paths):
            if cancel_token is not None and cancel_token.cancelled:
                break
            outcomes.append(project.add_image_file(p, source=source))
            if on_progress is not None:
                on_progress(i + 1, len(paths), Path(p).name)
    finally:
        added = [o.image_id for o in outcomes if o.image_id]
        if added:
            project.save()
            project.events.images_changed.emit(added)
    return outcomes
