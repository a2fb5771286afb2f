"""ML commands: ``build``, ``train``, ``predict``, ``queue``, ``export-model``.

TensorFlow is imported inside the handlers only, so ``fashionseg --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from fashionseg_gui.core.train_config import UPSAMPLING


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ML sub-commands to the ``fashionseg`` parser."""
    p = sub.add_parser(
        "build",
        help="split the labelled images, print dataset statistics, "
        "optionally write sharded TFRecords",
    )
    p.add_argument("project", type=Path)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tfrecords", type=Path, help="write sharded TFRecords into this folder")
    p.add_argument("--shards", type=int, default=4)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("train", help="train a U-Net on the project's labelled images")
    p.add_argument("project", type=Path)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--input-size", help="HEIGHTxWIDTH letterbox box, e.g. 384x256")
    p.add_argument("--depth", type=int)
    p.add_argument("--base-width", type=int)
    p.add_argument("--no-batch-norm", action="store_true")
    p.add_argument("--dropout", type=float)
    p.add_argument("--loss", choices=("ce_dice", "weighted_ce", "ce"))
    p.add_argument("--no-augment", action="store_true", help="no flips/rotation/scale/colour")
    p.add_argument("--val-fraction", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    p.add_argument("--strategy", choices=("default", "mirrored", "multiworker"))
    p.add_argument("--mixed-precision", choices=("off", "bf16", "auto"))
    p.add_argument("--resume", help="run id or run folder whose weights start this run")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="wall-clock budget; with --recipe auto (the default) a probe of a few "
        "seconds fits input size, width, depth and precision to this machine",
    )
    p.add_argument(
        "--tfrecords",
        type=Path,
        help="train from the shards of 'fashionseg build --tfrecords' (the project "
        "is only read: classes and runs/); every worker of a cluster reads them",
    )
    p.add_argument(
        "--recipe",
        choices=("auto", "manual"),
        help="auto: fit the recipe to the time budget (settings given here are "
        "kept); manual: train with the settings as given",
    )
    p.add_argument(
        "--upsampling",
        choices=UPSAMPLING,
        help="how this run's predictions reach the photo's size: guided (the default) "
        "moves class boundaries to the photo's edges, bilinear is ~3 ms a photo faster",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="predict masks with a trained run")
    p.add_argument("project", type=Path)
    p.add_argument("--run", help="run id or folder (default: the newest run)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--ids", nargs="+", help="image ids (default: all images)")
    which.add_argument(
        "--queue",
        type=int,
        metavar="N",
        help="the top N photos of the label-next queue (by uncertainty)",
    )
    which.add_argument("--unlabelled", action="store_true", help="the photos without a user mask")
    which.add_argument(
        "--labelled", action="store_true", help="the labelled photos (for the label-error finder)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="predict again photos that already have a fresh prediction of this "
        "run (default: skip them, so an interrupted predict resumes)",
    )
    p.add_argument(
        "--upsampling",
        choices=UPSAMPLING,
        help="override the run's upsampling (guided: class boundaries follow the photo's "
        "edges; bilinear)",
    )
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "queue", help="rank the photos to label next, or the labels the model disagrees with"
    )
    p.add_argument("project", type=Path)
    p.add_argument(
        "--by", choices=("uncertainty", "diverse", "disagreement"), default="uncertainty"
    )
    p.add_argument("--top", type=int, metavar="N", help="only the first N")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--class", dest="class_name", help="with --by disagreement: rank by this class's IoU"
    )
    p.add_argument(
        "--held-out-only",
        action="store_true",
        help="with --by disagreement: leave out predictions of a run that trained on the photo",
    )
    p.add_argument(
        "--kfold",
        type=int,
        metavar="K",
        help="with --by disagreement: first cross-predict the labelled photos "
        "with K small models, each trained on the other folds (slow)",
    )
    p.add_argument(
        "--kfold-minutes",
        type=float,
        default=2.0,
        help="time budget of each fold's training (default 2)",
    )
    p.set_defaults(func=cmd_queue)

    p = sub.add_parser("export-model", help="export a run's best model as a TensorFlow SavedModel")
    p.add_argument("project", type=Path)
    p.add_argument("--run", required=True, help="run id or folder")
    p.add_argument("--out", type=Path, required=True, help="output folder (new or empty)")
    p.add_argument(
        "--upsampling",
        choices=UPSAMPLING,
        help="override the run's upsampling in the exported graph",
    )
    p.set_defaults(func=cmd_export_model)


def _open(path: Path, read_only: bool = False) -> Any:
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.project import Project

    project = Project.open(path, read_only=read_only)
    if project.read_only and not read_only:
        project.close()
        raise UserError(f"{path} is opened elsewhere or read-only; close the other instance")
    return project


def _run_dir(project: Any, run: str) -> Path:
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core import runs as R

    try:
        return R.resolve_run(project.runs_dir, run)
    except R.RunError as exc:
        raise UserError(str(exc)) from exc


def _ml_errors() -> tuple[type[BaseException], ...]:
    from fashionseg_gui.core.data import DataError
    from fashionseg_gui.core.predict import PredictError
    from fashionseg_gui.core.runs import RunError
    from fashionseg_gui.core.train_config import TrainError

    return DataError, TrainError, PredictError, RunError


def _saved_resume(project: Any, value: Any) -> str | None:
    """``settings.train.resume_from`` of project.json, kept only when it names a run
    inside the project (a shared project must not make ``train`` load any file on disk)."""
    from fashionseg_gui.core import runs as R

    if not value or not isinstance(value, str):
        return None
    candidate = Path(project.runs_dir) / value if not Path(value).is_absolute() else Path(value)
    if R.is_inside(candidate, project.runs_dir) and candidate.exists():
        return str(candidate)
    print(
        f"fashionseg: ignoring settings.train.resume_from {value!r} of project.json: "
        "only runs inside the project (or an explicit --resume) are loaded",
        file=sys.stderr,
    )
    return None


def cmd_build(args: argparse.Namespace) -> int:
    """Assign splits, print per-split statistics, optionally write TFRecords."""
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core import data as D

    project = _open(args.project)
    try:
        samples = D.samples_from_project(project)
        names = [c.name for c in project.classes]
        train, val, splits = D.split_samples(
            samples, args.val_fraction, args.seed, len(names), project=project
        )
        project.save()
        print(f"labelled images: {len(samples)}  train: {len(train)}  val: {len(val)}")
        for label, part in (("train", train), ("val", val)):
            counts = _pixel_counts(part, len(names))
            total = max(counts.sum(), 1)
            shares = "  ".join(f"{n}={c / total:.1%}" for n, c in zip(names, counts, strict=True))
            print(f"{label} pixels: {shares}")
        if args.tfrecords:
            labelled = [D.Sample(s.id, s.load_image, s.load_mask, splits[s.id]) for s in samples]
            paths = D.write_tfrecords(labelled, args.tfrecords, args.shards)
            print(f"wrote {len(paths)} TFRecord shards to {args.tfrecords}")
    except _ml_errors() as exc:
        raise UserError(str(exc)) from exc
    finally:
        project.close()
    return 0


def _pixel_counts(samples: list[Any], num_classes: int) -> Any:
    import numpy

    counts = numpy.zeros(num_classes, numpy.int64)
    for s in samples:
        counts += numpy.bincount(s.load_mask().reshape(-1), minlength=256)[:num_classes]
    return counts


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def cmd_train(args: argparse.Namespace) -> int:
    """Train with a text progress bar; Ctrl+C cancels after the current batch."""
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.cancel import CancelSource
    from fashionseg_gui.core.train import train
    from fashionseg_gui.core.train_config import TrainConfig, TrainError

    project = _open(args.project, read_only=bool(args.tfrecords))
    try:
        saved = project.settings.get("train", {})
        values: dict[str, Any] = dict(saved) if isinstance(saved, dict) else {}
        values["resume_from"] = _saved_resume(project, values.get("resume_from"))
        for key in (
            "epochs",
            "batch_size",
            "learning_rate",
            "depth",
            "base_width",
            "dropout",
            "loss",
            "val_fraction",
            "seed",
            "strategy",
            "mixed_precision",
            "max_minutes",
            "upsampling",
        ):
            if getattr(args, key, None) is not None:
                values[key] = getattr(args, key)
        if args.patience is not None:
            values["early_stopping_patience"] = args.patience
        from fashionseg_gui.core.recipe import RECIPE_KEYS

        given = {"input_height", "input_width"} if args.input_size else set()
        given |= {
            k
            for k in ("depth", "base_width", "mixed_precision")
            if getattr(args, k, None) is not None
        }
        saved_fixed = values.get("fixed") if isinstance(values.get("fixed"), list) else []
        values["fixed"] = sorted({str(k) for k in saved_fixed} | (given & set(RECIPE_KEYS)))
        if args.recipe:
            values["recipe"] = args.recipe
        if args.no_batch_norm:
            values["batch_norm"] = False
        if args.no_augment:
            values.update(
                augment_flip=False, augment_rotate=False, augment_scale=False, augment_color=False
            )
        if args.input_size:
            try:
                h, w = (int(v) for v in args.input_size.lower().split("x"))
            except ValueError:
                raise UserError(
                    f"--input-size must look like 384x256, got {args.input_size!r}"
                ) from None
            values.update(input_height=h, input_width=w)
        if args.resume:
            values["resume_from"] = str(_run_dir(project, args.resume))
        try:
            config = TrainConfig.from_dict(values)
        except (TypeError, TrainError) as exc:
            raise UserError(f"invalid training settings: {exc}") from exc
        source = CancelSource()
        t0 = time.monotonic()

        def show(event: dict[str, Any]) -> None:
            kind = event["event"]
            if kind == "prepare":
                print(
                    f"\rpreparing {_bar(event['done'], event['total'])} "
                    f"{event['done']}/{event['total']}",
                    end="",
                    flush=True,
                )
            elif kind == "probe":
                print(event["text"], flush=True)
            elif kind == "recipe":
                print(f"recipe for the time budget: {event['text']}", flush=True)
            elif kind == "start":
                print(
                    f"\ntraining on {event['train_images']} images, validating on "
                    f"{event['val_images']}; run {event['run_dir']} ({event['precision']})"
                )
            elif kind == "batch":
                print(
                    f"\repoch {event['epoch']}/{config.epochs} "
                    f"{_bar(event['batch'], event['batches'])} loss {event['mean_loss']:.4f} "
                    f"acc {event['acc']:.3f}  {time.monotonic() - t0:6.0f}s",
                    end="",
                    flush=True,
                )
            elif kind == "epoch":
                print(
                    f"\repoch {event['epoch']}/{event['epochs']} loss {event['loss']:.4f} "
                    f"val_loss {event['val_loss']:.4f} val_acc {event['val_acc']:.3f} "
                    f"val_mIoU {event['val_miou']:.3f} (all-background "
                    f"{event['baseline_miou']:.3f}){' *' if event.get('best') else ''}"
                    f"  eta {event['eta_s']:.0f}s" + " " * 10
                )

        try:
            result = train(
                config,
                _train_source(project, args, config),
                source.token,
                show,
                run_dir=Path(project.runs_dir) / _new_run_id() if args.tfrecords else None,
            )
        except KeyboardInterrupt:
            source.cancel()
            raise
        except (TrainError, *_ml_errors()) as exc:
            raise UserError(str(exc)) from exc
        print(
            f"\n{result.stopped}: best epoch {result.best_epoch}, val mIoU "
            f"{result.best_val_miou if result.best_val_miou is None else round(result.best_val_miou, 4)}"
            f", run {result.run_dir}"
        )
        if not project.read_only:
            project.save()
    finally:
        project.close()
    return 0


def _new_run_id() -> str:
    from fashionseg_gui.core.train import new_run_id

    return new_run_id()


def _train_source(project: Any, args: argparse.Namespace, config: Any) -> Any:
    """The project itself, or the TFRecord shards split by the splits they carry."""
    if not args.tfrecords:
        return project
    from fashionseg_gui.core import data as D
    from fashionseg_gui.core.train import TrainData, make_strategy

    make_strategy(config.strategy)  # a cluster's collectives come before reading any data
    names = [c.name for c in project.classes]
    samples = D.samples_from_tfrecords(args.tfrecords)
    train_s, val_s, _ = D.split_samples(samples, config.val_fraction, config.seed, len(names))
    return TrainData(train_s, val_s, names)


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict images and write predictions/<id>.npz with their scores."""
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.predict import predict_project

    project = _open(args.project)
    try:
        run = _run_dir(project, args.run) if args.run else None

        def show(done: int, total: int, text: str) -> None:
            print(
                f"\r{_bar(done, total)} {done}/{total} {text}" + " " * 10,
                end="",
                file=sys.stdout,
                flush=True,
            )

        try:
            if run is None:
                from fashionseg_gui.core.predict import latest_run

                run = latest_run(project)
            ids = _predict_ids(project, args)
            from fashionseg_gui.core.predict import Predictor

            predictor = Predictor(run, upsampling=args.upsampling)
            print(
                f"using run {run.name} ("
                + ("--run" if args.run else "the newest run with a model")
                + f"), {predictor.upsampling} upsampling"
            )
            done = predict_project(
                project, ids, on_progress=show, predictor=predictor, resume=not args.force
            )
        except _ml_errors() as exc:
            raise UserError(str(exc)) from exc
        asked = len(project.images) if ids is None else len(ids)
        skipped = asked - len(done)
        print(
            f"\npredicted {len(done)} images"
            + (
                f" ({skipped} already had a fresh prediction of this run; --force predicts "
                "them again)"
                if skipped
                else ""
            )
        )
        project.save()
    finally:
        project.close()
    return 0


def _predict_ids(project: Any, args: argparse.Namespace) -> list[str] | None:
    """The photos ``predict`` is asked for (None: all)."""
    from fashionseg_gui.cli import UserError

    if args.ids:
        return list(args.ids)
    if args.labelled:
        return [i for i in project.labelled_ids() if project.has_mask(i)]
    if args.unlabelled:
        return [i for i in project.images if not project.has_mask(i)]
    if args.queue is not None:
        from fashionseg_gui.core.queue import build_queue

        if args.queue < 1:
            raise UserError("--queue N needs N >= 1")
        queue = build_queue(project, "uncertainty")
        if not queue.items:
            raise UserError(
                "the label-next queue is empty: predict the unlabelled photos "
                "first (fashionseg predict PROJECT --unlabelled); " + queue.summary()
            )
        return queue.ids[: args.queue]
    return None


def cmd_queue(args: argparse.Namespace) -> int:
    """Print the label-next queue or the label-error finder's ranking."""
    import json

    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core import label_errors as LE
    from fashionseg_gui.core.queue import build_queue

    kfold = args.kfold is not None
    project = _open(args.project, read_only=not kfold)
    try:
        if args.by != "disagreement" and (kfold or args.class_name or args.held_out_only):
            raise UserError("--kfold, --class and --held-out-only go with --by disagreement")
        top = args.top if args.top is not None else None
        if top is not None and top < 1:
            raise UserError("--top N needs N >= 1")
        if args.by == "disagreement":
            class_id = None
            if args.class_name:
                info = project.class_by_name(args.class_name)
                if info is None:
                    raise UserError(
                        f"no class {args.class_name!r}; the project has "
                        + ", ".join(c.name for c in project.classes)
                    )
                class_id = info.id
            if kfold:
                _cross_predict(project, args)
            found = LE.find_label_errors(
                project, class_id=class_id, held_out_only=args.held_out_only
            )
            names = {str(c.id): c.name for c in project.classes}
            rows = [
                {
                    "id": e.id,
                    "name": _name(project, e.id),
                    "iou": round(e.iou, 4),
                    "worst_class": names.get(str(e.worst_class), e.worst_class),
                    "changed_share": round(e.changed_share, 4),
                    "prediction": e.source,
                    "run": e.run,
                    "class_iou": {names.get(k, k): round(v, 4) for k, v in e.class_iou.items()},
                }
                for e in found.items[:top]
            ]
            summary, stale = found.summary(), found.stale
        else:
            queue = build_queue(project, args.by)
            rows = [
                {
                    "id": it.id,
                    "name": _name(project, it.id),
                    "mean_entropy": round(it.mean_entropy, 4),
                    "low_confidence_share": round(it.low_confidence_share, 4),
                    "run": it.run,
                }
                for it in queue.items[:top]
            ]
            summary, stale = queue.summary(), queue.stale
        if args.json:
            print(
                json.dumps(
                    {"by": args.by, "items": rows, "stale": stale, "summary": summary}, indent=2
                )
            )
            return 0
        print(summary)
        for rank, row in enumerate(rows, 1):
            if args.by == "disagreement":
                print(
                    f"{rank:4d}  {row['id']}  IoU {row['iou']:.3f}  worst class "
                    f"{row['worst_class']}  {row['changed_share']:.1%} of pixels differ  "
                    f"({row['prediction']}, run {row['run']})  {row['name']}"
                )
            else:
                print(
                    f"{rank:4d}  {row['id']}  entropy {row['mean_entropy']:.3f}  "
                    f"low-confidence {row['low_confidence_share']:.1%}  {row['name']}"
                )
        for why in list(stale.values())[:20]:
            print(f"stale: {why}", file=sys.stderr)
    except _ml_errors() as exc:
        raise UserError(str(exc)) from exc
    finally:
        project.close()
    return 0


def _name(project: Any, image_id: str) -> str:
    from fashionseg_gui.core.predict import display_name

    return display_name(project, image_id)


def _cross_predict(project: Any, args: argparse.Namespace) -> None:
    from fashionseg_gui.core import label_errors as LE
    from fashionseg_gui.core.train_config import TrainConfig

    saved = project.settings.get("train", {})
    values: dict[str, Any] = dict(saved) if isinstance(saved, dict) else {}
    values.pop("resume_from", None)
    values["max_minutes"] = float(args.kfold_minutes)

    def show(done: int, total: int, text: str) -> None:
        print(f"k-fold {done}/{total}: {text}", flush=True)

    ids = LE.cross_predict(project, TrainConfig.from_dict(values), args.kfold, on_progress=show)
    print(f"cross-predicted {len(ids)} labelled photos with {args.kfold} folds")
    project.save()


def cmd_export_model(args: argparse.Namespace) -> int:
    """Export a run's best checkpoint as a SavedModel."""
    from fashionseg_gui.cli import UserError
    from fashionseg_gui.core.serving import export_saved_model

    project = _open(args.project, read_only=True)
    try:
        run = _run_dir(project, args.run)
        try:
            out = export_saved_model(
                run,
                args.out,
                len(project.classes),
                class_names=[c.name for c in project.classes],
                upsampling=args.upsampling,
            )
        except _ml_errors() as exc:
            raise UserError(str(exc)) from exc
        print(
            f"SavedModel written to {out} (signatures: serving_default, uint8 images "
            f"[N, H, W, 3] -> class_ids, probabilities; label -> class_ids, confidence)"
        )
    finally:
        project.close()
    return 0
