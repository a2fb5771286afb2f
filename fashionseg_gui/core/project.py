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
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from fashionseg_gui.core.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    encode_png,
)
from fashionseg_gui.core.labels import IGNORE, hex_to_rgb, rgb_to_hex
from fashionseg_gui.core.lock import LockHolder, ProjectLock
from fashionseg_gui.core.paths import UnsafePathError, check_file_name, check_id, safe_join

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"
LOCK_FILE = ".fashionseg.lock"
N_BACKUPS = 3
NEXT_SUFFIX = ".next"  # staged files of a multi-file change
TRASH_DIR = "trash"
STATUSES = ("unlabelled", "labelled", "predicted", "corrected")
SPLITS = ("train", "val", "test")
MAX_CLASSES = 255  # ids 0..254; 255 is the ignore label
MAX_PROJECT_BYTES = 256 << 20  # a project.json larger than this is refused, not parsed

DEFAULT_CLASSES: list[tuple[str, str]] = [
    ("background", "#000000"),
    ("bohemian", "#e6a23c"),
    ("preppy", "#409eff"),
    ("streetwear", "#f56c6c"),
]

# A palette for classes added without a colour (distinct, readable on photos).
PALETTE = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
    "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8",
    "#800000", "#aaffc3", "#808000", "#ffd8b1", "#000075", "#808080",
]


class ProjectError(Exception):
    """A problem with a project folder, worded for the user."""


class ReadOnlyError(ProjectError):
    """A write was attempted on a project opened read-only."""


@dataclass
class ClassInfo:
    """A label class: id (0 = background), name, colour ``#rrggbb``, shortcut key."""

    id: int
    name: str
    color: str
    shortcut: str = ""

    @property
    def rgb(self) -> tuple[int, int, int]:
        return hex_to_rgb(self.color)


@dataclass
class ImageRecord:
    """One image of the project; ``file`` is relative to ``images/``."""

    id: str
    file: str
    width: int
    height: int
    status: str = "unlabelled"
    split: str | None = None
    source: str = ""
    sha256: str = ""
    original_name: str = ""
    style: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Where a corrected label came from (``core.provenance``); None for the others.
    provenance: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRecord:
        known = {f.name for f in fields(cls)}
        rec = cls(**{k: v for k, v in d.items() if k in known})
        if not isinstance(rec.provenance, dict):
            rec.provenance = None
        if rec.status not in STATUSES:
            rec.status = "unlabelled"
        if rec.split not in SPLITS:
            rec.split = None
        return rec


@dataclass
class ImportOutcome:
    """What happened to one file given to :meth:`Project.add_image_file`."""

    path: str
    image_id: str | None = None
    duplicate_of: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.image_id is not None


class ProjectEvents(SignalGroup):
    """Plain-Python change notifications (psygnal); views connect to these."""

    images_changed = Signal(list)  # ids added or removed
    image_changed = Signal(str)  # record fields (status, split, style) changed
    mask_changed = Signal(str)
    classes_changed = Signal()
    settings_changed = Signal()
    saved = Signal()


def _color_ok(color: str) -> bool:
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        return False
    try:
        int(color[1:], 16)
    except ValueError:
        return False
    return True


def _is_empty(mask: np.ndarray) -> bool:
    """True when no pixel of the mask is labelled (all 255)."""
    return not bool((mask != IGNORE).any())


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _status_from_files(status: str, has_mask: bool, has_prediction: bool) -> str:
    """The status an image's files give.

    A stored mask is labelled (``corrected`` when the image was predicted); a stored
    prediction without a mask is predicted; a "predicted" image with neither file is
    unlabelled. A labelled status without a mask file is kept (an older project may
    keep its masks elsewhere); no save of this version leaves that state.
    """
    if has_mask:
        if status == "predicted":
            return "corrected"
        return "labelled" if status == "unlabelled" else status
    if status == "unlabelled" and has_prediction:
        return "predicted"
    if status == "predicted" and not has_prediction:
        return "unlabelled"
    return status


def _holds_none_number(shape: dict[str, Any]) -> bool:
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


@dataclass
class Leftovers:
    """What a crash left in a project folder (see :meth:`Project.find_leftovers`).

    ``orphans``: photo files in ``images/`` that no image record names (names relative
    to ``images/``); ``temp_files``: stale ``.*.tmp`` files (project-relative paths).
    """

    orphans: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.orphans or self.temp_files)


def displayable(text: str) -> str:
    """A file name or path as valid Unicode (undecodable bytes become U+FFFD).

    On Linux a name may hold any bytes; Python gives them to us as lone surrogates, which
    cannot be written as UTF-8 JSON.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a project.json dict from an older schema to :data:`SCHEMA_VERSION`.

    Version 0 (the pre-release format) stored classes as a list of names and images as a
    list of file names with a ``labelled`` flag.
    """
    version = data.get("schema_version", 0)
    if version == 0:
        names = data.get("classes") or [c for c, _ in DEFAULT_CLASSES]
        classes = []
        for i, name in enumerate(names):
            name = name if isinstance(name, str) else str(name.get("name", f"class {i}"))
            classes.append(asdict(ClassInfo(i, name, PALETTE[i % len(PALETTE)] if i else "#000000",
                                            str(i) if 1 <= i <= 9 else "")))
        images = []
        for item in data.get("images", []):
            if isinstance(item, str):
                item = {"file": item}
            file = str(item.get("file", ""))
            images.append({
                "id": item.get("id") or uuid.uuid4().hex[:12],
                "file": file,
                "width": int(item.get("width", 0)),
                "height": int(item.get("height", 0)),
                "status": "labelled" if item.get("labelled") else "unlabelled",
                "original_name": Path(file).name,
            })
        data = {"schema_version": 1, "classes": classes, "images": images,
                "settings": data.get("settings", {})}
    return data


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
    def create(cls, root: str | os.PathLike[str],
               classes: list[tuple[str, str]] | None = None) -> Project:
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
        return project

    def _read_json_with_fallback(self, pfile: Path) -> int:
        """Load the newest of project.json and its backups that validates; its version."""
        from fashionseg_gui.core.schema import SchemaError, loads_finite, validate_project

        errors = []
        for candidate in [pfile] + [pfile.with_name(f"{PROJECT_FILE}.bak{i}")
                                    for i in range(1, N_BACKUPS + 1)]:
            if not candidate.exists():
                continue
            try:
                with open(candidate, "rb") as fh:
                    raw = fh.read(MAX_PROJECT_BYTES + 1)
                if len(raw) > MAX_PROJECT_BYTES:
                    raise SchemaError(f"larger than {MAX_PROJECT_BYTES >> 20} MB")
                data, repaired = loads_finite(raw.decode("utf-8"))
                version = data.get("schema_version", 0) if isinstance(data, dict) else 0
                if isinstance(version, int) and not isinstance(version, bool) \
                        and version > SCHEMA_VERSION:
                    raise ProjectError(
                        f"{self.root} was saved by a newer FashionSeg Studio (schema {version}, "
                        f"this version reads up to {SCHEMA_VERSION}); update the app to open it")
                validate_project(data)
                if version < SCHEMA_VERSION:
                    data = migrate(data)
                    validate_project(data)
                self._load_dict(data)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                errors.append(f"{candidate.name}: {exc}")
                continue
            if repaired:
                self.open_warnings.append(
                    f"{candidate.name} held {repaired} value(s) that are not numbers (NaN or "
                    "infinity); they were cleared")
            if candidate != pfile:
                self.open_warnings.append(f"{PROJECT_FILE} was not valid ({errors[0]}); "
                                          f"recovered from {candidate.name}")
            return int(version)
        raise ProjectError(f"cannot read {pfile}: " + "; ".join(errors))

    def _load_dict(self, data: dict[str, Any]) -> None:
        """Load a document that passed the schema; raises ValueError for what it cannot."""
        classes = []
        for i, c in enumerate(data["classes"]):
            if int(c["id"]) != i:
                raise ValueError(f"class ids must be 0, 1, 2... in order (got {c['id']} at {i})")
            color = str(c["color"])
            if not _color_ok(color):
                # a readable colour ("red", "#f00") is kept as #rrggbb; anything else is replaced
                unreadable = (-1, -1, -1)
                rgb = hex_to_rgb(color, default=unreadable)
                fallback = PALETTE[(i - 1) % len(PALETTE)] if i else "#000000"
                new = rgb_to_hex(rgb) if rgb != unreadable else fallback
                self.open_warnings.append(f"class {c['name']!r}: colour {color!r} is not "
                                          f"#rrggbb; {new} is used")
                color = new
            classes.append(ClassInfo(i, str(c["name"]), color.lower(), str(c.get("shortcut", ""))))
        images: dict[str, ImageRecord] = {}
        try:
            images_dir = safe_join(self.root, "images")
        except UnsafePathError as exc:
            raise ValueError(str(exc)) from exc
        for d in data.get("images", []):
            try:
                rec = ImageRecord.from_dict(d)
                check_id(rec.id)
                check_file_name(rec.file)  # a plain name: it can only leave by a symlink
                if os.path.islink(os.path.join(images_dir, rec.file)):
                    safe_join(images_dir, rec.file)
            except (UnsafePathError, TypeError) as exc:
                raise ValueError(f"image {str(d.get('id'))[:80]!r}: {exc}") from exc
            if rec.id in images:
                raise ValueError(f"image id {rec.id!r} appears twice")
            images[rec.id] = rec
        if not classes or classes[0].id != 0:
            raise ValueError("class 0 (background) missing")
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise ValueError("settings must be an object")
        transaction = data.get("transaction")
        self.classes, self.images, self.settings = classes, images, dict(settings)
        self._transaction = dict(transaction) if isinstance(transaction, dict) else None
        self._sha_index = {r.sha256: r.id for r in self.images.values() if r.sha256}

    def to_dict(self) -> dict[str, Any]:
        with self._mutex:
            return self._to_dict()

    def _to_dict(self) -> dict[str, Any]:
        data = {
            "schema_version": SCHEMA_VERSION,
            "app": "FashionSeg Studio",
            "classes": [asdict(c) for c in self.classes],
            "images": [asdict(r) for r in self.images.values()],
            "settings": self.settings,
        }
        if self._transaction is not None:
            data["transaction"] = self._transaction
        return data

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
            atomic_write_bytes(self.project_file, data.encode("utf-8"),
                               before_replace=self._rotate_backups)
        self.events.saved.emit()

    def _rotate_backups(self) -> None:
        pfile = self.project_file
        if not pfile.exists():
            return
        for i in range(N_BACKUPS - 1, 0, -1):
            src = pfile.with_name(f"{PROJECT_FILE}.bak{i}")
            if src.exists():
                os.replace(src, pfile.with_name(f"{PROJECT_FILE}.bak{i + 1}"))
        bak1 = pfile.with_name(f"{PROJECT_FILE}.bak1")
        try:  # a hard link keeps the old inode alive cheaply; the atomic replace follows
            os.link(pfile, bak1)
        except OSError:
            shutil.copy2(pfile, bak1)

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

    # --- classes -------------------------------------------------------------------------
    def _append_class(self, name: str, color: str | None) -> ClassInfo:
        name = name.strip()
        if not name:
            raise ProjectError("a class needs a name")
        if self.class_by_name(name) is not None:
            raise ProjectError(f"a class named {name!r} exists already")
        new_id = len(self.classes)
        if new_id >= MAX_CLASSES:
            raise ProjectError(f"at most {MAX_CLASSES} classes")
        if color is None or not _color_ok(color):
            color = PALETTE[(new_id - 1) % len(PALETTE)] if new_id else "#000000"
        info = ClassInfo(new_id, name, color.lower(), str(new_id) if 1 <= new_id <= 9 else "")
        self.classes.append(info)
        return info

    def add_class(self, name: str, color: str | None = None) -> ClassInfo:
        self._check_writable()
        info = self._append_class(name, color)
        self.save()
        self.events.classes_changed.emit()
        return info

    def class_by_name(self, name: str) -> ClassInfo | None:
        key = name.strip().casefold()
        return next((c for c in self.classes if c.name.casefold() == key), None)

    def rename_class(self, class_id: int, name: str) -> None:
        self._check_writable()
        name = name.strip()
        other = self.class_by_name(name)
        if not name or (other is not None and other.id != class_id):
            raise ProjectError(f"cannot rename class to {name!r}")
        self.classes[class_id].name = name
        self.save()
        self.events.classes_changed.emit()

    def recolor_class(self, class_id: int, color: str) -> None:
        self._check_writable()
        if not _color_ok(color):
            raise ProjectError(f"not a colour: {color!r} (use #rrggbb)")
        self.classes[class_id].color = color.lower()
        self.save()
        self.events.classes_changed.emit()

    def delete_class(self, class_id: int, pixels_to: int | None = None,
                     on_progress: Any = None, cancel_token: Any = None) -> None:
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
        from fashionseg_gui.core.cancel import Cancelled

        self._check_writable()
        if class_id == 0:
            raise ProjectError("the background class cannot be deleted")
        if not 0 < class_id < len(self.classes):
            raise ProjectError(f"no class with id {class_id}")
        target = IGNORE if pixels_to is None else int(pixels_to)
        if target != IGNORE and (target == class_id or not 0 <= target < len(self.classes)):
            raise ProjectError("pixels must go to another existing class or become unlabelled")
        lut = np.arange(256, dtype=np.uint8)
        lut[class_id] = target if target == IGNORE or target < class_id else target - 1
        lut[class_id + 1:len(self.classes)] = np.arange(class_id, len(self.classes) - 1)
        with self._mutex:
            ids = list(self.images)
        staged: list[str] = []  # project-relative paths with a staged ``.next`` file
        try:
            for n, image_id in enumerate(ids):
                if cancel_token is not None and cancel_token.cancelled:
                    raise Cancelled()
                if self.has_mask(image_id):
                    mask = self.read_mask(image_id)
                    rel = f"masks/{image_id}.png"
                    atomic_write_bytes(self._next(self.mask_path(image_id)), encode_png(lut[mask]))
                    staged.append(rel)
                if self.shapes_path(image_id).exists():
                    shapes = []
                    for s in self.read_shapes(image_id):
                        cid = int(s.get("class_id", 0))
                        if cid == class_id and target == IGNORE:
                            continue
                        s["class_id"] = int(lut[cid]) if 0 <= cid < 256 else cid
                        shapes.append(s)
                    atomic_write_json(self._next(self.shapes_path(image_id)),
                                      {"version": 1, "shapes": shapes})
                    staged.append(f"shapes/{image_id}.json")
                if on_progress is not None:
                    on_progress(n + 1, len(ids), self.images[image_id].original_name)
            if cancel_token is not None and cancel_token.cancelled:
                raise Cancelled()
        except BaseException:
            self._discard_staged(staged)
            raise
        old_classes = [ClassInfo(**asdict(c)) for c in self.classes]
        del self.classes[class_id]
        for i, c in enumerate(self.classes):
            c.id = i
            c.shortcut = str(i) if 1 <= i <= 9 else ""
        self._transaction = {"kind": "delete_class", "files": staged}
        try:
            self.save()  # the commit point
        except BaseException:
            self.classes, self._transaction = old_classes, None
            self._discard_staged(staged)
            raise
        self._complete_transaction()
        self.events.classes_changed.emit()
        for image_id in ids:
            self.events.mask_changed.emit(image_id)

    @staticmethod
    def _next(path: Path) -> Path:
        return path.with_name(path.name + NEXT_SUFFIX)

    def _discard_staged(self, staged: Iterable[str]) -> None:
        for rel in staged:
            with contextlib.suppress(OSError, ProjectError):
                self._next(self.path(*rel.split("/"))).unlink()

    def _complete_transaction(self) -> None:
        """Switch in the staged files of the committed transaction, then clear it."""
        tx = self._transaction
        if tx is None:
            return
        for rel in tx.get("files", []):
            if not isinstance(rel, str):
                continue
            try:
                final = self.path(*rel.split("/"))
            except ProjectError:
                continue
            staged = self._next(final)
            if staged.exists():
                os.replace(staged, final)
        self._transaction = None
        self.save()

    # --- crash recovery ------------------------------------------------------------------
    def reconcile(self) -> list[str]:
        """Repair what an interrupted change left; return what was done (also in warnings).

        Completes a committed class change, drops staged files of an uncommitted one,
        switches in (or drops) a staged shapes file by the mask it names, finishes an
        interrupted move to or from the trash, and sets each status from the files: a
        stored mask is labelled (``corrected`` if it came from a prediction), no mask is
        unlabelled (``predicted`` when a prediction is stored). Runs on a writable open.
        """
        self._check_writable()
        done: list[str] = []
        if self._transaction is not None:
            self._complete_transaction()
            done.append("completed an interrupted class change")
        for name in _listdir(self.root / "masks"):
            if name.endswith(".png" + NEXT_SUFFIX):
                with contextlib.suppress(OSError):
                    (self.root / "masks" / name).unlink()
                    done.append("discarded the unfinished mask(s) of an interrupted class change")
        for name in _listdir(self.root / "shapes"):
            if name.endswith(".json" + NEXT_SUFFIX):
                self._settle_staged_shapes(self.root / "shapes" / name, done)
        from fashionseg_gui.core import leftovers as leftovers_mod
        from fashionseg_gui.core import trash

        done.extend(trash.reconcile(self))
        masks = {n[:-4] for n in _listdir(self.root / "masks") if n.endswith(".png")}
        preds = {n[:-4] for n in _listdir(self.root / "predictions") if n.endswith(".npz")}
        changed = []
        with self._mutex:
            for rec in self.images.values():
                new = _status_from_files(rec.status, rec.id in masks, rec.id in preds)
                if new != rec.status:
                    rec.status = new
                    changed.append(rec.id)
        if changed:
            self.save()
            done.append(f"set the status of {len(changed)} image(s) from their files")
            for image_id in changed:
                self.events.image_changed.emit(image_id)
        orphans = leftovers_mod.find(self).orphans
        if orphans:
            done.append(f"{len(orphans)} photo(s) in images/ belong to no image (an interrupted "
                        "import?): re-attach them or move them to the trash")
        done = list(dict.fromkeys(done))  # one line per kind of repair
        self.open_warnings.extend(done)
        return done

    def _settle_staged_shapes(self, staged: Path, done: list[str]) -> None:
        image_id = staged.name[: -len(".json" + NEXT_SUFFIX)]
        keep = False
        try:
            data = json.loads(staged.read_text(encoding="utf-8"))
            sha = data.get("mask_sha256") if isinstance(data, dict) else None
            if isinstance(sha, str) and image_id in self.images:
                keep = sha == self._mask_sha(image_id)
        except (OSError, ValueError, ProjectError):
            keep = False
        try:
            if keep:
                os.replace(staged, self.shapes_path(image_id))
                done.append("completed interrupted save(s) of a mask and its shapes")
            else:
                staged.unlink()
                done.append("discarded unfinished save(s) whose mask was never written")
        except (OSError, ProjectError):
            pass

    def _mask_sha(self, image_id: str) -> str:
        try:
            return hashlib.sha256(self.mask_path(image_id).read_bytes()).hexdigest()
        except FileNotFoundError:
            return ""

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

    # --- images --------------------------------------------------------------------------
    def add_image_file(self, path: str | os.PathLike[str], source: str = "") -> ImportOutcome:
        """Import one photo (decoded by content). A refused file changes nothing."""
        from fashionseg_gui.core.images import ImageRejected, decode_for_import

        self._check_writable()
        outcome = ImportOutcome(str(path))
        try:
            decoded = decode_for_import(path)
        except ImageRejected as exc:
            outcome.error = displayable(str(exc))
            return outcome
        if decoded.sha256 in self._sha_index:
            outcome.duplicate_of = self._sha_index[decoded.sha256]
            outcome.error = (f"{Path(path).name}: duplicate of an image already in the project "
                             f"({self.images[outcome.duplicate_of].original_name})")
            return outcome
        data, ext = decoded.project_copy()
        from fashionseg_gui.core import leftovers

        adopted = leftovers.adopt_copy(self, data)  # a copy a crashed import left behind
        if adopted is not None:
            image_id, file = adopted
        else:
            image_id = uuid.uuid4().hex[:12]
            file = f"{image_id}{ext}"
            dest = self.path("images", file)
            try:
                atomic_write_bytes(dest, data)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    dest.unlink()
                if exc.errno == errno.ENOSPC:
                    raise ProjectError(f"disk full while importing {Path(path).name}") from exc
                raise
        width, height = decoded.image.size
        rec = ImageRecord(id=image_id, file=file, width=width, height=height,
                          source=displayable(source or str(Path(path).parent)),
                          sha256=decoded.sha256, original_name=displayable(Path(path).name),
                          warnings=[displayable(w) for w in decoded.warnings])
        with self._mutex:
            self.images[image_id] = rec
            self._sha_index[rec.sha256] = image_id
        outcome.image_id = image_id
        outcome.warnings = list(decoded.warnings)
        return outcome

    def import_images(self, paths: Iterable[str | os.PathLike[str]], source: str = "",
                      on_progress: Any = None, cancel_token: Any = None) -> list[ImportOutcome]:
        """Import many photos; one bad file never stops the batch. Saves once at the end."""
        paths = list(paths)
        outcomes: list[ImportOutcome] = []
        try:  # add_image_file does not save: project.json is written once, below
            for i, p in enumerate(paths):
                if cancel_token is not None and cancel_token.cancelled:
                    break
                outcomes.append(self.add_image_file(p, source=source))
                if on_progress is not None:
                    on_progress(i + 1, len(paths), Path(p).name)
        finally:
            added = [o.image_id for o in outcomes if o.image_id]
            if added:
                self.save()
                self.events.images_changed.emit(added)
        return outcomes

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
        from fashionseg_gui.core.masks import MaskRejected, read_stored_mask

        rec = self.images[image_id]
        path = self.mask_path(image_id)
        if self._transaction is not None and self._next(path).exists():
            path = self._next(path)  # a read-only open of an interrupted class change
        if not path.exists():
            return np.full((rec.height, rec.width), IGNORE, np.uint8)
        try:  # a damaged mask or a decompression bomb: one clear ProjectError
            return read_stored_mask(path, (rec.height, rec.width), rec.original_name)
        except MaskRejected as exc:
            raise ProjectError(str(exc)) from None

    def _checked_mask(self, image_id: str, mask: np.ndarray, status: str) -> np.ndarray:
        self._check_writable()
        rec = self.images[image_id]
        mask = np.asarray(mask)
        if mask.shape != (rec.height, rec.width) or mask.dtype != np.uint8:
            raise ProjectError(f"mask must be uint8 {(rec.height, rec.width)}, got "
                               f"{mask.dtype} {mask.shape}")
        if status not in STATUSES:
            raise ProjectError(f"unknown status {status!r}")
        return mask

    def write_mask(self, image_id: str, mask: np.ndarray, status: str = "labelled", *,
                   encoded: bytes | None = None) -> None:
        """Store a label mask atomically and set the image status.

        The status follows the content: a mask with no labelled pixel (all 255) is not
        stored (the file is removed) and the image becomes ``unlabelled`` (``predicted``
        when a prediction is stored), whatever ``status`` says. ``encoded``: the mask's
        PNG bytes (``b""`` for an empty mask) when the caller has them already.
        """
        mask = self._checked_mask(image_id, mask, status)
        if encoded is None:
            encoded = b"" if _is_empty(mask) else encode_png(mask)
        self._store_mask(image_id, encoded, status)

    def save_annotation(self, image_id: str, mask: np.ndarray, shapes: list[dict[str, Any]],
                        status: str = "labelled") -> None:
        """Store a mask and its shapes as one unit (the document's save).

        The shapes are staged as ``shapes/<id>.json.next`` naming the SHA-256 of the mask
        they go with; then the mask (and status) is written; then the shapes are switched
        in. An open after a crash keeps the staged shapes only if the mask on disk is the
        one they name, so mask and shapes are always both old or both new.
        """
        mask = self._checked_mask(image_id, mask, status)
        data = b"" if _is_empty(mask) else encode_png(mask)
        sha = hashlib.sha256(data).hexdigest() if data else ""
        final = self.shapes_path(image_id)
        staged = self._next(final)
        atomic_write_json(staged, {"version": 1, "shapes": shapes, "mask_sha256": sha})
        try:
            self.write_mask(image_id, mask, status, encoded=data)
            os.replace(staged, final)
        except BaseException:
            with contextlib.suppress(OSError):
                staged.unlink()
            raise

    def _store_mask(self, image_id: str, data: bytes, status: str) -> None:
        """Write (or, for ``b""``, remove) the mask file and set the status, crash-safely.

        The order keeps the only possible half-state "a mask file with a not-labelled
        status", which :meth:`reconcile` repairs from the files on the next open.
        """
        rec = self.images[image_id]
        path = self.mask_path(image_id)
        if data:
            atomic_write_bytes(path, data)
            self.events.mask_changed.emit(image_id)
            new = status if status in ("labelled", "corrected") else "labelled"
        else:
            new = "predicted" if self.prediction_path(image_id).exists() else "unlabelled"
        if rec.status != new:
            rec.status = new
            self.save()
            self.events.image_changed.emit(image_id)
        if not data:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self.events.mask_changed.emit(image_id)

    def read_shapes(self, image_id: str) -> list[dict[str, Any]]:
        """The stored shapes; a value that is not a number (NaN) drops its shape."""
        from fashionseg_gui.core.schema import SchemaError, loads_finite

        path = self.shapes_path(image_id)
        if self._transaction is not None and self._next(path).exists():
            path = self._next(path)
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
            shapes = [s for s in shapes if not _holds_none_number(s)]
        return shapes

    def write_shapes(self, image_id: str, shapes: list[dict[str, Any]]) -> None:
        self._check_writable()
        atomic_write_json(self.shapes_path(image_id), {"version": 1, "shapes": shapes})

    def read_prediction(self, image_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.prediction_path(image_id)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return data["class_ids"], data["confidence"]
        except (OSError, ValueError, KeyError, EOFError) as exc:  # damaged, pickled, not npz
            raise ProjectError(f"the prediction of {image_id} cannot be read "
                               f"({type(exc).__name__}: {exc})") from exc

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
