"""The project folder: ``project.json`` + images, masks, shapes, predictions and runs.

On disk (the public contract, see ``docs/FORMAT.md``)::

    my-project/
      project.json              schema_version, classes, images, settings (atomic, 3 backups)
      project.json.bak1..3      the previous versions, newest first
      .fashionseg.lock          present while an instance has the project open for writing
      trash/<stamp>/            removed images (record + files), restorable until emptied
      images/<id>.<ext>         imported photos (original bytes, or an upright RGB PNG copy)
      masks/<id>.png            uint8 label mask: class id, 255 = not labelled
      shapes/<id>.json          vector shapes that produced the mask
      predictions/<id>.npz      class_ids (uint8) + confidence (float16)
      runs/<run_id>/            training runs

Every write is atomic; opening a project reads only JSON and lists the folders (no image
is decoded). Every id and file name read from ``project.json`` is validated on open and
joined through :func:`fashionseg_gui.core.paths.safe_join`, which refuses paths outside
the folder.

Multi-file changes are crash-safe:

- an image's status follows its files: a stored mask means labelled (an all-unlabelled
  mask is not stored), so a save writes the mask and then the status, and a crash in
  between is repaired on open (:meth:`Project.reconcile`);
- a mask and its shapes are one pair: the shapes are staged as ``shapes/<id>.json.next``
  naming the mask they belong to, and switched in once the mask is written (or dropped on
  open if the mask never was);
- deleting a class writes every new mask beside the old (``<id>.png.next``), then commits
  the new class table together with a ``transaction`` record in ``project.json`` and
  switches the files; an open completes a committed switch or discards an uncommitted one.

The work lives in modules of its own, and :class:`Project` delegates to them:
:mod:`~fashionseg_gui.core.records` (classes, image records, statuses, errors),
:mod:`~fashionseg_gui.core.project_json` (reading, validating, migrating, backups),
:mod:`~fashionseg_gui.core.project_files` (mask, shapes and prediction files),
:mod:`~fashionseg_gui.core.project_import` (photo import),
:mod:`~fashionseg_gui.core.class_table` (class changes) and
:mod:`~fashionseg_gui.core.recovery` (staged files, transactions, repair on open).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from fashionseg_gui.core import class_table, project_files, project_import, project_json, recovery
from fashionseg_gui.core.atomic import atomic_write_bytes
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.lock import LockHolder, ProjectLock
from fashionseg_gui.core.paths import UnsafePathError, check_id, safe_join
from fashionseg_gui.core.project_json import (
    MAX_PROJECT_BYTES,
    N_BACKUPS,
    PROJECT_FILE,
    SCHEMA_VERSION,
    migrate,
)
from fashionseg_gui.core.records import (
    DEFAULT_CLASSES,
    DEMO_COLOURS,
    MAX_CLASSES,
    OLD_DEMO_CLASSES,
    PALETTE,
    SPLITS,
    STATUSES,
    ClassInfo,
    ImageRecord,
    ImportOutcome,
    Leftovers,
    ProjectError,
    ReadOnlyError,
    displayable,
)
from fashionseg_gui.core.recovery import NEXT_SUFFIX

__all__ = [
    "DEFAULT_CLASSES",
    "DEMO_COLOURS",
    "IGNORE",
    "LOCK_FILE",
    "MAX_CLASSES",
    "MAX_PROJECT_BYTES",
    "N_BACKUPS",
    "NEXT_SUFFIX",
    "OLD_DEMO_CLASSES",
    "PALETTE",
    "PROJECT_FILE",
    "SCHEMA_VERSION",
    "SPLITS",
    "STATUSES",
    "TRASH_DIR",
    "ClassInfo",
    "ImageRecord",
    "ImportOutcome",
    "Leftovers",
    "LockHolder",
    "Project",
    "ProjectError",
    "ProjectEvents",
    "ReadOnlyError",
    "displayable",
    "migrate",
]

LOCK_FILE = ".fashionseg.lock"
TRASH_DIR = "trash"


class ProjectEvents(SignalGroup):
    """Plain-Python change notifications (psygnal); views connect to these."""

    images_changed = Signal(list)  # ids added or removed
    image_changed = Signal(str)  # record fields (status, split, style) changed
    mask_changed = Signal(str)
    classes_changed = Signal()
    settings_changed = Signal()
    saved = Signal()


class Project:
    """A project folder opened for reading and (unless ``read_only``) writing."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.classes: list[ClassInfo] = []
        self.images: dict[str, ImageRecord] = {}
        self.settings: dict[str, Any] = {}
        self.read_only = False
        self.read_only_reason = ""
        self.events = ProjectEvents()
        self._lock = ProjectLock(self.root / LOCK_FILE)
        self._sha_index: dict[str, str] = {}
        self.open_warnings: list[str] = []
        self._transaction: dict[str, Any] | None = None
        self._batch_depth = 0
        self._save_pending = False
        self._defaults_updated = False  # default class colours replaced on load
        # Import jobs add records on a worker thread while the GUI thread may save: every
        # change of ``images`` and every save holds this lock.
        self._mutex = threading.RLock()

    # --- paths -------------------------------------------------------------------------
    @property
    def project_file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def path(self, *parts: str) -> Path:
        """``root / parts``; raises :class:`ProjectError` for a path outside the project."""
        try:
            return safe_join(self.root, *parts)
        except UnsafePathError as exc:
            raise ProjectError(f"refused a path outside the project: {exc}") from exc

    def _id_path(self, folder: str, image_id: str, suffix: str) -> Path:
        try:
            check_id(image_id)
        except UnsafePathError as exc:
            raise ProjectError(str(exc)) from exc
        return self.path(folder, f"{image_id}{suffix}")

    def image_path(self, image_id: str) -> Path:
        return self.path("images", self.images[image_id].file)

    def mask_path(self, image_id: str) -> Path:
        return self._id_path("masks", image_id, ".png")

    def shapes_path(self, image_id: str) -> Path:
        return self._id_path("shapes", image_id, ".json")

    def prediction_path(self, image_id: str) -> Path:
        return self._id_path("predictions", image_id, ".npz")

    @property
    def name(self) -> str:
        return self.root.name

    # --- create / open / save / close ----------------------------------------------------
    @classmethod
    def create(
        cls, root: str | os.PathLike[str], classes: list[tuple[str, str]] | None = None
    ) -> Project:
        """Create a new project folder (it may exist but must not hold a project)."""
        root = Path(root)
        if (root / PROJECT_FILE).exists():
            raise ProjectError(f"{root} already holds a project; open it instead")
        project = cls(root)
        for name, color in classes or DEFAULT_CLASSES:  # validated before anything is written
            project._append_class(name, color)
        try:
            for sub in ("images", "masks", "shapes", "predictions", "runs"):
                (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create project folder {root}: {exc.strerror}") from exc
        project.settings = {"created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        project._acquire_lock()
        project.save()
        return project

    @classmethod
    def open(cls, root: str | os.PathLike[str], read_only: bool = False) -> Project:
        """Open a project; read-only if asked, if the folder is not writable or locked.

        ``project.json`` is validated as a whole (schema, ids, file names); when it does
        not validate, the newest backup that does is used and :attr:`open_warnings` says
        so. A writable open then completes or discards an interrupted multi-file change
        and repairs statuses that do not match the files (:meth:`reconcile`).
        """
        root = Path(root)
        pfile = root / PROJECT_FILE
        if not pfile.is_file():
            raise ProjectError(f"{root} is not a FashionSeg project (no {PROJECT_FILE})")
        project = cls(root)
        version = project._read_json_with_fallback(pfile)
        needs_migration = version < SCHEMA_VERSION
        if read_only:
            project._set_read_only("opened read-only")
        elif not os.access(root, os.W_OK) or not os.access(pfile, os.W_OK):
            project._set_read_only("the project folder is not writable")
        else:
            project._acquire_lock()
        if not project.read_only:
            for sub in ("images", "masks", "shapes", "predictions", "runs"):
                (root / sub).mkdir(exist_ok=True)  # empty folders are not kept by git or zip
        if needs_migration and not project.read_only:
            shutil.copy2(pfile, root / f"{PROJECT_FILE}.v{version}.bak")
            project.save()
        if not project.read_only:
            project.reconcile()
            if project._defaults_updated:  # the demo's untouched default colours
                project.save()
        return project

    def _read_json_with_fallback(self, pfile: Path) -> int:
        """Load the newest of project.json and its backups that validates; its version."""
        return project_json.read_with_fallback(self, pfile)

    def to_dict(self) -> dict[str, Any]:
        with self._mutex:
            return project_json.to_dict(self)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group many changes into one save of project.json (at the end, even on error)."""
        with self._mutex:
            self._batch_depth += 1
        try:
            yield
        finally:
            with self._mutex:
                self._batch_depth -= 1
                flush = self._batch_depth == 0 and self._save_pending
            if flush:
                self.save()

    def save(self) -> None:
        """Write project.json atomically, keeping the previous versions as backups.

        The backups are rotated only once the new content is fully written, so a failed
        save (disk full, a value that cannot be written) keeps every backup.
        """
        self._check_writable()
        with self._mutex:
            if self._batch_depth:
                self._save_pending = True
                return
            self._save_pending = False
            data = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)
            atomic_write_bytes(
                self.project_file, data.encode("utf-8"), before_replace=self._rotate_backups
            )
        self.events.saved.emit()

    def _rotate_backups(self) -> None:
        project_json.rotate_backups(self.project_file)

    def close(self) -> None:
        """Release the lock. The project object must not be used for writing afterwards."""
        self._release_lock()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._release_lock()

    # --- lock ----------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def lock_owned(self) -> bool:
        """Whether this instance holds the project's lock (it is the one writer)."""
        return self._lock.owned

    def lock_holder(self) -> LockHolder | None:
        """Who holds the lock when the project opened read-only because of it (else None).

        ``LockHolder.pid``, ``.host`` and ``.since`` (a POSIX time) may each be unknown;
        ``describe()`` words it ("process 123 on host since 2026-01-01 10:00").
        """
        if self._lock.owned:
            return None
        return self._lock.holder()

    def take_over(self) -> None:
        """Break another instance's lock and reopen for writing (the user's choice).

        Raises :class:`ProjectError` when the folder is not writable or the lock cannot be
        written. The project is re-read from disk first, since the other instance may
        have saved since this one opened.
        """
        if not self.read_only:
            return
        if not os.access(self.root, os.W_OK):
            raise ProjectError("the project folder is not writable")
        try:
            ok = self._lock.take_over()
        except OSError as exc:
            raise ProjectError(f"cannot write the project lock: {exc.strerror}") from exc
        if not ok:
            raise ProjectError("the project lock could not be taken")
        try:
            self._read_json_with_fallback(self.project_file)
        except ProjectError:
            self._lock.release()
            raise
        self.read_only = False
        self.read_only_reason = ""
        self.reconcile()
        self.events.images_changed.emit(list(self.images))
        self.events.classes_changed.emit()

    def _acquire_lock(self) -> None:
        try:
            ok = self._lock.acquire()
        except OSError as exc:
            self._set_read_only(f"cannot write a lock file ({exc.strerror})")
            return
        if not ok:
            holder = self._lock.holder()
            who = holder.describe() if holder else "another instance"
            self._set_read_only(f"the project is open in {who}")

    def _release_lock(self) -> None:
        self._lock.release()

    def _set_read_only(self, reason: str) -> None:
        self.read_only = True
        self.read_only_reason = reason

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"project is read-only: {self.read_only_reason}")

    # --- classes (core/class_table.py) ---------------------------------------------------
    def _append_class(self, name: str, color: str | None) -> ClassInfo:
        return class_table.append_class(self, name, color)

    def add_class(self, name: str, color: str | None = None) -> ClassInfo:
        return class_table.add_class(self, name, color)

    def class_by_name(self, name: str) -> ClassInfo | None:
        return class_table.class_by_name(self, name)

    def rename_class(self, class_id: int, name: str) -> None:
        class_table.rename_class(self, class_id, name)

    def recolor_class(self, class_id: int, color: str) -> None:
        class_table.recolor_class(self, class_id, color)

    def delete_class(
        self,
        class_id: int,
        pixels_to: int | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        cancel_token: CancelToken | None = None,
    ) -> None:
        """Delete a class; its pixels become ``pixels_to`` (a class id) or unlabelled (255).

        Ids above it shift down by one in every mask and shapes file, so masks stay dense.
        A transaction: the new masks and shapes are written beside the old ones
        (``*.next``), then the new class table is committed together with the list of
        staged files, then the files are switched. Until the commit it can be cancelled
        (``cancel_token.cancelled`` is polled; :class:`~fashionseg_gui.core.cancel.Cancelled`
        is raised) and any failure (an unreadable mask, a full disk) leaves the project
        wholly unchanged; after it, an interrupted switch is completed on the next open.
        ``on_progress(done, total, name)`` is called per image (from the calling thread).
        """
        class_table.delete_class(self, class_id, pixels_to, on_progress, cancel_token)

    # --- crash recovery (core/recovery.py) -----------------------------------------------
    def reconcile(self) -> list[str]:
        """Repair what an interrupted change left; return what was done (also in warnings).

        Completes a committed class change, drops staged files of an uncommitted one,
        switches in (or drops) a staged shapes file by the mask it names, finishes an
        interrupted move to or from the trash, and sets each status from the files: a
        stored mask is labelled (``corrected`` if it came from a prediction), no mask is
        unlabelled (``predicted`` when a prediction is stored). Runs on a writable open.
        """
        return recovery.reconcile(self)

    # --- leftovers of a crash ------------------------------------------------------------
    def find_leftovers(self) -> Leftovers:
        """Files a crash left: photos in ``images/`` no record names, and temp files."""
        from fashionseg_gui.core import leftovers

        return leftovers.find(self)

    def reattach_orphans(self, files: Iterable[str] | None = None) -> list[ImportOutcome]:
        """Add orphan photos of ``images/`` (all, or the named ones) back as images."""
        from fashionseg_gui.core import leftovers

        return leftovers.reattach(self, files)

    def remove_leftovers(self, orphans: Iterable[str] = (), temp_files: bool = True) -> int:
        """Move the named orphan photos to the trash and delete stale temp files."""
        from fashionseg_gui.core import leftovers

        return leftovers.remove(self, orphans, temp_files)

    # --- images (core/project_import.py, core/trash.py, core/project_files.py) -----------
    def add_image_file(self, path: str | os.PathLike[str], source: str = "") -> ImportOutcome:
        """Import one photo (decoded by content). A refused file changes nothing."""
        return project_import.add_image_file(self, path, source)

    def import_images(
        self,
        paths: Iterable[str | os.PathLike[str]],
        source: str = "",
        on_progress: Callable[[int, int, str], None] | None = None,
        cancel_token: CancelToken | None = None,
    ) -> list[ImportOutcome]:
        """Import many photos; one bad file never stops the batch. Saves once at the end."""
        return project_import.import_images(self, paths, source, on_progress, cancel_token)

    def remove_images(self, ids: Iterable[str]) -> str | None:
        """Move images and all their files (photo copy, mask, shapes, prediction) to the trash.

        Returns the trash entry (restore it with :meth:`restore_from_trash`), or None when
        no id was in the project. The user's original file outside the project is never
        touched. See :mod:`fashionseg_gui.core.trash`.
        """
        from fashionseg_gui.core import trash

        self._check_writable()
        return trash.move_to_trash(self, ids)

    def trash_entries(self) -> list[Any]:
        """What the trash holds (newest first), see :func:`fashionseg_gui.core.trash.entries`."""
        from fashionseg_gui.core import trash

        return trash.entries(self)

    def restore_from_trash(self, key: str) -> list[str]:
        """Restore a trash entry (its stamp) or one image (its id); returns restored ids."""
        from fashionseg_gui.core import trash

        self._check_writable()
        return trash.restore(self, key)

    def empty_trash(self) -> int:
        """Delete everything in the trash for good; returns the number of images."""
        from fashionseg_gui.core import trash

        self._check_writable()
        return trash.empty(self)

    def read_image(self, image_id: str) -> np.ndarray:
        """The stored upright photo as uint8 RGB (H, W, 3)."""
        from fashionseg_gui.core.images import load_rgb

        return load_rgb(self.image_path(image_id))

    def has_mask(self, image_id: str) -> bool:
        return self.mask_path(image_id).exists()

    def read_mask(self, image_id: str) -> np.ndarray:
        """The label mask (H, W) uint8; all 255 (unlabelled) when none is stored."""
        return project_files.read_mask(self, image_id)

    def write_mask(
        self,
        image_id: str,
        mask: np.ndarray,
        status: str = "labelled",
        *,
        encoded: bytes | None = None,
    ) -> None:
        """Store a label mask atomically and set the image status.

        The status follows the content: a mask with no labelled pixel (all 255) is not
        stored (the file is removed) and the image becomes ``unlabelled`` (``predicted``
        when a prediction is stored), whatever ``status`` says. ``encoded``: the mask's
        PNG bytes (``b""`` for an empty mask) when the caller has them already.
        """
        project_files.write_mask(self, image_id, mask, status, encoded=encoded)

    def save_annotation(
        self,
        image_id: str,
        mask: np.ndarray,
        shapes: list[dict[str, Any]],
        status: str = "labelled",
    ) -> None:
        """Store a mask and its shapes as one unit (the document's save).

        The shapes are staged as ``shapes/<id>.json.next`` naming the SHA-256 of the mask
        they go with; then the mask (and status) is written; then the shapes are switched
        in. An open after a crash keeps the staged shapes only if the mask on disk is the
        one they name, so mask and shapes are always both old or both new.
        """
        project_files.save_annotation(self, image_id, mask, shapes, status)

    def read_shapes(self, image_id: str) -> list[dict[str, Any]]:
        """The stored shapes; a value that is not a number (NaN) drops its shape."""
        return project_files.read_shapes(self, image_id)

    def write_shapes(self, image_id: str, shapes: list[dict[str, Any]]) -> None:
        project_files.write_shapes(self, image_id, shapes)

    def read_prediction(self, image_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        return project_files.read_prediction(self, image_id)

    def set_status(self, image_id: str, status: str) -> None:
        self._check_writable()
        if status not in STATUSES:
            raise ProjectError(f"unknown status {status!r}")
        self.images[image_id].status = status
        self.save()
        self.events.image_changed.emit(image_id)

    def set_split(self, image_id: str, split: str | None, save: bool = True) -> None:
        self._check_writable()
        if split is not None and split not in SPLITS:
            raise ProjectError(f"unknown split {split!r}")
        self.images[image_id].split = split
        if save:
            self.save()
        self.events.image_changed.emit(image_id)

    def set_style(self, image_id: str, style: str | None) -> None:
        self._check_writable()
        self.images[image_id].style = style or None
        self.save()
        self.events.image_changed.emit(image_id)

    def labelled_ids(self) -> list[str]:
        return [i for i, r in self.images.items() if r.status in ("labelled", "corrected")]

    def set_setting(self, key: str, value: Any) -> None:
        self._check_writable()
        self.settings[key] = value
        self.save()
        self.events.settings_changed.emit()

    def _restore_record(self, d: dict[str, Any]) -> None:
        """Put an image record back (trash restore, rollback); callers hold the mutex."""
        rec = ImageRecord.from_dict(d)
        self.images[rec.id] = rec
        if rec.sha256:
            self._sha_index[rec.sha256] = rec.id
