"""Project commands: ``new``, ``import``, ``info``, ``export``."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.filetypes import IMAGE_SUFFIXES

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def _export_formats() -> list[str]:
    from fashionseg_gui.core.export import FORMATS

    return list(FORMATS)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a project folder")
    p.add_argument("project", type=Path)
    p.add_argument(
        "--classes",
        help="comma-separated class names after background (default: bohemian,preppy,streetwear)",
    )
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("import", help="import photos, folders, VIA files or a mask folder")
    p.add_argument("project", type=Path)
    p.add_argument("paths", nargs="*", type=Path, help="image files and folders (recursive)")
    p.add_argument(
        "--via",
        type=Path,
        action="append",
        default=[],
        help="a VIA JSON/CSV file (images are looked up beside it or in --images)",
    )
    p.add_argument(
        "--images",
        type=Path,
        action="append",
        default=[],
        help="folder with the images a VIA file refers to",
    )
    p.add_argument(
        "--attribute", help="VIA region attribute that holds the class (default: guessed)"
    )
    p.add_argument(
        "--unclassified",
        metavar="skip|CLASS",
        help="VIA regions that carry no class: 'skip' them (default) or give them "
        "the class named CLASS",
    )
    p.add_argument("--unlabelled-class", metavar="CLASS", help="same as --unclassified CLASS")
    p.add_argument(
        "--outside",
        choices=("unlabelled", "background"),
        default="unlabelled",
        help="VIA import: pixels outside every region are 'unlabelled' (255, "
        "default) or 'background' (class 0)",
    )
    p.add_argument(
        "--fill-closed-polylines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="VIA import: fill polylines whose ends meet as polygons (default: on)",
    )
    p.add_argument("--masks", type=Path, help="folder of label PNGs named like the photos")
    p.add_argument(
        "--mapping",
        type=Path,
        help='JSON {"classes": [...], "map": {"value": class_id}} for --masks',
    )
    p.add_argument("--limit", type=int, help="import at most N photos (first in name order)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("info", help="summarise a project")
    p.add_argument("project", type=Path)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("export", help="export masks / annotations")
    p.add_argument("project", type=Path)
    p.add_argument("--format", choices=_export_formats(), required=True)
    p.add_argument("--out", type=Path, required=True, help="output folder (or .json for coco/via)")
    p.add_argument(
        "--labelled-only", action="store_true", help="only images with status labelled or corrected"
    )
    p.set_defaults(func=cmd_export)


def _open(path: Path, read_only: bool = False):
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.project import Project

    project = Project.open(path, read_only=read_only)
    if project.read_only and not read_only:
        project.close()
        raise UserError(f"{path} is read-only: {project.read_only_reason}")
    return project


def collect_image_files(paths: list[Path]) -> list[Path]:
    """Files as given plus image files found (recursively) in folders, in name order."""
    from fashionseg_gui.cli import UserError

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(
                sorted(
                    f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
                )
            )
        elif p.is_file():
            files.append(p)
        else:
            raise UserError(f"no such file or folder: {p}")
    return files


class _Progress:
    """A one-line text progress bar on stderr (only when it is a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()

    def __call__(self, done: int, total: int, text: str = "") -> None:
        if not self.tty:
            return
        width = 30
        fill = int(width * done / max(total, 1))
        rate = done / max(time.monotonic() - self.t0, 1e-9)
        sys.stderr.write(
            f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} "
            f"{rate:5.1f}/s {text[:30]:30s}"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_new(args: argparse.Namespace) -> int:
    from fashionseg_gui.core.project import PALETTE, Project

    classes = None
    if args.classes:
        names = [n.strip() for n in args.classes.split(",") if n.strip()]
        classes = [("background", "#000000")] + [
            (n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)
        ]
    project = Project.create(args.project, classes)
    print(f"created {args.project} with classes: {', '.join(c.name for c in project.classes)}")
    project.close()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from fashionseg_gui.cli import UserError

    if not (args.paths or args.via or args.masks):
        raise UserError("nothing to import: give image files/folders, --via FILE or --masks DIR")
    project = _open(args.project)
    status = 0
    try:
        files = collect_image_files(args.paths)
        if args.limit is not None:
            files = files[: args.limit]
        if files:
            outcomes = project.import_images(files, on_progress=_Progress("import"))
            ok = [o for o in outcomes if o.ok]
            dup = [o for o in outcomes if o.duplicate_of]
            bad = [o for o in outcomes if not o.ok and not o.duplicate_of]
            print(f"imported {len(ok)} photo(s), {len(dup)} duplicate(s), {len(bad)} refused")
            for o in outcomes:
                for w in o.warnings:
                    print(f"  warning: {Path(o.path).name}: {w}")
            for o in dup + bad:
                print(f"  refused: {o.error}")
            if bad:
                status = 1
        for via_path in args.via:
            _import_via(project, via_path, args)
        if args.masks:
            from fashionseg_gui.core.mask_import import import_mask_folder
            from fashionseg_gui.core.masks import load_mapping_json

            names, mapping = load_mapping_json(args.mapping) if args.mapping else (None, None)
            report = import_mask_folder(
                project,
                args.masks,
                mapping=mapping,
                class_names=names,
                on_progress=_Progress("masks"),
            )
            print(f"masks {args.masks}:")
            for line in report.lines():
                print(f"  {line}")
    finally:
        project.close()
    return status


def _unclassified_class(project, args: argparse.Namespace) -> int | None:
    """The class id for VIA regions without a class (None: skip them)."""
    from fashionseg_gui.cli import UserError

    choice = args.unclassified or args.unlabelled_class
    if args.unclassified and args.unlabelled_class and args.unclassified != args.unlabelled_class:
        raise UserError("give --unclassified or --unlabelled-class, not both")
    if choice is None or choice.strip().casefold() == "skip":
        return None
    info = project.class_by_name(choice)
    if info is None:
        raise UserError(f"no class named {choice!r} in the project")
    return info.id


def _import_via(project, via_path: Path, args: argparse.Namespace) -> None:
    from fashionseg_gui.core.via import import_via

    report = import_via(
        project,
        via_path,
        attribute=args.attribute,
        image_dirs=args.images or [via_path.parent],
        unlabelled_class=_unclassified_class(project, args),
        background_rest=args.outside == "background",
        fill_closed_polylines=args.fill_closed_polylines,
    )
    print(f"VIA {via_path.name}:")
    for line in report.lines():
        print(f"  {line}")


def cmd_info(args: argparse.Namespace) -> int:
    project = _open(args.project, read_only=True)
    status = Counter(r.status for r in project.images.values())
    split = Counter(r.split or "unassigned" for r in project.images.values())
    print(f"project  {project.root}")
    print(
        f"images   {len(project.images)}  ("
        + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))
        + ")"
    )
    print("split    " + ", ".join(f"{k} {v}" for k, v in sorted(split.items())))
    print("classes  " + ", ".join(f"{c.id}:{c.name}" for c in project.classes))
    runs = (
        sorted(p.name for p in project.runs_dir.iterdir() if p.is_dir())
        if project.runs_dir.is_dir()
        else []
    )
    print(f"runs     {len(runs)}" + (f" (latest {runs[-1]})" if runs else ""))
    _print_review_effort(project)
    for w in project.open_warnings:
        print(f"warning  {w}")
    return 0


def _print_review_effort(project: Project) -> None:
    """Provenance of the corrected photos and the effort totals of the reviews."""
    from fashionseg_gui.core import provenance as P

    t = P.totals(project)
    print(
        f"review   {t['photos_corrected']} predictions accepted as corrected, "
        f"{t['pending_review']} waiting for review"
    )
    if t["photos_corrected"]:
        print(
            f"effort   {t['pixels_changed']:,} pixels changed of {t['pixels_reviewed']:,} "
            f"({100 * t['changed_share']:.1f} %), {t['minutes']:.1f} active minutes"
        )
        print("predicted by  " + ", ".join(f"{run} {n}" for run, n in sorted(t["by_run"].items())))


def cmd_export(args: argparse.Namespace) -> int:
    from fashionseg_gui.core.export import export

    project = _open(args.project, read_only=True)
    result = export(project, args.format, args.out, labelled_only=args.labelled_only)
    for line in result.lines():
        print(line)
    return 0
