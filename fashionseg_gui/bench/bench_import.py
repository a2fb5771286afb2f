"""Import speed: photos/s for a folder of photos with label masks; time to open a big project.

Prints figures, no pass/fail. Example::

    fashionseg bench import --data ../shared/data/ccp --mapping ../shared/data/ccp/ccp5.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with images/ and masks/ (e.g. ../shared/data/ccp)",
    )
    parser.add_argument("--mapping", type=Path, help="mask value mapping JSON (e.g. ccp5.json)")
    parser.add_argument("--limit", type=int, help="import only the first N photos")
    parser.add_argument(
        "--open-images",
        type=int,
        default=5000,
        help="size of the synthetic project whose open time is measured",
    )
    parser.add_argument("--workdir", type=Path, help="where to build the projects (default: tmp)")


def run(args: argparse.Namespace) -> int:
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.mask_import import import_mask_folder
    from fashionseg_gui.core.masks import load_mapping_json
    from fashionseg_gui.core.project import Project

    images_dir = args.data / "images"
    masks_dir = args.data / "masks"
    if not images_dir.is_dir():
        raise UserError(f"{args.data} has no images/ folder")
    files = sorted(p for p in images_dir.iterdir() if p.is_file())
    if args.limit:
        files = files[: args.limit]
    work = Path(tempfile.mkdtemp(prefix="fashionseg-bench-", dir=args.workdir))
    try:
        names, mapping = load_mapping_json(args.mapping) if args.mapping else (None, None)
        classes = None
        if names:
            from fashionseg_gui.core.project import PALETTE

            classes = [("background", "#000000")] + [
                (n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names[1:])
            ]
        project = Project.create(work / "import", classes)
        t0 = time.perf_counter()
        outcomes = project.import_images(files, source=str(images_dir))
        t_photos = time.perf_counter() - t0
        n_ok = sum(o.ok for o in outcomes)
        t1 = time.perf_counter()
        n_masks = 0
        if masks_dir.is_dir():
            report = import_mask_folder(project, masks_dir, mapping=mapping, class_names=names)
            n_masks = sum(1 for i in project.images if project.has_mask(i))
            del report
        t_masks = time.perf_counter() - t1
        project.close()
        total = t_photos + t_masks
        print(f"photos imported        {n_ok}/{len(files)}")
        print(f"masks imported         {n_masks}")
        print(
            f"photo import           {t_photos:7.2f} s  {n_ok / max(t_photos, 1e-9):7.1f} photos/s"
        )
        print(
            f"mask import            {t_masks:7.2f} s  {n_masks / max(t_masks, 1e-9):7.1f} masks/s"
        )
        print(f"photos + masks         {total:7.2f} s  {n_ok / max(total, 1e-9):7.1f} photos/s")

        # Open time of a large project: records only, opening must not decode images.
        big = work / "big"
        big_project = Project.create(big)
        big_project.close()
        data = json.loads((big / "project.json").read_text())
        sample = json.loads((work / "import" / "project.json").read_text())["images"]
        records = []
        for i in range(args.open_images):
            rec = (
                dict(sample[i % len(sample)])
                if sample
                else {"file": "x.jpg", "width": 700, "height": 500}
            )
            rec["id"] = uuid.uuid4().hex[:12]
            rec["sha256"] = f"{i:064x}"
            records.append(rec)
        data["images"] = records
        (big / "project.json").write_text(json.dumps(data))
        times = []
        for _ in range(5):
            t = time.perf_counter()
            p = Project.open(big)
            times.append(time.perf_counter() - t)
            p.close()
        print(
            f"open {args.open_images}-image project  median {statistics.median(times) * 1e3:7.1f} ms"
            f"  max {max(times) * 1e3:7.1f} ms  (5 opens; first {times[0] * 1e3:.1f} ms)"
        )
        p = Project.open(big)
        t = time.perf_counter()
        p.set_setting("bench", 1)
        print(f"save {args.open_images}-image project  {1e3 * (time.perf_counter() - t):7.1f} ms")
        p.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
