"""The correction loop on CCP photos: a simulated annotator, queue arm against random arm.

Round 0 trains on ``--labelled`` (80) labelled photos of the pool 0001-0800 for a fixed
time budget (``--round-minutes``); the model predicts ``--pool`` (400) unlabelled pool
photos. Each later round, in each arm, the annotator "corrects" ``--correct`` (80) of the
predicted photos by accepting their ground truth, chosen by the label-next queue
(``core.queue``, ``--queue-by``) in one arm and at random in the other (same round-0
model, same seed, same budget), and the model is fine-tuned from the previous round's.
Photos 0801-0880 are never trained on: they give the validation mIoU of each round (full
resolution). The correction effort is the share of pixels of the corrected photos whose
class the annotator had to change (labelling from scratch is 100 %).

``--planted`` (20) of the round-0 labels are corrupted (two classes swapped in a region);
after round 0 the label-error finder (``core.label_errors``) ranks the labelled photos and
the benchmark prints how many planted ones are in its top ``--finder-top`` (40), and where
the finder's predictions came from (held-out or trained on).

Everything goes through a real project folder and the app's own predict, queue, finder and
training code. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from fashionseg_gui.bench.bench_train import DEFAULT_DATA, _range

PALETTE = (
    "#000000",
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46f0f0",
    "#f032e6",
    "#bcf60c",
    "#fabebe",
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the benchmark's options."""
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="CCP folder with images/ and masks/"
    )
    parser.add_argument(
        "--mapping",
        type=Path,
        help="value->class JSON (default DATA/ccp5.json; a bare name is looked up in DATA too)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="correction rounds after round 0 (2-3)"
    )
    parser.add_argument(
        "--round-minutes", type=float, default=3.0, help="training budget of each round"
    )
    parser.add_argument(
        "--round-epochs",
        type=int,
        help="train each round for exactly this many epochs instead of --round-minutes "
        "(same compute in both arms, whatever else runs on the machine)",
    )
    parser.add_argument("--labelled", type=int, default=80, help="labelled photos of round 0")
    parser.add_argument("--pool", type=int, default=400, help="unlabelled photos predicted")
    parser.add_argument("--correct", type=int, default=80, help="photos corrected per round")
    parser.add_argument(
        "--planted",
        type=int,
        default=20,
        help="round-0 labels corrupted for the label-error finder",
    )
    parser.add_argument("--finder-top", type=int, default=40)
    parser.add_argument("--queue-by", choices=("uncertainty", "diverse"), default="uncertainty")
    parser.add_argument("--pool-range", default="1-800", help="photo numbers of the pool")
    parser.add_argument("--eval-range", default="801-880", help="photo numbers to evaluate on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-size", help="HEIGHTxWIDTH (default: the app's default)")
    parser.add_argument("--base-width", type=int)
    parser.add_argument("--depth", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--precision", choices=("off", "bf16", "auto"))
    parser.add_argument("--keep", type=Path, help="keep the projects here (default: a temp dir)")
    parser.add_argument(
        "--no-machine", action="store_true", help="skip the matmul-rate measurement (3 s)"
    )


def _config(args: argparse.Namespace, resume: Path | None) -> Any:
    from fashionseg_gui.bench.bench_train import recipe_config
    from fashionseg_gui.core.train_config import TrainConfig

    ns = argparse.Namespace(
        seed=args.seed,
        input_size=args.input_size,
        base_width=args.base_width,
        depth=args.depth,
        batch_size=args.batch_size,
        precision=args.precision,
        augment=None,
    )
    cfg = recipe_config("default", args.round_minutes, ns).to_dict()
    cfg["val_fraction"] = 0.1
    if args.round_epochs:
        cfg.update(epochs=int(args.round_epochs), max_minutes=None, early_stopping_patience=None)
    cfg["resume_from"] = None if resume is None else str(resume)
    return TrainConfig.from_dict(cfg)


def corrupt(mask: Any, rng: Any, num_classes: int) -> Any:
    """A copy of ``mask`` with two classes swapped in a region (the box around the labelled
    non-background pixels, its middle half); a region of one class becomes another class."""
    import numpy as np

    out = mask.copy()
    fg = np.argwhere((mask > 0) & (mask < num_classes))
    if len(fg) == 0:
        y0, x0, y1, x1 = 0, 0, mask.shape[0], mask.shape[1]
    else:
        (y0, x0), (y1, x1) = fg.min(0), fg.max(0) + 1
    h, w = y1 - y0, x1 - x0
    ys, xs = (
        slice(y0 + h // 4, y0 + max(3 * h // 4, h // 4 + 1)),
        slice(x0 + w // 4, x0 + max(3 * w // 4, w // 4 + 1)),
    )
    region = out[ys, xs]
    counts = np.bincount(region[region < num_classes].reshape(-1), minlength=num_classes)
    counts[0] = 0
    order = [int(c) for c in np.argsort(-counts) if counts[c] > 0]
    if len(order) >= 2:
        a, b = order[0], order[1]
    else:
        a = order[0] if order else 0
        b = int(rng.choice([c for c in range(1, num_classes) if c != a]))
    was_a, was_b = region == a, region == b
    region[was_a], region[was_b] = b, a
    return out


def _evaluate(run_dir: Path, evals: list[Any], num_classes: int) -> float:
    import numpy as np

    from fashionseg_gui.core import model as M
    from fashionseg_gui.core.predict import Predictor

    predictor = Predictor(run_dir)
    cm = np.zeros((num_classes, num_classes), np.int64)
    for s in evals:
        ids, _ = predictor.predict(s.load_image())
        cm += M.confusion_matrix(s.load_mask(), ids, num_classes)
    return float(M.mean_iou(cm))


def run(args: argparse.Namespace) -> int:
    """Run the loop benchmark and print its figures."""
    import numpy as np

    from fashionseg_gui.bench.bench_train import machine_line, matmul_rate
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core import data as D
    from fashionseg_gui.core import label_errors as LE
    from fashionseg_gui.core.predict import predict_project
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.queue import build_queue
    from fashionseg_gui.core.train import train

    data = Path(args.data)
    mapping = Path(args.mapping or data / "ccp5.json")
    if not mapping.is_file() and not mapping.is_absolute() and (data / mapping).is_file():
        mapping = data / mapping  # "--mapping ccp5.json": the file beside the data
    if not (data / "images").is_dir() or not mapping.is_file():
        raise UserError(f"no CCP data at {data} (images/, masks/ and {mapping.name} needed)")
    if args.rounds < 1 or args.labelled < 2 or args.correct < 1:
        raise UserError("--rounds >= 1, --labelled >= 2 and --correct >= 1 are needed")
    print(f"machine: {machine_line()}", flush=True)
    if not args.no_machine:
        print(f"fp32 matmul rate (measured now): {matmul_rate() / 1e9:.0f} GFLOP/s", flush=True)
    class_names, _ = D.load_mapping(mapping)
    n_cls = len(class_names)
    pool_ids = [i for i in _range(args.pool_range) if any((data / "images").glob(f"{i}.*"))]
    eval_ids = _range(args.eval_range)
    if set(pool_ids) & set(eval_ids):
        raise UserError(
            "--pool-range and --eval-range overlap: the loop never trains on the "
            "photos it is evaluated on"
        )
    rng = np.random.default_rng(args.seed)
    need = args.labelled + args.pool
    if len(pool_ids) < need:
        raise UserError(f"the pool has {len(pool_ids)} photos; --labelled + --pool needs {need}")
    chosen = [pool_ids[k] for k in rng.permutation(len(pool_ids))[:need]]
    seed_ids, unl_ids = chosen[: args.labelled], chosen[args.labelled :]
    samples = {
        s.id: s for s in D.samples_from_folder(data / "images", data / "masks", mapping, chosen)
    }
    evals = D.samples_from_folder(data / "images", data / "masks", mapping, eval_ids)
    work = args.keep or Path(tempfile.mkdtemp(prefix="fashionseg-bench-loop-"))
    work.mkdir(parents=True, exist_ok=True)

    # --- round 0: one project, 80 labelled (20 of them corrupted), 400 unlabelled ---------
    t0 = time.monotonic()
    base = Project.create(
        work / "round0", [(n, PALETTE[k % len(PALETTE)]) for k, n in enumerate(class_names)]
    )
    truth: dict[str, Any] = {}
    by_source: dict[str, str] = {}
    planted: set[str] = set()
    plant = set(rng.permutation(len(seed_ids))[: min(args.planted, len(seed_ids))].tolist())
    with base.batch():
        for k, sid in enumerate(chosen):
            path = next((data / "images").glob(f"{sid}.*"))
            image_id = base.add_image_file(path, source="ccp").image_id
            by_source[image_id] = sid
            truth[image_id] = samples[sid].load_mask()
            if sid in seed_ids:
                mask = truth[image_id]
                if k in plant:
                    mask = corrupt(mask, rng, n_cls)
                    planted.add(image_id)
                base.write_mask(image_id, mask)
    print(
        f"project: {len(seed_ids)} labelled ({len(planted)} with a planted label error), "
        f"{len(unl_ids)} unlabelled; built in {time.monotonic() - t0:.0f} s",
        flush=True,
    )
    t_train = time.monotonic()
    r0 = train(_config(args, None), base)
    miou0 = _evaluate(r0.run_dir, evals, n_cls)
    secs0 = time.monotonic() - t0
    print(
        f"round 0: trained {r0.epochs_run} epochs in {time.monotonic() - t_train:.0f} s; "
        f"val mIoU {miou0:.4f} on {len(evals)} photos ({args.eval_range})",
        flush=True,
    )

    # --- the label-error finder on the round-0 labels -----------------------------------
    labelled = [i for i in base.labelled_ids() if base.has_mask(i)]
    predict_project(base, labelled, run_dir=r0.run_dir)
    found = LE.find_label_errors(base)
    top = found.ids[: args.finder_top]
    hits = len(planted & set(top))
    held = [e for e in found.items if e.source == LE.HELD_OUT]
    print(
        f"label-error finder: {hits} of {len(planted)} planted label errors in its top "
        f"{args.finder_top} of {len(found.items)} labelled photos (random would find "
        f"{len(planted) * min(args.finder_top, len(found.items)) / max(len(found.items), 1):.1f});"
        f" predictions: {found.sources()}; held-out planted in top: "
        f"{len(planted & {e.id for e in held} & set(top))}",
        flush=True,
    )

    # predictions of the unlabelled pool, shared by both arms (same round-0 model)
    t_pred = time.monotonic()
    predict_project(base, [i for i in base.images if not base.has_mask(i)], run_dir=r0.run_dir)
    pred0 = time.monotonic() - t_pred
    print(f"round 0: predicted {len(unl_ids)} photos in {pred0:.0f} s", flush=True)
    base.save()
    base.close()

    rows: list[dict[str, Any]] = []
    for arm in ("queue", "random"):
        root = work / f"arm-{arm}"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(work / "round0", root, ignore=shutil.ignore_patterns(".fashionseg.lock"))
        project = Project.open(root)
        arm_rng = np.random.default_rng(args.seed + 1)
        run_dir = root / "runs" / r0.run_dir.name
        rows.append(
            {
                "arm": arm,
                "round": 0,
                "labelled": len(labelled),
                "miou": miou0,
                "effort": 1.0,
                "seconds": secs0,
                "corrected": 0,
                "epochs": r0.epochs_run,
            }
        )
        corrected_total = 0
        try:
            for rnd in range(1, args.rounds + 1):
                t_round = time.monotonic()
                if rnd > 1:  # the previous round's model predicts what is left
                    predict_project(
                        project,
                        [i for i in project.images if not project.has_mask(i)],
                        run_dir=run_dir,
                    )
                candidates = [i for i in project.images if not project.has_mask(i)]
                if arm == "queue":
                    pick = build_queue(project, args.queue_by).ids[: args.correct]
                else:
                    pick = [
                        candidates[k] for k in arm_rng.permutation(len(candidates))[: args.correct]
                    ]
                changed = []
                with project.batch():
                    for image_id in pick:
                        pred = project.read_prediction(image_id)
                        gt = truth[image_id]
                        keep = gt != 255
                        changed.append(float(((pred[0] != gt) & keep).sum() / max(keep.sum(), 1)))
                        project.write_mask(image_id, gt, status="corrected")
                corrected_total += len(pick)
                result = train(_config(args, run_dir), project)
                run_dir = result.run_dir
                miou = _evaluate(run_dir, evals, n_cls)
                row = {
                    "arm": arm,
                    "round": rnd,
                    "labelled": len(labelled) + corrected_total,
                    "miou": miou,
                    "effort": float(np.mean(changed)) if changed else 0.0,
                    "seconds": time.monotonic() - t_round,
                    "corrected": corrected_total,
                    "epochs": result.epochs_run,
                }
                rows.append(row)
                print(
                    f"arm {arm} round {rnd}: corrected {len(pick)} photos "
                    f"(effort {row['effort']:.1%} of their pixels changed), fine-tuned "
                    f"{result.epochs_run} epochs; val mIoU {miou:.4f}; "
                    f"{row['seconds']:.0f} s",
                    flush=True,
                )
        finally:
            project.close()

    per_round = (
        f"{args.round_epochs} epochs" if args.round_epochs else f"{args.round_minutes:g} min"
    )
    print(
        f"\n=== bench loop ({args.rounds} rounds x {per_round}, queue by "
        f"{args.queue_by}) — note: other jobs may share this machine's CPUs ==="
    )
    print(f"machine: {machine_line()}")
    print(
        "arm    | round | photos labelled+corrected | val mIoU | correction effort    | s/round"
        " | epochs"
    )
    for row in rows:
        effort = "100 % (from scratch)" if row["round"] == 0 else f"{row['effort']:.1%}"
        print(
            f"{row['arm']:6s} | {row['round']:5d} | {row['labelled']:25d} | "
            f"{row['miou']:.4f}   | {effort:20s} | {row['seconds']:7.0f} | {row['epochs']}"
        )
    print(f"label-error finder: {hits}/{len(planted)} planted errors in the top {args.finder_top}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"projects kept in {work}")
    return 0
