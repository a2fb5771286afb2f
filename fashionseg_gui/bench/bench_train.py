"""Train a U-Net for a wall-clock budget on CCP photos and print speed and quality figures.

Trains on photos 0001-0800 (a hashed 5 % of them validate for the best checkpoint), then
evaluates the best checkpoint on 0801-0880 at full resolution (letterboxed prediction,
un-letterboxed to the original size). ``--recipe seed`` reproduces the seed notebook
(750x500 input, two-level 64/128 encoder-decoder, Adam 1e-4, batch 1, flips and rotation on
the photo only) for a side-by-side; ``--recipe budget`` lets the time budget fit the recipe to
the machine (``core.recipe``: what ``fashionseg train --max-minutes`` does), keeping any
setting given here. It prints the machine (CPU, vector flags, the fp32 matmul rate measured
in the same run) and the recipe used. ``--budget-sweep 3,10,30`` runs one benchmark per
budget and ends with the quality-vs-budget table. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ccp"


def register(parser: argparse.ArgumentParser) -> None:
    """Add the benchmark's options."""
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="CCP folder with images/ and masks/"
    )
    parser.add_argument("--mapping", type=Path, help="value->class JSON (default DATA/ccp5.json)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall-clock budget")
    parser.add_argument(
        "--recipe",
        choices=("default", "seed", "budget"),
        default="default",
        help="default: the app's default settings; seed: the seed notebook's; "
        "budget: fitted to this machine for the budget",
    )
    parser.add_argument(
        "--budget-sweep",
        help="comma-separated budgets in minutes, e.g. "
        "3,10,30: one run each, then a table (replaces --minutes)",
    )
    parser.add_argument("--train-range", default="1-800", help="photo numbers to train on")
    parser.add_argument("--eval-range", default="801-880", help="photo numbers to evaluate on")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="for tuning: evaluate on the last 80 photos of --train-range "
        "and train on the rest (never look at --eval-range)",
    )
    parser.add_argument("--input-size", help="HEIGHTxWIDTH (default: the app's default)")
    parser.add_argument("--base-width", type=int)
    parser.add_argument("--depth", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--precision", choices=("off", "bf16", "auto"))
    parser.add_argument("--stem-stride", type=int, choices=(1, 2, 4))
    parser.add_argument("--max-width", type=int)
    parser.add_argument("--decoder", choices=("unet", "light"))
    parser.add_argument(
        "--position-channel",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the row-position input channel (CoordConv-style; default: the recipe's)",
    )
    parser.add_argument("--loss", choices=("ce_dice", "weighted_ce", "ce"))
    parser.add_argument("--warmup", type=float, help="warm-up fraction of the schedule")
    parser.add_argument("--weight-decay", type=float, help="AdamW weight decay")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the split and the augmentation order (0)"
    )
    parser.add_argument(
        "--augment",
        help="comma-separated augmentations to use, of flip, rotate, "
        "scale, color; 'none' for none (default: the recipe's)",
    )
    parser.add_argument("--run-dir", type=Path, help="keep the run here (default: a temp dir)")


def _range(text: str) -> list[str]:
    lo, _, hi = text.partition("-")
    return [f"{k:04d}" for k in range(int(lo), int(hi or lo) + 1)]


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_now() -> str:
    """``"memory 1650 MB (peak 1700)"``: resident now (where /proc tells) and peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        now = f"{pages * resource.getpagesize() / 2**20:.0f} MB "
    except (OSError, IndexError, ValueError):
        now = ""
    return f"memory {now}(peak {_peak_rss_mb():.0f})"


#: Loads an exported SavedModel and times ``serve`` on one photo: run in a child process, as
#: a serving program would, so that its memory is not counted as the app's.
_SERVE_TIMER = """
import json, resource, statistics, sys, time
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
batch = tf.constant(np.load(sys.argv[2])[None])
times = {"serve": [], "label": []}
for k in range(23):
    for name, times_of in times.items():  # in turn, so both see the same machine
        t0 = time.perf_counter()
        result = getattr(loaded, name)(batch)
        {key: v.numpy() for key, v in result.items()}
        if k >= 3:  # the first calls trace and warm up
            times_of.append(time.perf_counter() - t0)
try:  # this program's own peak: ru_maxrss would count the parent's pages forked before exec
    with open("/proc/self/status") as fh:
        rss = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ms = {name: statistics.median(t) * 1000 for name, t in times.items()}
print(json.dumps({"ms": ms["serve"], "label_ms": ms["label"], "rss_mb": rss}))
"""


def _saved_model_ms(run_dir: Path, photo: Any) -> tuple[float, float, float]:
    """Export the run as the app does (in this process), then time the SavedModel's
    ``serve`` and ``label`` in turn on one full-size photo (batch 1, median of 20 each)
    in a child process.

    Returns ``(serve ms, label ms, the child's peak RSS in MB)``.
    """
    import subprocess
    import sys

    import numpy as np

    from fashionseg_gui.core.serving import export_saved_model

    with tempfile.TemporaryDirectory(prefix="fashionseg-bench-sm-") as tmp:
        out = export_saved_model(run_dir, Path(tmp) / "saved_model")
        np.save(Path(tmp) / "photo.npy", photo)
        done = subprocess.run(
            [sys.executable, "-c", _SERVE_TIMER, str(out), str(Path(tmp) / "photo.npy")],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"timing the SavedModel failed: {tail[0]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return float(figures["ms"]), float(figures["label_ms"]), float(figures["rss_mb"])


def recipe_config(name: str, minutes: float, args: argparse.Namespace | None = None) -> Any:
    """The ``TrainConfig`` of a benchmark recipe (``default``, ``seed`` or ``budget``)."""
    from fashionseg_gui.core.train import TrainConfig

    if name == "seed":
        cfg: dict[str, Any] = dict(
            epochs=1000,
            batch_size=1,
            learning_rate=1e-4,
            input_height=752,
            input_width=500,
            depth=2,
            base_width=64,
            max_width=128,
            batch_norm=False,
            loss="ce",
            stem_stride=1,
            decoder="unet",  # full resolution, skips concatenated
            augment_flip=True,
            augment_rotate=True,
            augment_scale=False,
            augment_color=False,
            augment_mask=False,
            mixed_precision="off",
            lr_schedule="constant",
            weight_decay=0.0,
            warmup_fraction=0.0,
            early_stopping_patience=None,
            position_channel=False,
        )
    elif name == "budget":
        # fitted to this machine by a probe, as `fashionseg train --max-minutes` does
        cfg = dict(epochs=1000, early_stopping_patience=None, recipe="auto")
    else:
        # the app's default recipe (TrainConfig's defaults, precision "auto": bfloat16 where
        # oneDNN may use AMX, else float32), run for the time budget
        cfg = dict(epochs=1000, early_stopping_patience=None)
    cfg.setdefault("recipe", "manual")
    cfg.update(max_minutes=minutes, val_fraction=0.05, seed=getattr(args, "seed", 0))
    if args is not None:
        if args.input_size:
            h, w = (int(v) for v in args.input_size.lower().split("x"))
            cfg.update(input_height=h, input_width=w)
        for key, attr in (
            ("base_width", "base_width"),
            ("depth", "depth"),
            ("batch_size", "batch_size"),
            ("learning_rate", "learning_rate"),
            ("mixed_precision", "precision"),
            ("stem_stride", "stem_stride"),
            ("max_width", "max_width"),
            ("loss", "loss"),
            ("warmup_fraction", "warmup"),
            ("decoder", "decoder"),
            ("weight_decay", "weight_decay"),
            ("position_channel", "position_channel"),
        ):
            if getattr(args, attr, None) is not None:
                cfg[key] = getattr(args, attr)
        if getattr(args, "augment", None):
            chosen = {a.strip() for a in args.augment.lower().split(",")} - {"none", ""}
            unknown = chosen - {"flip", "rotate", "scale", "color"}
            if unknown:
                raise ValueError(f"unknown augmentation {sorted(unknown)[0]!r} in --augment")
            cfg.update({f"augment_{a}": a in chosen for a in ("flip", "rotate", "scale", "color")})
        given = {"input_height", "input_width"} if args.input_size else set()
        given |= {
            k
            for k, a in (
                ("base_width", "base_width"),
                ("depth", "depth"),
                ("mixed_precision", "precision"),
            )
            if getattr(args, a, None) is not None
        }
        cfg["fixed"] = sorted(given)
    return TrainConfig.from_dict(cfg)


#: CPU flags worth naming for training speed (TensorFlow's oneDNN kernels use them).
CPU_FLAGS = (
    "amx_bf16",
    "amx_tile",
    "amx_int8",
    "avx512_bf16",
    "avx512f",
    "avx512_vnni",
    "avx2",
    "fma",
    "avx",
)


def machine_line() -> str:
    """CPU model, threads and the training-relevant vector flags of this machine."""
    import os

    from fashionseg_gui.core.train_config import compute_threads, cpu_flags

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    threads = compute_threads()
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    where = f"{cpus} threads" if cpus == threads else f"{cpus} CPUs, TensorFlow on {threads}"
    flags = cpu_flags()
    have = [f for f in CPU_FLAGS if f in flags]
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{model}, {where}; flags: {' '.join(have) or 'none of ' + '/'.join(CPU_FLAGS)}" + (
        f"; ONEDNN_MAX_CPU_ISA={isa}" if isa else ""
    )


def matmul_rate(n: int = 2048, seconds: float = 3.0) -> float:
    """Measured fp32 ``tf.matmul`` rate of this machine in FLOP/s."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        c = tf.matmul(a, b)
        reps += 1
    c.numpy()
    return 2.0 * n**3 * reps / (time.perf_counter() - t0)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (once, or once per budget of ``--budget-sweep``) and print figures."""
    from fashionseg_gui.cli import UserError

    print(f"machine: {machine_line()}", flush=True)
    rate = matmul_rate()
    print(f"fp32 matmul rate (measured now): {rate / 1e9:.0f} GFLOP/s", flush=True)
    if not args.budget_sweep:
        run_one(args, args.minutes, rate)
        return 0
    try:
        budgets = [float(v) for v in args.budget_sweep.split(",") if v.strip()]
    except ValueError:
        raise UserError(
            f"--budget-sweep takes minutes like 3,10,30, got {args.budget_sweep!r}"
        ) from None
    if not budgets or min(budgets) <= 0:
        raise UserError("--budget-sweep needs budgets > 0 minutes")
    rows = [run_one(args, minutes, rate) for minutes in budgets]
    print(f"\n=== budget sweep ({args.recipe} recipe) on {machine_line()} ===")
    print(
        "budget min | recipe | epochs | photos/s | val mIoU (eval; the other upsampling) | "
        "inference ms (the other) | SavedModel serve / label ms | peak RSS MB"
    )
    for row in rows:
        print(
            f"{row['minutes']:10g} | {row['recipe']} | {row['epochs']} | "
            f"{row['photos_s']:.2f} | {row['miou']:.4f} {row['upsampling']} "
            f"({row['miou_other']:.4f} {row['other']}) | {row['inference_ms']:.1f} "
            f"({row['inference_other_ms']:.1f}) | "
            f"{row['saved_model_ms']:.1f} / {row['saved_model_label_ms']:.1f} | "
            f"{row['peak_rss_mb']:.0f}"
        )
    return 0


def run_one(args: argparse.Namespace, minutes: float, rate: float) -> dict[str, Any]:
    """One benchmark run of ``minutes``; prints its figures and returns the summary."""
    import tempfile

    import numpy as np

    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core import data as D
    from fashionseg_gui.core import model as M
    from fashionseg_gui.core.predict import Predictor
    from fashionseg_gui.core.train import TrainData, train
    from fashionseg_gui.core.train_config import UPSAMPLING

    data = Path(args.data)
    mapping = args.mapping or data / "ccp5.json"
    if not (data / "images").is_dir() or not Path(mapping).is_file():
        raise UserError(f"no CCP data at {data} (images/, masks/ and {Path(mapping).name} needed)")
    class_names, _ = D.load_mapping(mapping)
    train_ids, eval_ids = _range(args.train_range), _range(args.eval_range)
    if args.holdout:
        train_ids, eval_ids = train_ids[:-80], train_ids[-80:]
    samples = D.samples_from_folder(data / "images", data / "masks", mapping, train_ids)
    cfg = recipe_config(args.recipe, minutes, args)
    tr, va, _ = D.split_samples(samples, cfg.val_fraction, cfg.seed, len(class_names))
    run_dir = (
        args.run_dir / f"run-{minutes:g}min" if args.run_dir and args.budget_sweep else args.run_dir
    ) or Path(tempfile.mkdtemp(prefix="fashionseg-bench-")) / "run"
    chosen: list[str] = []

    stamps: list[tuple[float, int, int]] = []  # (time, epoch, photos in the batch)
    epoch_ends: list[float] = []
    prep_t0 = time.monotonic()
    start_t: list[float] = []

    def on_progress(event: dict[str, Any]) -> None:
        now = time.monotonic()
        if event["event"] == "batch":
            stamps.append((now, event["epoch"], cfg.batch_size))
        elif event["event"] == "epoch":
            epoch_ends.append(now)
            print(
                f"  epoch {event['epoch']}: loss {event['loss']:.4f} val mIoU "
                f"{event['val_miou']:.3f} ({event['seconds']:.0f} s; {_memory_now()})",
                flush=True,
            )
        elif event["event"] == "recipe":
            chosen.append(event["text"])
            print(f"recipe chosen for the budget: {event['text']} ({_memory_now()})", flush=True)
        elif event["event"] == "start":
            start_t.append(now)
            used = event["config"]
            print(
                f"recipe {args.recipe}: {event['train_images']} train + "
                f"{event['val_images']} checkpoint-val photos, {event['precision']}, "
                f"{used['input_height']}x{used['input_width']}, width {used['base_width']}, "
                f"depth {used['depth']}, budget {minutes:g} min "
                f"(prepared in {now - prep_t0:.1f} s; {_memory_now()})",
                flush=True,
            )

    result = train(cfg, TrainData(tr, va, class_names), on_progress=on_progress, run_dir=run_dir)
    rss_train_mb = _peak_rss_mb()

    # --- throughput: batches after the first epoch, stalls between batches ---------------
    gaps = [(b[0] - a[0], b[1], a[1] != b[1]) for a, b in zip(stamps, stamps[1:], strict=False)]
    steady = [(g, e) for g, e, boundary in gaps if e >= 2 and not boundary]
    photos_s = (
        (len(steady) * cfg.batch_size / sum(g for g, _ in steady)) if steady else float("nan")
    )
    if not steady and len(gaps) > 1:  # a single epoch: skip its first 5 batches as warm-up
        tail = [g for g, _, b in gaps[5:] if not b]
        photos_s = len(tail) * cfg.batch_size / sum(tail) if tail else float("nan")
    within = sorted((g for g, _, boundary in gaps if not boundary), reverse=True)
    stalls = [g for g in within if g > 2.0]
    boundary = [g for g, _, b in gaps if b]

    # --- evaluation at full resolution ---------------------------------------------------
    # the run's upsampling (guided by default) and the other one, photo by photo in turn so
    # that both see the same machine
    predictor = Predictor(result.run_dir)
    heads = {predictor.upsampling: predictor}
    for name in UPSAMPLING:
        heads.setdefault(name, Predictor(result.run_dir, upsampling=name))
    evals = D.samples_from_folder(data / "images", data / "masks", mapping, eval_ids)
    cms = {name: np.zeros((len(class_names),) * 2, np.int64) for name in heads}
    head_times: dict[str, list[float]] = {name: [] for name in heads}
    for k, s in enumerate(evals):
        photo, mask = s.load_image(), s.load_mask()
        for name, head in heads.items():
            t0 = time.perf_counter()
            ids, _conf = head.predict(photo)
            if k >= 2:
                head_times[name].append(time.perf_counter() - t0)
            cms[name] += M.confusion_matrix(mask, ids, len(class_names))
    while len(head_times[predictor.upsampling]) < 20:
        for name, head in heads.items():
            t0 = time.perf_counter()
            head.predict(photo)
            head_times[name].append(time.perf_counter() - t0)
    cm, times = cms[predictor.upsampling], head_times[predictor.upsampling]
    other = next(name for name in heads if name != predictor.upsampling)
    rss_eval_mb = _peak_rss_mb()
    saved_ms, label_ms, serve_rss_mb = _saved_model_ms(result.run_dir, photo)
    from fashionseg_gui.core.train_config import TrainConfig

    used = TrainConfig.from_dict(json.loads((result.run_dir / "config.json").read_text()))
    box = D.letterbox_geometry(used.target_hw, used.target_hw, used.multiple)  # padded input
    flops = M.model_flops(predictor.model, box.out_h, box.out_w)
    train_flops = 3.0 * flops * photos_s
    rss_mb = _peak_rss_mb()
    ious = M.iou_per_class(cm)

    print(
        f"\n=== bench train ({args.recipe}, {minutes:g} min) — note: other jobs may share "
        "this machine's CPUs ==="
    )
    print(f"machine: {machine_line()}")
    print(
        "recipe: "
        + (
            chosen[0]
            if chosen
            else f"{used.input_height}x{used.input_width}, width {used.base_width}, "
            f"depth {used.depth}, {result.metrics.get('precision')} (as set)"
        )
    )
    print(
        f"run: {result.run_dir}  stopped: {result.stopped}  epochs: {result.epochs_run} "
        f"(best {result.best_epoch})  train time: {result.seconds:.0f} s"
    )
    print(f"training photos/s (steady state, epochs >= 2, validation excluded): {photos_s:.2f}")
    print(
        f"stalls > 2 s between batches within an epoch: {len(stalls)}"
        + (f" (longest {stalls[0]:.1f} s)" if stalls else "")
        + "; epoch-boundary gaps (validation + checkpoint): median "
        + (f"{statistics.median(boundary):.1f} s, max {max(boundary):.1f} s" if boundary else "n/a")
    )
    print(
        f"evaluation on {len(evals)} photos ({args.eval_range if not args.holdout else 'holdout'}),"
        f" full resolution, {predictor.upsampling} upsampling (the run's):"
    )
    print(
        f"  pixel accuracy {M.pixel_accuracy(cm):.4f}   mIoU {M.mean_iou(cm):.4f}   "
        f"all-background mIoU {M.background_baseline_miou(cm):.4f}"
    )
    print(
        "  per-class IoU: "
        + "  ".join(
            f"{n}={'n/a' if v is None else f'{v:.3f}'}"
            for n, v in zip(class_names, ious, strict=True)
        )
    )
    print(
        f"  with {other} upsampling instead: mIoU {M.mean_iou(cms[other]):.4f}   per-class IoU: "
        + "  ".join(
            f"{n}={'n/a' if v is None else f'{v:.3f}'}"
            for n, v in zip(class_names, M.iou_per_class(cms[other]), strict=True)
        )
    )
    print(
        f"model: {flops / 1e9:.2f} GFLOPs per photo (forward, {used.input_height}x"
        f"{used.input_width}), {predictor.model.count_params():,} parameters"
    )
    print(
        f"fp32 matmul rate: {rate / 1e9:.0f} GFLOP/s; training {train_flops / 1e9:.0f} GFLOP/s "
        f"(3x forward) = {train_flops / rate:.0%} of it"
    )
    print(
        f"inference per full-size photo (batch 1, median of {len(times)}, pre/post included): "
        f"{statistics.median(times) * 1000:.1f} ms ({predictor.upsampling}); "
        f"{statistics.median(head_times[other]) * 1000:.1f} ms ({other}), in turn"
    )
    print(
        f"exported SavedModel per full-size photo (batch 1, median of 20, in turn, outputs "
        f"back in numpy; loaded in a child process): serve() {saved_ms:.1f} ms (class ids and "
        f"probabilities); label() {label_ms:.1f} ms (class ids and confidence)"
    )
    print(
        f"peak RSS: {rss_mb:.0f} MB (after training {rss_train_mb:.0f} MB, after the full-size "
        f"evaluation {rss_eval_mb:.0f} MB, then the SavedModel's export); the process that "
        f"loaded and served the SavedModel: {serve_rss_mb:.0f} MB"
    )
    return {
        "minutes": minutes,
        "recipe": chosen[0] if chosen else args.recipe,
        "epochs": result.epochs_run,
        "photos_s": photos_s,
        "miou": M.mean_iou(cm),
        "miou_other": M.mean_iou(cms[other]),
        "upsampling": predictor.upsampling,
        "other": other,
        "inference_ms": statistics.median(times) * 1000,
        "inference_other_ms": statistics.median(head_times[other]) * 1000,
        "saved_model_ms": saved_ms,
        "saved_model_label_ms": label_ms,
        "peak_rss_mb": rss_mb,
    }
