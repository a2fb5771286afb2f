"""Crash safety of multi-file changes: staged ``*.next`` files, transactions, repair on open.

A change of many files stages each new file beside the old one (``<name>.next``), commits
a ``transaction`` record in ``project.json`` naming them, then switches them in
(:func:`complete_transaction`). :func:`reconcile` runs on every writable open and repairs
whatever an interrupted change left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.records import ProjectError, status_from_files

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project

NEXT_SUFFIX = ".next"  # staged files of a multi-file change


def next_path(path: Path) -> Path:
    """Where the staged new version of ``path`` is written."""
    return path.with_name(path.name + NEXT_SUFFIX)


def listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def discard_staged(project: Project, staged: Iterable[str]) -> None:
    """Delete the staged files of the project-relative paths ``staged``."""
    for rel in staged:
        with contextlib.suppress(OSError, ProjectError):
            next_path(project.path(*rel.split("/"))).unlink()


def complete_transaction(project: Project) -> None:
    """Switch in the staged files of the committed transaction, then clear it."""
    tx = project._transaction
    if tx is None:
        return
    for rel in tx.get("files", []):
        if not isinstance(rel, str):
            continue
        try:
            final = project.path(*rel.split("/"))
        except ProjectError:
            continue
        staged = next_path(final)
        if staged.exists():
            os.replace(staged, final)
    project._transaction = None
    project.save()


def mask_sha(project: Project, image_id: str) -> str:
    """SHA-256 of the stored mask file of ``image_id`` ("" when there is none)."""
    try:
        return hashlib.sha256(project.mask_path(image_id).read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def settle_staged_shapes(project: Project, staged: Path, done: list[str]) -> None:
    """Switch in a staged shapes file if the mask on disk is the one it names, else drop it."""
    image_id = staged.name[: -len(".json" + NEXT_SUFFIX)]
    keep = False
    try:
        data = json.loads(staged.read_text(encoding="utf-8"))
        sha = data.get("mask_sha256") if isinstance(data, dict) else None
        if isinstance(sha, str) and image_id in project.images:
            keep = sha == mask_sha(project, image_id)
    except (OSError, ValueError, ProjectError):
        keep = False
    try:
        if keep:
            os.replace(staged, project.shapes_path(image_id))
            done.append("completed interrupted save(s) of a mask and its shapes")
        else:
            staged.unlink()
            done.append("discarded unfinished save(s) whose mask was never written")
    except (OSError, ProjectError):
        pass


def reconcile(project: Project) -> list[str]:
    """See :meth:`fashionseg_gui.core.project.Project.reconcile`."""
    project._check_writable()
    root = project.root
    done: list[str] = []
    if project._transaction is not None:
        complete_transaction(project)
        done.append("completed an interrupted class change")
    for name in listdir(root / "masks"):
        if name.endswith(".png" + NEXT_SUFFIX):
            with contextlib.suppress(OSError):
                (root / "masks" / name).unlink()
                done.append("discarded the unfinished mask(s) of an interrupted class change")
    for name in listdir(root / "shapes"):
        if name.endswith(".json" + NEXT_SUFFIX):
            settle_staged_shapes(project, root / "shapes" / name, done)
    from fashionseg_gui.core import leftovers as leftovers_mod
    from fashionseg_gui.core import trash

    done.extend(trash.reconcile(project))
    masks = {n[:-4] for n in listdir(root / "masks") if n.endswith(".png")}
    preds = {n[:-4] for n in listdir(root / "predictions") if n.endswith(".npz")}
    changed = []
    with project._mutex:
        for rec in project.images.values():
            new = status_from_files(rec.status, rec.id in masks, rec.id in preds)
            if new != rec.status:
                rec.status = new
                changed.append(rec.id)
    if changed:
        project.save()
        done.append(f"set the status of {len(changed)} image(s) from their files")
        for image_id in changed:
            project.events.image_changed.emit(image_id)
    orphans = leftovers_mod.find(project).orphans
    if orphans:
        done.append(
            f"{len(orphans)} photo(s) in images/ belong to no image (an interrupted "
            "import?): re-attach them or move them to the trash"
        )
    done = list(dict.fromkeys(done))  # one line per kind of repair
    project.open_warnings.extend(done)
    return done
