"""The project trash: removed images stay restorable until the trash is emptied.

``trash/<stamp>/manifest.json`` lists the removed image records; the image's files (the
project's copy of the photo, its mask, shapes and prediction) are moved under
``trash/<stamp>/<folder>/``. Nothing outside the project folder is ever touched: the
user's original photo stays where it was.

Crash safety (checked by :func:`reconcile` on every writable open):

- removal writes the manifest, then commits ``project.json`` without the records, then
  moves the files: an id still in the project means the removal never committed (its
  manifest item is dropped); an id gone from the project has its files moved on;
- restore moves the files back, then commits ``project.json`` with the records, then
  drops the manifest item: an id not in the project gets its files moved back to the
  trash (the restore never committed); an id in the project has its item dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.paths import UnsafePathError, check_id, safe_join

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TrashItem:
    """One image in the trash."""

    stamp: str  # the trash entry (one removal)
    image_id: str
    original_name: str
    removed_at: float


def _trash_root(project: Project) -> Path:
    return project.root / "trash"


def _files_of(project: Project, record: dict[str, Any]) -> list[tuple[str, str]]:
    """(folder, name) of every file an image may have inside the project."""
    image_id = record["id"]
    return [
        ("images", record["file"]),
        ("masks", f"{image_id}.png"),
        ("shapes", f"{image_id}.json"),
        ("predictions", f"{image_id}.npz"),
    ]


def _read_manifest(entry: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    items = []
    for item in data["items"]:
        try:
            check_id(item["id"])
            safe_join(Path("/x/images"), item["file"])  # a plain relative name
            if "/" in item["file"] or "\\" in item["file"]:
                raise UnsafePathError(item["file"])
        except (TypeError, KeyError, UnsafePathError):
            continue
        items.append(item)
    data["items"] = items
    return data


def _entries(project: Project) -> list[tuple[Path, dict[str, Any]]]:
    root = _trash_root(project)
    try:
        names = sorted(os.listdir(root), reverse=True)
    except OSError:
        return []
    out = []
    for name in names:
        entry = root / name
        if entry.is_dir() and not entry.is_symlink():
            manifest = _read_manifest(entry)
            if manifest is not None:
                out.append((entry, manifest))
    return out


def _move(src: Path, dest: Path) -> None:
    if src.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)


def move_to_trash(project: Project, ids: Iterable[str]) -> str | None:
    """Remove images from the project into a new trash entry; returns its stamp."""
    with project._mutex:
        records = [asdict(project.images[i]) for i in dict.fromkeys(ids) if i in project.images]
    if not records:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    entry = _trash_root(project) / stamp
    entry.mkdir(parents=True)
    atomic_write_json(entry / MANIFEST, {"version": 1, "removed_at": time.time(), "items": records})
    removed = []
    with project._mutex:
        for rec in records:
            old = project.images.pop(rec["id"], None)
            if old is not None:
                project._sha_index.pop(old.sha256, None)
                removed.append(rec["id"])
        try:
            project.save()  # the commit point
        except BaseException:
            for rec in records:
                project._restore_record(rec)
            shutil.rmtree(entry, ignore_errors=True)
            raise
    for rec in records:
        for folder, name in _files_of(project, rec):
            _move(project.path(folder, name), entry / folder / name)
    project.events.images_changed.emit(removed)
    return stamp


def entries(project: Project) -> list[TrashItem]:
    """Every image in the trash, newest removal first."""
    out = []
    for entry, manifest in _entries(project):
        for item in manifest["items"]:
            out.append(
                TrashItem(
                    entry.name,
                    item["id"],
                    str(item.get("original_name", "")),
                    float(manifest.get("removed_at", 0) or 0),
                )
            )
    return out


def restore(project: Project, key: str) -> list[str]:
    """Restore a whole trash entry (``key`` = its stamp) or one image (``key`` = its id)."""
    from fashionseg_gui.core.project import ProjectError

    chosen: list[tuple[Path, dict[str, Any], dict[str, Any]]] = []
    for entry, manifest in _entries(project):
        for item in manifest["items"]:
            if key in (entry.name, item["id"]):
                chosen.append((entry, manifest, item))
    if not chosen:
        raise ProjectError(f"nothing in the trash is called {key!r}")
    for _entry, _manifest, item in chosen:
        if item["id"] in project.images:
            raise ProjectError(f"image {item['id']} is in the project already")
        for folder, name in _files_of(project, item):
            if folder == "images" and project.path(folder, name).exists():
                raise ProjectError(f"images/{name} exists already; restore refused")
    for entry, _manifest, item in chosen:
        for folder, name in _files_of(project, item):
            _move(entry / folder / name, project.path(folder, name))
    with project._mutex:
        for _entry, _manifest, item in chosen:
            project._restore_record(item)
        project.save()  # the commit point
    restored = [item["id"] for _e, _m, item in chosen]
    for entry in {e for e, _m, _i in chosen}:
        _drop_items(entry, set(restored))
    project.events.images_changed.emit(restored)
    return restored


def _drop_items(entry: Path, ids: set[str]) -> None:
    manifest = _read_manifest(entry)
    if manifest is None:
        return
    manifest["items"] = [i for i in manifest["items"] if i["id"] not in ids]
    if manifest["items"]:
        atomic_write_json(entry / MANIFEST, manifest)
    else:
        shutil.rmtree(entry, ignore_errors=True)


def empty(project: Project) -> int:
    """Delete every trash entry for good; returns how many images were deleted."""
    n = 0
    for entry, manifest in _entries(project):
        n += len(manifest["items"])
        shutil.rmtree(entry, ignore_errors=True)
    root = _trash_root(project)
    with contextlib.suppress(OSError):
        for name in os.listdir(root):  # orphan photos put aside (core.leftovers.remove)
            if name.startswith("orphans-") and not (root / name).is_symlink():
                n += len(os.listdir(root / name))
                shutil.rmtree(root / name, ignore_errors=True)
    return n


def reconcile(project: Project) -> list[str]:
    """Finish or undo a removal or restore a crash interrupted (see the module doc)."""
    done = []
    for entry, manifest in _entries(project):
        in_project = {i["id"] for i in manifest["items"] if i["id"] in project.images}
        for item in manifest["items"]:
            if item["id"] in in_project:
                continue
            for folder, name in _files_of(project, item):
                with contextlib.suppress(OSError):
                    src = project.path(folder, name)
                    if src.exists():
                        _move(src, entry / folder / name)
                        done.append("finished moving removed image(s) to the trash")
        if in_project:
            _drop_items(entry, in_project)
            done.append(f"kept {len(in_project)} image(s) an interrupted removal left")
    return done
