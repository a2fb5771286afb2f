"""Project edits that rewrite many files, run as jobs off the GUI thread.

Deleting a class rewrites every mask and shapes file (seconds for a few hundred photos, a
minute for thousands); :func:`delete_class_job` runs ``Project.delete_class`` on a worker
thread. The job service's policy (``"delete class"`` in :data:`~fashionseg_gui.workers.jobs.
POLICY`) keeps jobs that read or write masks from running beside it, and the window pauses
editing meanwhile. The project's events reach the views through the bridge.

Removing many photos moves their files into the project trash (:func:`remove_images_job`)
and emptying the trash deletes them (:func:`empty_trash_job`), off the GUI thread too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project


def delete_class_job(
    project: Project,
    class_id: int,
    pixels_to: int | None,
    *,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
) -> int:
    """Delete class ``class_id`` (its pixels become ``pixels_to``, None: unlabelled).

    Progress and cancellation are passed on when ``Project.delete_class`` takes them.

    Returns
    -------
    int
        The deleted class id.
    """
    name = project.classes[class_id].name if 0 <= class_id < len(project.classes) else "?"
    if on_progress is not None:
        on_progress(0, 0, f"deleting class {name}: rewriting the masks")
    params = inspect.signature(project.delete_class).parameters
    kwargs: dict[str, Any] = {}
    if "on_progress" in params:
        kwargs["on_progress"] = on_progress
    if "cancel_token" in params:
        kwargs["cancel_token"] = cancel_token
    project.delete_class(class_id, pixels_to, **kwargs)
    return class_id


def remove_images_job(
    project: Any,
    ids: list[str],
    *,
    cancel_token: Any = None,
    on_progress: Callable[..., None] | None = None,
) -> list[str]:
    """Move the photos ``ids`` (with their masks, shapes, predictions) to the project trash.

    One trash entry, committed at once (it is not cancellable half-way). Returns the report
    lines.
    """
    ids = [i for i in dict.fromkeys(ids) if i in project.images]
    if on_progress is not None:
        on_progress(0, 0, f"moving {len(ids)} photo(s) to the trash")
    stamp = project.remove_images(ids)
    if stamp is None:
        return ["Nothing was removed."]
    return [
        f"{len(ids)} photo(s) moved to the project trash (Edit ▸ Trash… restores them "
        "until the trash is emptied).",
        "The original files outside the project were not touched.",
    ]


def empty_trash_job(
    project: Any, *, cancel_token: Any = None, on_progress: Callable[..., None] | None = None
) -> int:
    """Delete the project trash for good; returns the number of photos deleted."""
    if on_progress is not None:
        on_progress(0, 0, "emptying the trash")
    return int(project.empty_trash())
