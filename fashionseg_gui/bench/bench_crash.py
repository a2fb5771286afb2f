"""Crash test: SIGKILL random writes to a project, then check that it can be trusted.

Each trial copies a small synthetic project, runs one operation in a forked child and
kills it (SIGKILL) after a random delay, then opens the project and checks the
invariants of ``docs/DESIGN.md``: it opens writable (no stuck lock), project.json
validates, every mask holds only ids of the class table and means what it says, every
status matches the files, each change is wholly old or wholly new (a class deletion, a
mask and its shapes, an import batch), and orphan photos do not pile up (re-running the
import adopts them). Prints tried / recovered / violated per operation.

Operations: ``import`` (photos), ``mask-import`` (a folder of label PNGs), ``label-edit``
(document edits and saves), ``class-delete``, ``class-rename``, ``remove`` (to the trash),
``export`` (label PNGs) and ``train`` (a tiny training run that writes its checkpoints after
every epoch, run in a fresh interpreter, since TensorFlow is not fork-safe). After a killed training run, every run folder's JSON files parse, every checkpoint is a
whole Keras archive, and the run the app would pick ("latest run") has a model.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

OPERATIONS = (
    "import",
    "mask-import",
    "label-edit",
    "class-delete",
    "class-rename",
    "remove",
    "export",
    "train",
)
N_IMAGES = 24
W, H = 64, 48
EDIT_BOX = (10, 8, 20, 14)  # x, y, w, h of the rect the label edit adds (class 2)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kills", type=int, default=200, help="number of SIGKILL trials (200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--ops", default=",".join(OPERATIONS), help="comma-separated operations (default: all)"
    )
    p.add_argument("--keep", type=Path, help="keep the projects of violated trials here")


@dataclass
class Tally:
    tried: int = 0
    recovered: int = 0
    violated: int = 0
    finished: int = 0  # the child ended before the kill
    reasons: Counter = field(default_factory=Counter)


# --- the template project ---------------------------------------------------------------------
def _photo(k: int) -> object:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(k)
    return Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))


def _template_mask(k: int) -> object:
    import numpy as np

    m = np.full((H, W), 255, np.uint8)
    m[:, : W // 2] = 0
    m[: H // 2, W // 2 :] = 1 + k % 3
    m[H // 2 :, W // 2 :] = 3
    return m


def build_template(root: Path) -> dict:
    """A project with photos (half labelled with classes 1..3) and spare inputs."""
    from fashionseg_gui.core.project import Project

    photos = root / "photos"
    photos.mkdir(parents=True)
    for k in range(N_IMAGES + 10):
        _photo(k).save(photos / f"p{k:03d}.png")
    project = Project.create(root / "proj")
    outcomes = project.import_images(sorted(photos.glob("p0[01]*.png"))[:N_IMAGES])
    ids = [o.image_id for o in outcomes]
    for k, iid in enumerate(ids[: N_IMAGES // 2]):
        project.write_mask(iid, _template_mask(k))
    project.close()
    masks = root / "maskdir"
    masks.mkdir()
    from PIL import Image

    for k, iid in enumerate(ids):
        name = project.images[iid].original_name.rsplit(".", 1)[0]
        Image.fromarray(_template_mask(k + 1)).save(masks / f"{name}.png")
    new_photos = root / "new_photos"
    new_photos.mkdir()
    for k in range(N_IMAGES, N_IMAGES + 10):
        shutil.copy(photos / f"p{k:03d}.png", new_photos)
    return {"ids": ids, "new_photos": new_photos, "masks": masks}


# --- the operations (run in the child) ----------------------------------------------------------
def _op_import(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core.project import Project

    with Project.open(proj) as p:
        p.import_images(sorted(ctx["new_photos"].iterdir()))


def _op_mask_import(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core import masks
    from fashionseg_gui.core.project import Project

    with Project.open(proj) as p:
        masks.import_mask_folder(p, ctx["masks"])


def _op_label_edit(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core.annotation import AnnotationDocument
    from fashionseg_gui.core.project import Project

    x, y, w, h = EDIT_BOX
    with Project.open(proj) as p:
        for iid in ctx["ids"]:
            doc = AnnotationDocument(p, iid)
            doc.add_shape({"kind": "rect", "x": x, "y": y, "w": w, "h": h, "class_id": 2})
            doc.save()


def _op_class_delete(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core.project import Project

    with Project.open(proj) as p:
        p.delete_class(1)


def _op_class_rename(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core.project import Project

    with Project.open(proj) as p:
        p.rename_class(2, "renamed")


def _op_remove(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core.project import Project

    with Project.open(proj) as p:
        p.remove_images(ctx["ids"][::2])


def _op_export(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core import masks
    from fashionseg_gui.core.project import Project

    with Project.open(proj, read_only=True) as p:
        masks.export_label_pngs(p, proj.parent / "export")


def _op_train(proj: Path, ctx: dict) -> None:
    from fashionseg_gui.core import train as T
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.train_config import TrainConfig

    T.CHECKPOINT_INTERVAL_S = 0.0  # a checkpoint after every epoch: many writes to cut into
    config = TrainConfig(
        epochs=8,
        min_steps_per_epoch=2,
        batch_size=2,
        input_height=32,
        input_width=48,
        depth=2,
        base_width=4,
        warmup_fraction=0.0,
        early_stopping_patience=None,
        augment_rotate=False,
        augment_scale=False,
        augment_color=False,
        recipe="manual",
    )
    with Project.open(proj) as p:
        T.train(config, p)


RUNNERS: dict[str, Callable[[Path, dict], None]] = {
    "import": _op_import,
    "mask-import": _op_mask_import,
    "label-edit": _op_label_edit,
    "class-delete": _op_class_delete,
    "class-rename": _op_class_rename,
    "remove": _op_remove,
    "export": _op_export,
    "train": _op_train,
}


#: Operations run in a fresh interpreter rather than a fork: TensorFlow is not fork-safe, and
#: the calling process (a test session, say) may have loaded it already.
SPAWNED = ("train",)


def _run_spawned(op: str, proj: Path, delay: float | None) -> bool:
    import subprocess
    import sys

    code = (
        f"import sys; from pathlib import Path; from fashionseg_gui.bench import bench_crash; "
        f"bench_crash.RUNNERS[{op!r}](Path(sys.argv[1]), {{}})"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(proj)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.wait(timeout=delay)
        return proc.returncode == 0
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False


def _run_child(op: str, proj: Path, ctx: dict, delay: float | None) -> bool:
    """Run ``op`` in a child; SIGKILL it after ``delay`` s. True if it finished first."""
    if op in SPAWNED:
        return _run_spawned(op, proj, delay)
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            RUNNERS[op](proj, ctx)
        except BaseException:  # noqa: BLE001 - a child must never return into the caller
            code = 1
        os._exit(code)
    if delay is not None:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                return True
            time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
        os.kill(pid, signal.SIGKILL)
    _pid, status = os.waitpid(pid, 0)
    return not os.WIFSIGNALED(status)


# --- the invariants (checked in this process) ------------------------------------------------
def _keras_archive_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole Keras 3 archive (checked as a zip; TensorFlow stays out)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if not {"config.json", "model.weights.h5"} <= names:
                return "archive without its config or weights"
            if z.testzip() is not None:
                return "archive with a damaged member"
    except (zipfile.BadZipFile, OSError) as exc:
        return f"not a readable archive ({exc})"
    return None


def check_runs(proj: Path) -> list[str]:
    """What is wrong with the run folders after a kill (empty when they can be trusted)."""
    import json

    from fashionseg_gui.core.runs import RunError, has_model, latest_run

    bad: list[str] = []
    runs = proj / "runs"
    if not runs.is_dir():
        return bad
    for run in sorted(r for r in runs.iterdir() if r.is_dir()):
        for name in ("config.json", "metrics.json"):
            f = run / name
            if f.exists():
                try:
                    json.loads(f.read_text(encoding="utf-8"))
                except (ValueError, OSError):
                    bad.append(f"{run.name}: torn {name}")
        # (a ".name.partial.keras" is a save cut short before its rename: never read)
        for ckpt in sorted(
            c for c in (run / "checkpoints").glob("*.keras") if not c.name.startswith(".")
        ):
            problem = _keras_archive_problem(ckpt)
            if problem:
                bad.append(f"{run.name}: {ckpt.name} is a {problem}")
    try:
        chosen = latest_run(runs)
    except RunError:
        return bad  # no model yet: the app says "train one first"
    if not has_model(chosen):
        bad.append(f"latest run {chosen.name} has no model")
    return bad


def check(op: str, proj: Path, ctx: dict, before: dict) -> list[str]:
    """The violated invariants of a project after a kill (empty when it can be trusted)."""
    import numpy as np

    from fashionseg_gui.core.project import Project, ProjectError

    bad: list[str] = []
    try:
        p = Project.open(proj)
    except (ProjectError, OSError) as exc:
        return [f"does not open: {exc}"]
    try:
        if p.read_only:
            bad.append(f"opened read-only: {p.read_only_reason}")
            return bad
        n_classes = len(p.classes)
        names = [c.name for c in p.classes]
        if names not in (before["classes"], before["classes_new"].get(op, before["classes"])):
            bad.append(f"class table is neither old nor new: {names}")
        images_dir = {f.name for f in (proj / "images").iterdir() if not f.name.startswith(".")}
        for iid, rec in p.images.items():
            has = p.has_mask(iid)
            if has != (rec.status in ("labelled", "corrected")):
                bad.append(
                    f"{iid}: status {rec.status} but mask file {'present' if has else 'absent'}"
                )
            if rec.file not in images_dir:
                bad.append(f"{iid}: photo file missing")
            if not has:
                continue
            try:
                mask = p.read_mask(iid)
            except ProjectError as exc:
                bad.append(f"{iid}: mask unreadable: {exc}")
                continue
            values = set(np.unique(mask).tolist()) - {255}
            if any(v >= n_classes for v in values):
                bad.append(f"{iid}: mask values {sorted(values)} beyond {n_classes} classes")
            if op == "class-delete" and iid in before["template_masks"]:
                old = before["template_masks"][iid]
                want = old if n_classes == len(before["classes"]) else before["lut"][old]
                if not np.array_equal(mask, want):
                    bad.append(f"{iid}: mask is not the one its class table says")
            if op == "label-edit":
                x, y, w, h = EDIT_BOX
                shaped = any(s.get("kind") == "rect" for s in p.read_shapes(iid))
                painted = bool((mask[y : y + h, x : x + w] == 2).all())
                if shaped != painted:
                    bad.append(f"{iid}: shapes and mask of different saves")
        n_old, n_now = len(before["ids"]), len(p.images)
        if op == "import" and n_now not in (n_old, n_old + 10):
            bad.append(f"import batch partly kept: {n_now - n_old} of 10")
        if op == "remove" and n_now not in (n_old, n_old - len(before["ids"][::2])):
            bad.append(f"removal partly kept: {n_old - n_now} gone")
        if op == "train":
            bad.extend(check_runs(proj))
        left = p.find_leftovers()
        if op == "import":
            # Recovery: the user imports the same photos again; copies are adopted, not doubled.
            p.import_images(sorted(ctx["new_photos"].iterdir()))
            files = [f for f in (proj / "images").iterdir() if not f.name.startswith(".")]
            if len(files) != len(p.images):
                bad.append(f"{len(files) - len(p.images)} orphan photo(s) after re-import")
        elif left.orphans:
            bad.append(f"{len(left.orphans)} orphan photo(s)")
    finally:
        p.close()
    return bad


def _before(template: Path, ctx: dict) -> dict:
    import numpy as np

    from fashionseg_gui.core.project import Project

    with Project.open(template / "proj", read_only=True) as p:
        classes = [c.name for c in p.classes]
        masks = {iid: p.read_mask(iid).copy() for iid in ctx["ids"] if p.has_mask(iid)}
    lut = np.arange(256, dtype=np.uint8)
    lut[1] = 255
    lut[2 : len(classes)] = np.arange(1, len(classes) - 1)
    renamed = list(classes)
    renamed[2] = "renamed"
    return {
        "classes": classes,
        "template_masks": masks,
        "lut": lut,
        "ids": ctx["ids"],
        "classes_new": {"class-delete": classes[:1] + classes[2:], "class-rename": renamed},
    }


def run_trials(
    kills: int,
    seed: int = 0,
    ops: tuple[str, ...] = OPERATIONS,
    keep: Path | None = None,
    out: Callable[[str], None] = print,
    timing_runs: int = 3,
) -> dict[str, Tally]:
    """Run ``kills`` trials spread over ``ops``; returns the tally per operation.

    Each operation first runs ``timing_runs`` times uncut; the kill delays are spread over
    its median duration."""
    if not hasattr(os, "fork"):
        raise RuntimeError("the crash benchmark needs os.fork (Linux or macOS)")
    rng = random.Random(seed)
    tallies = {op: Tally() for op in ops}
    with tempfile.TemporaryDirectory(prefix="fashionseg-crash-") as tmp:
        tmp_path = Path(tmp)
        ctx = build_template(tmp_path / "template")
        before = _before(tmp_path / "template", ctx)
        # Every module an operation uses is imported here, so a forked child starts at once.
        import fashionseg_gui.core.annotation
        import fashionseg_gui.core.leftovers
        import fashionseg_gui.core.masks
        import fashionseg_gui.core.schema
        import fashionseg_gui.core.shapes
        import fashionseg_gui.core.trash  # noqa: F401
        from fashionseg_gui.core.schema import validate_project

        validate_project(
            {"schema_version": 1, "classes": [{"id": 0, "name": "b", "color": "#000000"}]}
        )
        durations = {}
        for op in ops:  # how long each operation takes uncut (median of 3), to spread the kills
            runs = []
            for _ in range(max(1, timing_runs)):
                trial = tmp_path / "timing"
                shutil.copytree(tmp_path / "template" / "proj", trial / "proj")
                t0 = time.perf_counter()
                _run_child(op, trial / "proj", ctx, None)
                runs.append(time.perf_counter() - t0)
                shutil.rmtree(trial)
            durations[op] = max(0.005, sorted(runs)[len(runs) // 2])
        out(
            "operation durations (uncut): "
            + ", ".join(f"{op} {d * 1000:.0f} ms" for op, d in durations.items())
        )
        for k in range(kills):
            op = ops[k % len(ops)]
            trial = tmp_path / f"trial{k}"
            shutil.copytree(tmp_path / "template" / "proj", trial / "proj")
            delay = rng.uniform(0.0, durations[op] * 0.95)
            finished = _run_child(op, trial / "proj", ctx, delay)
            reasons = check(op, trial / "proj", ctx, before)
            t = tallies[op]
            t.tried += 1
            t.finished += finished
            if reasons:
                t.violated += 1
                t.reasons.update(r.split(":")[-1].strip()[:80] if ":" in r else r for r in reasons)
                if keep is not None:
                    shutil.copytree(trial, keep / f"{op}-{k}", dirs_exist_ok=True)
            else:
                t.recovered += 1
            shutil.rmtree(trial, ignore_errors=True)
    return tallies


def run(args: argparse.Namespace) -> int:
    ops = tuple(o.strip() for o in args.ops.split(",") if o.strip())
    unknown = [o for o in ops if o not in RUNNERS]
    if unknown:
        print(f"unknown operation(s): {', '.join(unknown)}; choose from {', '.join(OPERATIONS)}")
        return 2
    t0 = time.perf_counter()
    tallies = run_trials(args.kills, args.seed, ops, args.keep)
    print(f"{'operation':<14}{'tried':>7}{'recovered':>11}{'violated':>10}{'ran out':>9}")
    for op, t in tallies.items():
        print(f"{op:<14}{t.tried:>7}{t.recovered:>11}{t.violated:>10}{t.finished:>9}")
        for reason, n in t.reasons.most_common(5):
            print(f"    {n} x {reason}")
    total = sum(t.violated for t in tallies.values())
    print(
        f"{sum(t.tried for t in tallies.values())} kills, {total} violated, "
        f"{time.perf_counter() - t0:.0f} s  ('ran out' = finished before its kill)"
    )
    return 0
