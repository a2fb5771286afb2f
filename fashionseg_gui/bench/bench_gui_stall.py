"""GUI responsiveness while a job runs: largest event-loop stall and its p99 (10 ms heartbeat).

A QTimer heartbeat runs every 10 ms on the GUI thread; the gap between two heartbeats is
how long the GUI could not react. Cases (``--case``):

- ``train`` (default): a small project (synthetic, or the first photos of a CCP-style
  folder with ``--data``), the Train panel offscreen, a training for ``--seconds``; the
  figures cover the whole run, TensorFlow's import included, plus a steady-state part
  (after the first epoch);
- ``delete-class``: the main window on a project of ``--masks`` masks (300); the user
  deletes a class in the Classes panel (it rewrites every mask);
- ``drop-folder``: ``--photos`` small photos (600) in nested folders dropped on the window
  (listing the folders and importing them);
- ``via-parse``: a VIA 2 file with ``--via-images`` images (1000) of polygons dropped on the
  window, until its import dialog would open (the file is read and parsed);
- ``predict``: a tiny model trained first (not measured), then the Train panel's *Predict
  unlabelled* on ``--predict-images`` photos (200) writing a prediction each.

Targets: p99 <= 50 ms, max <= 200 ms. Examples::

    fashionseg bench gui-stall --seconds 60
    fashionseg bench gui-stall --data ../shared/data/ccp --mapping ../shared/data/ccp/ccp5.json
    fashionseg bench gui-stall --case delete-class --masks 300
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from fashionseg_gui.core.project import Project

HEARTBEAT_MS = 10
CASES = ("train", "delete-class", "drop-folder", "via-parse", "predict")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="how long to train while measuring (default 60)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="folder with images/ and masks/ (e.g. ../shared/data/ccp); default: synthetic photos",
    )
    parser.add_argument("--mapping", type=Path, help="mask value mapping JSON (e.g. ccp5.json)")
    parser.add_argument("--images", type=int, default=24, help="photos in the project (24)")
    parser.add_argument("--input", default="384x256", help="training input HxW (384x256)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--depth", type=int, help="U-Net depth (default: the app's default)")
    parser.add_argument("--base-width", type=int, help="first-level filters (default: the app's)")
    parser.add_argument("--show", action="store_true", help="show the panel on the display")
    parser.add_argument("--workdir", type=Path, help="where to build the project (default: tmp)")
    parser.add_argument(
        "--case", choices=CASES, default="train", help="which job to measure (default: train)"
    )
    parser.add_argument(
        "--masks", type=int, default=300, help="delete-class: masks in the project (300)"
    )
    parser.add_argument(
        "--photos", type=int, default=600, help="drop-folder: photos in the dropped folder (600)"
    )
    parser.add_argument(
        "--via-images",
        type=int,
        default=1000,
        help="via-parse: images in the VIA file (1000, 20 polygons each)",
    )
    parser.add_argument(
        "--predict-images",
        type=int,
        default=200,
        help="predict: unlabelled photos to predict (200)",
    )


def _synthetic_project(root: Path, n: int) -> Project:
    """Photos of 320x240 with coloured blobs; the mask is derivable from the photo."""
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(
        root / "project", [("background", "#000000"), ("upper", "#e6194b"), ("lower", "#4363d8")]
    )
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


def _folder_project(root: Path, data: Path, mapping_path: Path | None, n: int) -> Project:
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.masks import load_mapping_json, read_label_mask
    from fashionseg_gui.core.project import Project

    images = sorted(p for p in (data / "images").glob("*") if p.is_file())[:n]
    if not images:
        raise UserError(f"{data} has no images/ folder with photos")
    names, mapping = (
        load_mapping_json(mapping_path) if mapping_path else (["background", "foreground"], None)
    )
    project = Project.create(
        root / "project", [(c, "#000000" if i == 0 else "#e6194b") for i, c in enumerate(names)]
    )
    for path in images:
        out = project.add_image_file(path, source=str(data))
        if not out.ok:
            continue
        rec = project.images[out.image_id]
        mask, _ = read_label_mask(
            data / "masks" / f"{path.stem}.png", (rec.width, rec.height), len(names), mapping
        )
        project.write_mask(out.image_id, mask)
    project.save()
    return project


def _stats(gaps_ms: np.ndarray) -> str:
    if gaps_ms.size == 0:
        return "no heartbeats"
    return (
        f"max {gaps_ms.max():7.1f} ms   p99 {np.percentile(gaps_ms, 99):6.1f} ms   "
        f"p50 {np.percentile(gaps_ms, 50):5.1f} ms   beats {gaps_ms.size}"
    )


def run(args: argparse.Namespace) -> int:
    if not args.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.case != "train":
        return _run_job_case(args)
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
        project = (
            _folder_project(work, args.data, args.mapping, args.images)
            if args.data
            else _synthetic_project(work, args.images)
        )
        print(
            f"project: {len(project.images)} labelled photos "
            f"({'from ' + str(args.data) if args.data else 'synthetic'}), "
            f"built in {time.perf_counter() - t:.1f} s"
        )
        panel = TrainPanel()
        panel.set_project(project)
        settings = {
            "epochs": 10000,
            "batch_size": args.batch_size,
            "input_height": height,
            "input_width": width,
        }
        settings.update(
            {
                k: v
                for k, v in (("depth", args.depth), ("base_width", args.base_width))
                if v is not None
            }
        )
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
        worker = panel._job  # noqa: SLF001 - benchmark instrumentation
        worker.metrics.connect(on_metrics)
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
        for name, key in (
            ("until the first batch", "first_batch"),
            ("after the first epoch", "first_epoch"),
        ):
            if key not in marks:
                continue
            sel = t_beats[1:] <= marks[key] if key == "first_batch" else t_beats[:-1] >= marks[key]
            label = f"{name} ({marks[key] - marks['start']:.1f} s):"
            print(f"{label:<31}{_stats(gaps[sel])}")
        worst = np.argsort(gaps)[-5:][::-1] if gaps.size else []
        print(
            "largest stalls (ms at s after start): "
            + ", ".join(f"{gaps[i]:.0f} @ {t_beats[i] - marks['start']:.1f}" for i in worst)
        )
        print("epochs ended at (s): " + ", ".join(f"{t - marks['start']:.1f}" for t in epoch_ends))
        print(
            f"batches trained: {getattr(worker, 'steps', '?')}"
            f"; stop took {marks['stopped'] - marks['stop']:.2f} s"
        )
        if failed:
            print(f"training failed: {panel.message.text()}")
        print(
            f"targets: p99 <= 50 ms, max <= 200 ms; {os.cpu_count()} CPU cores "
            "(shared with other work on this machine)"
        )
        panel.shutdown()
        project.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


# --- the job cases: the main window, one job, the heartbeat while it runs ---------------------
class _Heartbeat:
    """Timestamps of a 10 ms QTimer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.beats: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(lambda: self.beats.append(time.perf_counter()))

    def run_until(
        self, app: QCoreApplication, done: Callable[[], bool], timeout: float
    ) -> tuple[np.ndarray, float]:
        """Process events until ``done()`` (or ``timeout`` s); the gaps (ms) and seconds."""
        self.beats.clear()
        self.timer.start()
        t0 = time.perf_counter()
        while not done() and time.perf_counter() - t0 < timeout:
            app.processEvents()
            time.sleep(0.0005)
        seconds = time.perf_counter() - t0
        app.processEvents()
        self.timer.stop()
        return np.diff(np.array([t0, *self.beats])) * 1000, seconds


def _masks_project(root: Path, n: int, size: tuple[int, int] = (320, 240)) -> Project:
    """``n`` photos with masks of the four default classes (one PNG photo shared by all)."""
    from PIL import Image

    from fashionseg_gui.core.atomic import atomic_save_png
    from fashionseg_gui.core.project import ImageRecord, Project

    project = Project.create(root / "project")
    h, w = size
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    for i in range(n):
        image_id = f"img{i:05d}"
        name = f"{image_id}.png"
        Image.fromarray(photo).save(project.root / "images" / name)
        project.images[image_id] = ImageRecord(
            id=image_id,
            file=name,
            width=w,
            height=h,
            status="labelled",
            original_name=f"photo_{i:05d}.png",
        )
        mask = np.zeros((h, w), np.uint8)
        mask[rng.integers(0, h // 2) :, rng.integers(0, w // 2) :] = 1 + i % 3
        atomic_save_png(project.mask_path(image_id), mask)
    project.save()
    return project


def _photo_folder(root: Path, n: int) -> Path:
    from PIL import Image

    folder = root / "dropped"
    rng = np.random.default_rng(1)
    for i in range(n):
        sub = folder / f"shoot{i % 12:02d}" / f"day{i % 5}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(
            sub / f"photo_{i:05d}.png"
        )
        (sub / f"notes_{i:05d}.txt").write_text("not a photo")
    return folder


def _via_file(root: Path, n: int, regions: int = 20, points: int = 30) -> Path:
    import json

    rng = np.random.default_rng(2)
    meta = {}
    for i in range(n):
        regs = []
        for r in range(regions):
            xs = rng.integers(0, 600, points).tolist()
            ys = rng.integers(0, 800, points).tolist()
            regs.append(
                {
                    "shape_attributes": {"name": "polygon", "all_points_x": xs, "all_points_y": ys},
                    "region_attributes": {"style": ("preppy", "bohemian")[r % 2]},
                }
            )
        name = f"photo_{i:05d}.jpg"
        meta[f"{name}123"] = {"filename": name, "size": 123, "regions": regs, "file_attributes": {}}
    path = root / "big_via.json"
    path.write_text(
        json.dumps(
            {
                "_via_settings": {},
                "_via_img_metadata": meta,
                "_via_attributes": {"region": {}, "file": {}},
            }
        )
    )
    return path


def _train_tiny(project: Project) -> None:
    from fashionseg_gui.core.train import TrainConfig, train

    train(
        TrainConfig.from_dict(
            {
                "epochs": 1,
                "batch_size": 4,
                "learning_rate": 5e-3,
                "input_height": 64,
                "input_width": 48,
                "depth": 2,
                "base_width": 4,
            }
        ),
        project,
    )


def _run_job_case(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QDialog

    from fashionseg_gui.views import import_dialogs
    from fashionseg_gui.views.classes_panel import DeleteClassDialog
    from fashionseg_gui.views.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="fashionseg-stall-", dir=args.workdir))
    heart = _Heartbeat()
    try:
        t = time.perf_counter()
        if args.case == "delete-class":
            project = _masks_project(work, args.masks)
            what = f"{args.masks} masks"
        elif args.case == "predict":
            project = _masks_project(work, 12, (96, 64))
            for i in range(args.predict_images):  # unlabelled photos to predict
                src = work / f"u{i:05d}.png"
                from PIL import Image

                Image.fromarray(
                    np.random.default_rng(i).integers(0, 255, (96, 64, 3), dtype=np.uint8)
                ).save(src)
                project.add_image_file(src, source="bench")
            project.save()
            _train_tiny(project)
            what = f"{args.predict_images} unlabelled photos, a tiny trained model"
        else:
            from fashionseg_gui.core.project import Project

            project = Project.create(work / "project")
            what = "an empty project"
        extra = (
            _photo_folder(work, args.photos)
            if args.case == "drop-folder"
            else _via_file(work, args.via_images)
            if args.case == "via-parse"
            else None
        )
        root = project.root
        project.close()
        print(f"case {args.case}: {what}, built in {time.perf_counter() - t:.1f} s")

        window = MainWindow(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(1366, 768)
        window.show()
        window.open_project(root)
        idle, _ = heart.run_until(app, lambda: False, 1.0)
        print(f"idle reference (1 s):          {_stats(idle)}")

        dialog_seen: list[float] = []
        if args.case == "via-parse":  # the dialog is where the parse ends: answer "cancel"

            def refuse(dlg: QDialog) -> int:
                dialog_seen.append(time.perf_counter())
                return int(QDialog.DialogCode.Rejected)

            def refuse_open(dlg: QDialog) -> None:
                dialog_seen.append(time.perf_counter())
                dlg.reject()

            import_dialogs.ViaImportDialog.exec = refuse  # type: ignore[method-assign]
            import_dialogs.ViaImportDialog.open = refuse_open  # type: ignore[method-assign]
        DeleteClassDialog.ask = classmethod(  # type: ignore[method-assign]
            lambda cls, p, c, parent=None: (True, None)
        )

        jobs = window.jobs
        panel = window.ensure_train_panel() if args.case == "predict" else None
        started = time.perf_counter()
        if args.case == "delete-class":
            window.classes.set_current_class(1)
            window.classes.delete_current()
        elif args.case == "drop-folder":
            window.import_paths([extra])
        elif args.case == "via-parse":
            window.import_paths([extra])
        elif panel is not None:
            panel.predict_unlabelled()
        call = (time.perf_counter() - started) * 1000

        def done() -> bool:
            if args.case == "via-parse":
                return bool(dialog_seen) and not jobs.is_busy()
            return not jobs.is_busy()

        gaps, seconds = heart.run_until(app, done, max(args.seconds, 600.0))
        gaps = np.concatenate([[call], gaps])  # the starting call itself blocked the GUI
        print(f"starting call blocked the GUI:  {call:7.1f} ms")
        print(f"while the job ran ({seconds:.1f} s):  {_stats(gaps)}")
        if window.last_report_lines:
            print("report: " + " | ".join(window.last_report_lines[:3]))
        print(
            f"targets: p99 <= 50 ms, max <= 200 ms; {os.cpu_count()} CPU cores "
            "(shared with other work on this machine)"
        )
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
