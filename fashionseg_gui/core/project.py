"""The project folder: ``project.json`` + images, masks, shapes, predictions and runs.

On disk (the public contract, see ``docs/FORMAT.md``)::

    my-project/
      project.json              schema_version, classes, images, settings (atomic, 3 backups)
      project.json.bak1..3      the previous versions, newest first
      .fashionseg.lock          present while an instance has the project open for writing
      images/<id>.<ext>         imported photos (original bytes, or an upright RGB PNG copy)
      masks/<id>.png            uint8 label mask: class id, 255 = not labelled
      shapes/<id>.json          vector shapes that produced the mask
      predictions/<id>.npz      class_ids (uint8) + confidence (float16)
      runs/<run_id>/            training runs

Every write is atomic; opening a project reads only JSON (no image is decoded).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from fashionseg_gui.core.atomic import atomic_save_png, atomic_write_bytes, atomic_write_json
from fashionseg_gui.core.labels import IGNORE, hex_to_rgb

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"
LOCK_FILE = ".fashionseg.lock"
N_BACKUPS = 3
STATUSES = ("unlabelled", "labelled", "predicted", "corrected")
SPLITS = ("train", "val", "test")
MAX_CLASSES = 255  # ids 0..254; 255 is the ignore label

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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRecord:
        known = {f.name for f in fields(cls)}
        rec = cls(**{k: v for k, v in d.items() if k in known})
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        self._lock_owned = False
        self._sha_index: dict[str, str] = {}
        self.open_warnings: list[str] = []
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

    def image_path(self, image_id: str) -> Path:
        return self.root / "images" / self.images[image_id].file

    def mask_path(self, image_id: str) -> Path:
        return self.root / "masks" / f"{image_id}.png"

    def shapes_path(self, image_id: str) -> Path:
        return self.root / "shapes" / f"{image_id}.json"

    def prediction_path(self, image_id: str) -> Path:
        return self.root / "predictions" / f"{image_id}.npz"

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
        """Open a project; read-only if asked, if the folder is not writable or locked."""
        root = Path(root)
        pfile = root / PROJECT_FILE
        if not pfile.is_file():
            raise ProjectError(f"{root} is not a FashionSeg project (no {PROJECT_FILE})")
        project = cls(root)
        data = project._read_json_with_fallback(pfile)
        version = data.get("schema_version", 0)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ProjectError(
                f"{root} was saved by a newer FashionSeg Studio (schema {version}, this version "
                f"reads up to {SCHEMA_VERSION}); update the app to open it")
        needs_migration = version < SCHEMA_VERSION
        project._load_dict(migrate(data) if needs_migration else data)
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
        return project

    def _read_json_with_fallback(self, pfile: Path) -> dict[str, Any]:
        errors = []
        for candidate in [pfile] + [pfile.with_name(f"{PROJECT_FILE}.bak{i}")
                                    for i in range(1, N_BACKUPS + 1)]:
            if not candidate.exists():
                continue
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as exc:
                errors.append(f"{candidate.name}: {exc}")
                continue
            if candidate != pfile:
                self.open_warnings.append(f"{PROJECT_FILE} was unreadable ({errors[0]}); "
                                          f"recovered from {candidate.name}")
            return data
        raise ProjectError(f"cannot read {pfile}: " + "; ".join(errors))

    def _load_dict(self, data: dict[str, Any]) -> None:
        try:
            self.classes = [ClassInfo(int(c["id"]), str(c["name"]), str(c["color"]),
                                      str(c.get("shortcut", ""))) for c in data["classes"]]
            self.images = {}
            for d in data.get("images", []):
                rec = ImageRecord.from_dict(d)
                self.images[rec.id] = rec
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"{self.project_file} is malformed: {exc!r}") from exc
        if not self.classes or self.classes[0].id != 0:
            raise ProjectError(f"{self.project_file} is malformed: class 0 (background) missing")
        self.settings = dict(data.get("settings", {}))
        self._sha_index = {r.sha256: r.id for r in self.images.values() if r.sha256}

    def to_dict(self) -> dict[str, Any]:
        with self._mutex:
            return self._to_dict()

    def _to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "app": "FashionSeg Studio",
            "classes": [asdict(c) for c in self.classes],
            "images": [asdict(r) for r in self.images.values()],
            "settings": self.settings,
        }

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
        """Write project.json atomically, keeping the previous versions as backups."""
        self._check_writable()
        with self._mutex:
            if self._batch_depth:
                self._save_pending = True
                return
            self._save_pending = False
            data = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)
            self._rotate_backups()
            atomic_write_bytes(self.project_file, data.encode("utf-8"))
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

    def _acquire_lock(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        for _attempt in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._read_lock()
                if holder is not None and self._lock_is_stale(holder):
                    with contextlib.suppress(OSError):
                        os.unlink(self.lock_path)
                    continue
                who = (f"process {holder.get('pid')} on {holder.get('host')}"
                       if holder else "another instance")
                self._set_read_only(f"the project is open in {who}")
                return
            except OSError as exc:
                self._set_read_only(f"cannot write a lock file ({exc.strerror})")
                return
            with os.fdopen(fd, "w") as fh:
                json.dump(info, fh)
            self._lock_owned = True
            return
        self._set_read_only("the project lock could not be taken")

    def _read_lock(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.lock_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    @staticmethod
    def _lock_is_stale(holder: dict[str, Any]) -> bool:
        if holder.get("host") == socket.gethostname():
            pid = holder.get("pid")
            return not isinstance(pid, int) or not _pid_alive(pid)
        # Another machine (shared folder): only a lock older than a day is taken over.
        return time.time() - float(holder.get("time", 0)) > 86400

    def _release_lock(self) -> None:
        if self._lock_owned:
            holder = self._read_lock()
            if holder is None or holder.get("pid") == os.getpid():
                with contextlib.suppress(OSError):
                    os.unlink(self.lock_path)
            self._lock_owned = False

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

    def delete_class(self, class_id: int, pixels_to: int | None = None) -> None:
        """Delete a class; its pixels become ``pixels_to`` (a class id) or unlabelled (255).

        Ids above it shift down by one in every mask and shapes file, so masks stay dense.
        """
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
        for image_id in self.images:
            if self.has_mask(image_id):
                mask = self.read_mask(image_id)
                atomic_save_png(self.mask_path(image_id), lut[mask])
            if self.shapes_path(image_id).exists():
                shapes = []
                for s in self.read_shapes(image_id):
                    cid = int(s.get("class_id", 0))
                    if cid == class_id and target == IGNORE:
                        continue
                    s["class_id"] = int(lut[cid])
                    shapes.append(s)
                self.write_shapes(image_id, shapes)
        del self.classes[class_id]
        for i, c in enumerate(self.classes):
            c.id = i
            c.shortcut = str(i) if 1 <= i <= 9 else ""
        self.save()
        self.events.classes_changed.emit()
        for image_id in self.images:
            self.events.mask_changed.emit(image_id)

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
        image_id = uuid.uuid4().hex[:12]
        data, ext = decoded.project_copy()
        file = f"{image_id}{ext}"
        dest = self.root / "images" / file
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

    def remove_images(self, ids: Iterable[str]) -> None:
        """Remove images and all their files (masks, shapes, predictions)."""
        self._check_writable()
        removed = []
        for image_id in list(ids):
            with self._mutex:
                rec = self.images.pop(image_id, None)
            if rec is None:
                continue
            self._sha_index.pop(rec.sha256, None)
            removed.append(image_id)
        self.save()
        for image_id in removed:
            for p in (self.mask_path(image_id), self.shapes_path(image_id),
                      self.prediction_path(image_id)):
                with contextlib.suppress(OSError):
                    p.unlink()
        if removed:
            self.events.images_changed.emit(removed)

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
        if not path.exists():
            return np.full((rec.height, rec.width), IGNORE, np.uint8)
        try:  # a damaged mask or a decompression bomb: one clear ProjectError
            return read_stored_mask(path, (rec.height, rec.width), rec.original_name)
        except MaskRejected as exc:
            raise ProjectError(str(exc)) from None

    def write_mask(self, image_id: str, mask: np.ndarray, status: str = "labelled") -> None:
        """Store a label mask atomically and set the image status."""
        self._check_writable()
        rec = self.images[image_id]
        mask = np.asarray(mask)
        if mask.shape != (rec.height, rec.width) or mask.dtype != np.uint8:
            raise ProjectError(f"mask must be uint8 {(rec.height, rec.width)}, got "
                               f"{mask.dtype} {mask.shape}")
        if status not in STATUSES:
            raise ProjectError(f"unknown status {status!r}")
        atomic_save_png(self.mask_path(image_id), mask)
        self.events.mask_changed.emit(image_id)
        if rec.status != status:
            rec.status = status
            self.save()
            self.events.image_changed.emit(image_id)

    def read_shapes(self, image_id: str) -> list[dict[str, Any]]:
        path = self.shapes_path(image_id)
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectError(f"cannot read shapes of {image_id}: {exc}") from exc
        return list(data.get("shapes", [])) if isinstance(data, dict) else list(data)

    def write_shapes(self, image_id: str, shapes: list[dict[str, Any]]) -> None:
        self._check_writable()
        atomic_write_json(self.shapes_path(image_id), {"version": 1, "shapes": shapes})

    def read_prediction(self, image_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.prediction_path(image_id)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return data["class_ids"], data["confidence"]

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
