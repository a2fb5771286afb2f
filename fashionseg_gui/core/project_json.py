"""``project.json``: reading (validated, with backup fallback and migration) and writing.

The document is read as a whole: it must pass the schema
(:func:`fashionseg_gui.core.schema.validate_project`) and every id and file name must be
safe; when it does not, the newest backup that does is used. Writing keeps
:data:`N_BACKUPS` previous versions as ``project.json.bak1..N``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core.labels import hex_to_rgb, rgb_to_hex
from fashionseg_gui.core.paths import UnsafePathError, check_file_name, check_id, safe_join
from fashionseg_gui.core.records import (
    DEFAULT_CLASSES,
    DEMO_COLOURS,
    OLD_DEMO_CLASSES,
    PALETTE,
    ClassInfo,
    ImageRecord,
    ProjectError,
    color_ok,
)

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"
N_BACKUPS = 3
MAX_PROJECT_BYTES = 256 << 20  # a project.json larger than this is refused, not parsed


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
            classes.append(
                asdict(
                    ClassInfo(
                        i,
                        name,
                        PALETTE[i % len(PALETTE)] if i else "#000000",
                        str(i) if 1 <= i <= 9 else "",
                    )
                )
            )
        images = []
        for item in data.get("images", []):
            if isinstance(item, str):
                item = {"file": item}
            file = str(item.get("file", ""))
            images.append(
                {
                    "id": item.get("id") or uuid.uuid4().hex[:12],
                    "file": file,
                    "width": int(item.get("width", 0)),
                    "height": int(item.get("height", 0)),
                    "status": "labelled" if item.get("labelled") else "unlabelled",
                    "original_name": Path(file).name,
                }
            )
        data = {
            "schema_version": 1,
            "classes": classes,
            "images": images,
            "settings": data.get("settings", {}),
        }
    return data


def read_with_fallback(project: Project, pfile: Path) -> int:
    """Load the newest of project.json and its backups that validates; its version."""
    from fashionseg_gui.core.schema import SchemaError, loads_finite, validate_project

    errors = []
    for candidate in [pfile] + [
        pfile.with_name(f"{PROJECT_FILE}.bak{i}") for i in range(1, N_BACKUPS + 1)
    ]:
        if not candidate.exists():
            continue
        try:
            with open(candidate, "rb") as fh:
                raw = fh.read(MAX_PROJECT_BYTES + 1)
            if len(raw) > MAX_PROJECT_BYTES:
                raise SchemaError(f"larger than {MAX_PROJECT_BYTES >> 20} MB")
            data, repaired = loads_finite(raw.decode("utf-8"), max_depth=None)  # validated below
            version = data.get("schema_version", 0) if isinstance(data, dict) else 0
            if (
                isinstance(version, int)
                and not isinstance(version, bool)
                and version > SCHEMA_VERSION
            ):
                raise ProjectError(
                    f"{project.root} was saved by a newer FashionSeg Studio (schema {version}, "
                    f"this version reads up to {SCHEMA_VERSION}); update the app to open it"
                )
            validate_project(data)
            if version < SCHEMA_VERSION:
                data = migrate(data)
                validate_project(data)
            load_dict(project, data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            errors.append(f"{candidate.name}: {exc}")
            continue
        if repaired:
            project.open_warnings.append(
                f"{candidate.name} held {repaired} value(s) that are not numbers (NaN or "
                "infinity); they were cleared"
            )
        if candidate != pfile:
            project.open_warnings.append(
                f"{PROJECT_FILE} was not valid ({errors[0]}); recovered from {candidate.name}"
            )
        return int(version)
    raise ProjectError(f"cannot read {pfile}: " + "; ".join(errors))


def load_dict(project: Project, data: dict[str, Any]) -> None:
    """Load a document that passed the schema; raises ValueError for what it cannot."""
    classes = []
    for i, c in enumerate(data["classes"]):
        if int(c["id"]) != i:
            raise ValueError(f"class ids must be 0, 1, 2... in order (got {c['id']} at {i})")
        color = str(c["color"])
        if not color_ok(color):
            # a readable colour ("red", "#f00") is kept as #rrggbb; anything else is replaced
            unreadable = (-1, -1, -1)
            rgb = hex_to_rgb(color, default=unreadable)
            fallback = PALETTE[(i - 1) % len(PALETTE)] if i else "#000000"
            new = rgb_to_hex(rgb) if rgb != unreadable else fallback
            project.open_warnings.append(
                f"class {c['name']!r}: colour {color!r} is not #rrggbb; {new} is used"
            )
            color = new
        classes.append(ClassInfo(i, str(c["name"]), color.lower(), str(c.get("shortcut", ""))))
    images: dict[str, ImageRecord] = {}
    try:
        images_dir = safe_join(project.root, "images")
    except UnsafePathError as exc:
        raise ValueError(str(exc)) from exc
    links = _symlinks_in(images_dir)  # one directory read instead of a stat per image
    for d in data.get("images", []):
        try:
            rec = ImageRecord.from_dict(d)
            check_id(rec.id)
            check_file_name(rec.file)  # a plain name: it can only leave by a symlink
            if rec.file.casefold() in links:
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
    if [(c.name, c.color) for c in classes] == OLD_DEMO_CLASSES:
        for c, color in zip(classes, DEMO_COLOURS, strict=True):
            c.color = color
        project._defaults_updated = True
    project.classes, project.images, project.settings = classes, images, dict(settings)
    project._transaction = dict(transaction) if isinstance(transaction, dict) else None
    project._sha_index = {r.sha256: r.id for r in project.images.values() if r.sha256}


def _symlinks_in(folder: Path) -> frozenset[str]:
    """The case-folded names of the symbolic links directly in ``folder`` (none if it is
    missing); case-folded so that a case-insensitive file system cannot hide one."""
    try:
        with os.scandir(folder) as entries:
            return frozenset(e.name.casefold() for e in entries if e.is_symlink())
    except OSError:
        return frozenset()


def to_dict(project: Project) -> dict[str, Any]:
    """The document of ``project`` (the caller holds the project's mutex)."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "app": "FashionSeg Studio",
        "classes": [asdict(c) for c in project.classes],
        "images": [asdict(r) for r in project.images.values()],
        "settings": project.settings,
    }
    if project._transaction is not None:
        data["transaction"] = project._transaction
    return data


def rotate_backups(pfile: Path) -> None:
    """Shift ``.bak1..`` up by one and keep the current file as ``.bak1``."""
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
