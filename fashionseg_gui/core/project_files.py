"""An image's files in a project: the photo, the label mask, its shapes, the prediction.

An image's status follows its files: a stored mask means labelled, and a mask with no
labelled pixel is not stored. A mask and its shapes are saved as one pair
(:func:`save_annotation`); :mod:`fashionseg_gui.core.recovery` settles a pair a crash
interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_bytes, atomic_write_json, encode_png
from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.records import STATUSES, ProjectError
from fashionseg_gui.core.recovery import next_path

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def is_empty(mask: np.ndarray) -> bool:
    """True when no pixel of the mask is labelled (all 255)."""
    return not bool((mask != IGNORE).any())


def holds_none_number(shape: dict[str, Any]) -> bool:
    """Whether a shape's coordinates hold a None (a NaN or infinity cleared on read)."""
    stack: list[Any] = [v for k, v in shape.items() if k != "label"]
    while stack:
        v = stack.pop()
        if v is None:
            return True
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return False


def read_mask(project: Project, image_id: str) -> np.ndarray:
    """The label mask (H, W) uint8; all 255 (unlabelled) when none is stored."""
    from fashionseg_gui.core.masks import MaskRejected, read_stored_mask

    rec = project.images[image_id]
    path = project.mask_path(image_id)
    if project._transaction is not None and next_path(path).exists():
        path = next_path(path)  # a read-only open of an interrupted class change
    if not path.exists():
        return np.full((rec.height, rec.width), IGNORE, np.uint8)
    try:  # a damaged mask or a decompression bomb: one clear ProjectError
        return read_stored_mask(path, (rec.height, rec.width), rec.original_name)
    except MaskRejected as exc:
        raise ProjectError(str(exc)) from None


def checked_mask(project: Project, image_id: str, mask: np.ndarray, status: str) -> np.ndarray:
    """``mask`` as an array, after checking the project is writable and mask and status fit."""
    project._check_writable()
    rec = project.images[image_id]
    mask = np.asarray(mask)
    if mask.shape != (rec.height, rec.width) or mask.dtype != np.uint8:
        raise ProjectError(
            f"mask must be uint8 {(rec.height, rec.width)}, got {mask.dtype} {mask.shape}"
        )
    if status not in STATUSES:
        raise ProjectError(f"unknown status {status!r}")
    return mask


def write_mask(
    project: Project,
    image_id: str,
    mask: np.ndarray,
    status: str = "labelled",
    *,
    encoded: bytes | None = None,
) -> None:
    """See :meth:`fashionseg_gui.core.project.Project.write_mask`."""
    mask = checked_mask(project, image_id, mask, status)
    if encoded is None:
        encoded = b"" if is_empty(mask) else encode_png(mask)
    store_mask(project, image_id, encoded, status)


def save_annotation(
    project: Project,
    image_id: str,
    mask: np.ndarray,
    shapes: list[dict[str, Any]],
    status: str = "labelled",
) -> None:
    """See :meth:`fashionseg_gui.core.project.Project.save_annotation`."""
    mask = checked_mask(project, image_id, mask, status)
    data = b"" if is_empty(mask) else encode_png(mask)
    sha = hashlib.sha256(data).hexdigest() if data else ""
    final = project.shapes_path(image_id)
    staged = next_path(final)
    atomic_write_json(staged, {"version": 1, "shapes": shapes, "mask_sha256": sha})
    try:
        project.write_mask(image_id, mask, status, encoded=data)
        os.replace(staged, final)
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise


def store_mask(project: Project, image_id: str, data: bytes, status: str) -> None:
    """Write (or, for ``b""``, remove) the mask file and set the status, crash-safely.

    The order keeps the only possible half-state "a mask file with a not-labelled
    status", which :func:`fashionseg_gui.core.recovery.reconcile` repairs on the next open.
    """
    rec = project.images[image_id]
    path = project.mask_path(image_id)
    if data:
        atomic_write_bytes(path, data)
        project.events.mask_changed.emit(image_id)
        new = status if status in ("labelled", "corrected") else "labelled"
    else:
        new = "predicted" if project.prediction_path(image_id).exists() else "unlabelled"
    if rec.status != new:
        rec.status = new
        project.save()
        project.events.image_changed.emit(image_id)
    if not data:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        project.events.mask_changed.emit(image_id)


def read_shapes(project: Project, image_id: str) -> list[dict[str, Any]]:
    """The stored shapes; a value that is not a number (NaN) drops its shape."""
    from fashionseg_gui.core.schema import SchemaError, loads_finite

    path = project.shapes_path(image_id)
    if project._transaction is not None and next_path(path).exists():
        path = next_path(path)
    if not path.exists():
        return []
    try:
        data, repaired = loads_finite(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SchemaError) as exc:
        raise ProjectError(f"cannot read shapes of {image_id}: {exc}") from exc
    shapes = data.get("shapes", []) if isinstance(data, dict) else data
    if not isinstance(shapes, list):
        raise ProjectError(f"cannot read shapes of {image_id}: not a list of shapes")
    shapes = [s for s in shapes if isinstance(s, dict)]
    if repaired:
        shapes = [s for s in shapes if not holds_none_number(s)]
    return shapes


def write_shapes(project: Project, image_id: str, shapes: list[dict[str, Any]]) -> None:
    project._check_writable()
    atomic_write_json(project.shapes_path(image_id), {"version": 1, "shapes": shapes})


def read_prediction(project: Project, image_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored prediction ``(class_ids, confidence)``, or None when there is none."""
    path = project.prediction_path(image_id)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["class_ids"], data["confidence"]
    except (OSError, ValueError, KeyError, EOFError) as exc:  # damaged, pickled, not npz
        raise ProjectError(
            f"the prediction of {image_id} cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
