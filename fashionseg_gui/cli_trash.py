"""Removing photos and the project trash: ``remove``, ``trash``.

``fashionseg remove PROJECT IDS_OR_NAMES...`` moves photos (with their masks, shapes and
predictions) into the project's trash; ``fashionseg trash PROJECT`` lists it,
``--restore KEY`` brings back one image (its id) or one removal (its stamp), ``--empty``
deletes everything in it for good. The user's original files outside the project are
never touched.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("remove", help="move photos of a project to its trash (restorable)")
    p.add_argument("project", type=Path)
    p.add_argument(
        "images",
        nargs="+",
        metavar="ID_OR_NAME",
        help="image ids or original file names (a name matching several photos "
        "is refused; use the ids that 'fashionseg info' or this error lists)",
    )
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("trash", help="list, restore or empty the project trash")
    p.add_argument("project", type=Path)
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--restore",
        metavar="KEY",
        action="append",
        default=[],
        help="restore an image id or a removal stamp (repeatable)",
    )
    g.add_argument("--empty", action="store_true", help="delete the trash for good")
    p.set_defaults(func=cmd_trash)


def _open_writable(path: Path):
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.project import Project

    project = Project.open(path)
    if project.read_only:
        project.close()
        raise UserError(f"{path} is read-only: {project.read_only_reason}")
    return project


def resolve_images(project, keys: list[str]) -> list[str]:
    """Image ids for ids or original names; raises UserError for unknown or ambiguous."""
    from fashionseg_gui.cli import UserError

    ids: list[str] = []
    for key in keys:
        if key in project.images:
            ids.append(key)
            continue
        matches = [r.id for r in project.images.values() if key in (r.original_name, r.file)]
        if not matches:
            raise UserError(f"no image {key!r} in {project.root}")
        if len(matches) > 1:
            raise UserError(
                f"{key!r} names {len(matches)} photos ({', '.join(matches)}); give the id"
            )
        ids.append(matches[0])
    return list(dict.fromkeys(ids))


def cmd_remove(args: argparse.Namespace) -> int:
    with _open_writable(args.project) as project:
        ids = resolve_images(project, args.images)
        names = [project.images[i].original_name for i in ids]
        stamp = project.remove_images(ids)
        for i, n in zip(ids, names, strict=True):
            print(f"moved to the trash: {n} ({i})")
        print(
            f"{len(ids)} photo(s) removed; restore with: fashionseg trash {args.project} "
            f"--restore {stamp}"
        )
    return 0


def cmd_trash(args: argparse.Namespace) -> int:
    with _open_writable(args.project) as project:
        if args.empty:
            n = project.empty_trash()
            print(f"trash emptied: {n} photo(s) deleted for good")
            return 0
        if args.restore:
            for key in args.restore:
                ids = project.restore_from_trash(key)
                for i in ids:
                    print(f"restored: {project.images[i].original_name} ({i})")
            return 0
        items = project.trash_entries()
        if not items:
            print("the trash is empty")
        for item in items:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.removed_at))
            print(f"{item.image_id}  {item.original_name}  removed {when}  (removal {item.stamp})")
    return 0
