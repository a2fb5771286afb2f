"""GUI responsiveness while training: largest event-loop stall and its p99 (10 ms heartbeat).

Builds a small project (synthetic, or the first photos of a CCP-style folder with
``--data``), opens the Train panel offscreen, starts a training, and runs a QTimer
heartbeat every 10 ms for ``--seconds``. The gap between two heartbeats is how long the
GUI could not react; the figures cover the whole run, TensorFlow's import included, plus a
steady-state part (after the first epoch). Targets: p99 <= 50 ms, max <= 200 ms. Example::

    fashionseg bench gui-stall --seconds 60
    fashionseg bench gui-stall --data ../shared/data/ccp --mapping ../shared/data/ccp/ccp5.json
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HEARTBEAT_MS = 10


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long to train while measuring (default 60)")
    parser.add_argument("--data", type=Path,
                        help="folder with images/ and masks/ (e.g. ../shared/data/ccp); "
                             "default: synthetic photos")
    parser.add_argument("--mapping", type=Path, help="mask value mapping JSON (e.g. ccp5.json)")
    parser.add_argument("--images", type=int, default=24, help="photos in the project (24)")
    parser.add_argument("--input", default="384x256", help="training input HxW (384x256)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--depth", type=int, help="U-Net depth (default: the app's default)")
    parser.add_argument("--base-width", type=int, help="first-level filters (default: the app's)")
    parser.add_argument("--show", action="store_true", help="show the panel on the display")
    parser.add_argument("--workdir", type=Path, help="where to build the project (default: tmp)")


def _synthetic_project(root: Path, n: int) -> Any:
    """Photos of 320x240 with coloured blobs; the mask is derivable from the photo."""
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(root / "project", [("background", "#000000"),
                                                ("upper", "#e6194b"), ("lower", "#4363d8")])
    rng = np.random.default_rng(0)
    src = root / "src"
    src.mkdir()
    for i in range(n):
        h, w = 320, 240
        photo = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        for cls, color in ((1, (220, 40, 60)), (2, (40, 70, 210))):
            y0, x0 = rng.integers(0, h - 80), rng.integers(0, w - 60)
            y1, x1 = y0 + rng.integers(40, 80), x0 + rng.integers(30, 60)
            photo[y0:y1, x0:x1] = color
            mask[y0:y1, x0:x1] = cls
        path = src / f"{i:04d}.png"
        Image.fromarray(photo).save(path)
        out = project.add_image_file(path, source="synthetic")
        project.write_mask(out.image_id, mask)
    project.save()
    return project


def _folder_project(root: Path, data: Path, mapping_path: Path | None, n: int) -> Any:
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.masks import load_mapping_json, read_label_mask
    from fashionseg_gui.core.project import Project

    images = sorted(p for p in (data / "images").glob("*") if p.is_file())[:n]
    if not images:
        raise UserError(f"{data} has no images/ folder with photos")
    names, mapping = (load_mapping_json(mapping_path) if mapping_path
                      else (["background", "foreground"], None))
    project = Project.create(root / "project", [(c, "#000000" if i == 0 else "#e6194b")
                                                for i, c in enumerate(names)])
    for path in images:
        out = project.add_image_file(path, source=str(data))
        if not out.ok:
            continue
        rec = project.images[out.image_id]
        mask, _ = read_label_mask(data / "masks" / f"{path.stem}.png", (rec.width, rec.height),
                                  len(names), mapping)
        project.write_mask(out.image_id, mask)
    project.save()
    return project


def _stats(gaps_ms: np.ndarray) -> str:
    if gaps_ms.size == 0:
        return "no heartbeats"
    return (f"max {gaps_ms.max():7.1f} ms   p99 {np.percentile(gaps_ms, 99):6.1f} ms   "
            f"p50 {np.percentile(gaps_ms, 50):5.1f} ms   beats {gaps_ms.size}")


def run(args: argparse.Namespace) -> int:
    if not args.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.cli import UserError
    from fashionseg_gui.views.train_panel import TrainPanel

    try:
        height, width = (int(v) for v in args.input.lower().split("x"))
    except ValueError:
        raise UserError(f"--input must look like 384x256, got {args.input!r}") from None
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="fashionseg-stall-", dir=args.workdir))
    try:
        t = time.perf_counter()
        project = (_folder_project(work, args.data, args.mapping, args.images) if args.data
                   else _synthetic_project(work, args.images))
        print(f"project: {len(project.images)} labelled photos "
              f"({'from ' + str(args.data) if args.data else 'synthetic'}), "
              f"built in {time.perf_counter() - t:.1f} s")
        panel = TrainPanel()
        panel.set_project(project)
        settings = {"epochs": 10000, "batch_size": args.batch_size, "input_height": height,
                    "input_width": width}
        settings.update({k: v for k, v in (("depth", args.depth), ("base_width", args.base_width))
                         if v is not None})
        panel.set_config(settings)
        panel.resize(900, 900)
        panel.show()

        beats: list[float] = []
        marks: dict[str, float] = {}
        epoch_ends: list[float] = []
        timer = QTimer()
        timer.setInterval(HEARTBEAT_MS)
        timer.timeout.connect(lambda: beats.append(time.perf_counter()))

        def on_metrics(m: dict) -> None:
            if m.get("event") == "epoch":
                epoch_ends.append(time.perf_counter())
                marks.setdefault("first_epoch", epoch_ends[-1])
            if m.get("event") == "batch" and "first_batch" not in marks:
                marks["first_batch"] = time.perf_counter()

        # Idle reference: 1 s of heartbeats before training starts.
        timer.start()
        t_idle = time.perf_counter()
        while time.perf_counter() - t_idle < 1.0:
            app.processEvents()
            time.sleep(0.001)
        idle = np.diff(beats) * 1000 if len(beats) > 1 else np.zeros(0)
        beats.clear()

        marks["start"] = time.perf_counter()
        if not panel.start_training():
            raise UserError(f"training did not start: {panel.message.text()}")
        panel._job.metrics.connect(on_metrics)  # noqa: SLF001 - benchmark instrumentation
        deadline = marks["start"] + args.seconds
        while time.perf_counter() < deadline and panel.is_busy():
            app.processEvents()
            time.sleep(0.0005)
        failed = not panel.message.isHidden() and not panel.is_busy()
        marks["stop"] = time.perf_counter()
        panel.stop()
        while panel.is_busy() and time.perf_counter() - marks["stop"] < 120:
            app.processEvents()
            time.sleep(0.0005)
        marks["stopped"] = time.perf_counter()
        timer.stop()

        t_beats = np.array(beats)
        gaps = np.diff(t_beats) * 1000
        print(f"idle reference (1 s):          {_stats(idle)}")
        print(f"whole training ({args.seconds:.0f} s):      {_stats(gaps)}")
        for name, key in (("until the first batch", "first_batch"),
                          ("after the first epoch", "first_epoch")):
            if key not in marks:
                continue
            sel = t_beats[1:] <= marks[key] if key == "first_batch" else t_beats[:-1] >= marks[key]
            label = f"{name} ({marks[key] - marks['start']:.1f} s):"
            print(f"{label:<31}{_stats(gaps[sel])}")
        worst = np.argsort(gaps)[-5:][::-1] if gaps.size else []
        print("largest stalls (ms at s after start): " + ", ".join(
            f"{gaps[i]:.0f} @ {t_beats[i] - marks['start']:.1f}" for i in worst))
        print("epochs ended at (s): " + ", ".join(f"{t - marks['start']:.1f}" for t in epoch_ends))
        print(f"batches trained: {getattr(panel._finished_jobs[-1], 'steps', '?') if panel._finished_jobs else '?'}"  # noqa: SLF001
              f"; stop took {marks['stopped'] - marks['stop']:.2f} s")
        if failed:
            print(f"training failed: {panel.message.text()}")
        print(f"targets: p99 <= 50 ms, max <= 200 ms; {os.cpu_count()} CPU cores "
              "(shared with other work on this machine)")
        panel.shutdown()
        project.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
