"""Changes of a project's class table: add, rename, recolour and delete a class.

Deleting a class rewrites every mask and shapes file (ids above it shift down by one) as a
transaction of :mod:`fashionseg_gui.core.recovery`, so an interruption at any point leaves
either the old project or the new one.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_bytes, atomic_write_json, encode_png
from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.records import MAX_CLASSES, PALETTE, ClassInfo, ProjectError, color_ok
from fashionseg_gui.core.recovery import complete_transaction, discard_staged, next_path

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def class_by_name(project: Project, name: str) -> ClassInfo | None:
    key = name.strip().casefold()
    return next((c for c in project.classes if c.name.casefold() == key), None)


def append_class(project: Project, name: str, color: str | None) -> ClassInfo:
    """Append a class to the table (not saved); a bad colour gets one of the palette."""
    name = name.strip()
    if not name:
        raise ProjectError("a class needs a name")
    if project.class_by_name(name) is not None:
        raise ProjectError(f"a class named {name!r} exists already")
    new_id = len(project.classes)
    if new_id >= MAX_CLASSES:
        raise ProjectError(f"at most {MAX_CLASSES} classes")
    if color is None or not color_ok(color):
        color = PALETTE[(new_id - 1) % len(PALETTE)] if new_id else "#000000"
    info = ClassInfo(new_id, name, color.lower(), str(new_id) if 1 <= new_id <= 9 else "")
    project.classes.append(info)
    return info


def add_class(project: Project, name: str, color: str | None = None) -> ClassInfo:
    project._check_writable()
    info = append_class(project, name, color)
    project.save()
    project.events.classes_changed.emit()
    return info


def rename_class(project: Project, class_id: int, name: str) -> None:
    project._check_writable()
    name = name.strip()
    other = project.class_by_name(name)
    if not name or (other is not None and other.id != class_id):
        raise ProjectError(f"cannot rename class to {name!r}")
    project.classes[class_id].name = name
    project.save()
    project.events.classes_changed.emit()


def recolor_class(project: Project, class_id: int, color: str) -> None:
    project._check_writable()
    if not color_ok(color):
        raise ProjectError(f"not a colour: {color!r} (use #rrggbb)")
    project.classes[class_id].color = color.lower()
    project.save()
    project.events.classes_changed.emit()


def delete_class(
    project: Project,
    class_id: int,
    pixels_to: int | None = None,
    on_progress: Any = None,
    cancel_token: Any = None,
) -> None:
    """See :meth:`fashionseg_gui.core.project.Project.delete_class`."""
    from fashionseg_gui.core.cancel import Cancelled

    project._check_writable()
    classes = project.classes
    if class_id == 0:
        raise ProjectError("the background class cannot be deleted")
    if not 0 < class_id < len(classes):
        raise ProjectError(f"no class with id {class_id}")
    target = IGNORE if pixels_to is None else int(pixels_to)
    if target != IGNORE and (target == class_id or not 0 <= target < len(classes)):
        raise ProjectError("pixels must go to another existing class or become unlabelled")
    lut = np.arange(256, dtype=np.uint8)
    lut[class_id] = target if target == IGNORE or target < class_id else target - 1
    lut[class_id + 1 : len(classes)] = np.arange(class_id, len(classes) - 1)
    with project._mutex:
        ids = list(project.images)
    staged: list[str] = []  # project-relative paths with a staged ``.next`` file
    try:
        for n, image_id in enumerate(ids):
            if cancel_token is not None and cancel_token.cancelled:
                raise Cancelled()
            if project.has_mask(image_id):
                mask = project.read_mask(image_id)
                rel = f"masks/{image_id}.png"
                atomic_write_bytes(next_path(project.mask_path(image_id)), encode_png(lut[mask]))
                staged.append(rel)
            if project.shapes_path(image_id).exists():
                shapes = []
                for s in project.read_shapes(image_id):
                    cid = int(s.get("class_id", 0))
                    if cid == class_id and target == IGNORE:
                        continue
                    s["class_id"] = int(lut[cid]) if 0 <= cid < 256 else cid
                    shapes.append(s)
                atomic_write_json(
                    next_path(project.shapes_path(image_id)), {"version": 1, "shapes": shapes}
                )
                staged.append(f"shapes/{image_id}.json")
            if on_progress is not None:
                on_progress(n + 1, len(ids), project.images[image_id].original_name)
        if cancel_token is not None and cancel_token.cancelled:
            raise Cancelled()
    except BaseException:
        discard_staged(project, staged)
        raise
    old_classes = [ClassInfo(**asdict(c)) for c in project.classes]
    del project.classes[class_id]
    for i, c in enumerate(project.classes):
        c.id = i
        c.shortcut = str(i) if 1 <= i <= 9 else ""
    project._transaction = {"kind": "delete_class", "files": staged}
    try:
        project.save()  # the commit point
    except BaseException:
        project.classes, project._transaction = old_classes, None
        discard_staged(project, staged)
        raise
    complete_transaction(project)
    project.events.classes_changed.emit()
    for image_id in ids:
        project.events.mask_changed.emit(image_id)
