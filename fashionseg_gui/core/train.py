"""Training: :func:`train` (the recipe is ``core.train_config.TrainConfig``).

``train`` runs ``keras.Model.fit`` with one callback that reports progress as plain dicts,
checks the cancel token after every batch, sets the learning rate (warm-up + cosine over
epochs or over ``max_minutes``), validates at full letterbox resolution, keeps the best
checkpoint by validation mIoU and stops early. A run folder holds::

    runs/<run_id>/config.json  history.csv  metrics.json  state.json
                  checkpoints/best.keras  checkpoints/last.keras  logs/ (TensorBoard)
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.util
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import keras
import numpy as np
import tensorflow as tf

from fashionseg_gui.core import data as D
from fashionseg_gui.core import gcpause
from fashionseg_gui.core import model as M
from fashionseg_gui.core import runs as R
from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.serving import (  # noqa: F401 - re-exported for older callers
    export_saved_model,
    load_model_file,
    load_run,
    make_label_function,
    make_serving_function,
)
from fashionseg_gui.core.train_callback import HISTORY_FIELDS, RunCallback  # noqa: F401
from fashionseg_gui.core.train_config import (  # noqa: F401 - re-exported
    PRECISIONS,
    STRATEGIES,
    TrainConfig,
    TrainError,
    resolve_precision,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    run_dir: Path
    best_epoch: int | None = None
    best_val_miou: float | None = None
    epochs_run: int = 0
    cancelled: bool = False
    stopped: str = "completed"  # completed | early_stopping | time_limit | cancelled
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class TrainData:
    """Explicit training data: samples already split, and the class names."""

    train: list[D.Sample]
    val: list[D.Sample]
    class_names: list[str]


_MULTIWORKER: list[tf.distribute.Strategy] = []  # one per process, made at start-up


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy of a ``TrainConfig.strategy`` name.

    ``multiworker`` configures collective ops, which TensorFlow allows only before any
    other TensorFlow operation of the process: a caller that reads data with TensorFlow
    first (TFRecords) calls this before; :func:`train` then reuses the same strategy.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if not os.environ.get("TF_CONFIG"):
        raise TrainError(
            "strategy 'multiworker' needs the TF_CONFIG environment variable describing the cluster"
        )
    if not _MULTIWORKER:
        _MULTIWORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
    return _MULTIWORKER[0]


_strategy = make_strategy


def is_chief(strategy: Any = None) -> bool:
    """Whether this process writes the run folder (TensorFlow's multi-worker convention).

    Without a cluster every process is the chief; in a cluster the task of type ``chief``,
    else worker 0 when the cluster has no chief, writes; the others train into a scratch
    folder that is deleted at the end.
    """
    resolver = getattr(getattr(strategy, "extended", None), "_cluster_resolver", None)
    resolver = getattr(strategy, "cluster_resolver", None) or resolver
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    if task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


# ----------------------------------------------------------------------------------------
# The callback: progress, cancel, LR schedule, validation, checkpoints, early stop
# ----------------------------------------------------------------------------------------


CHECKPOINT_INTERVAL_S = 30.0


# ----------------------------------------------------------------------------------------
# train()
# ----------------------------------------------------------------------------------------


def _resolve_data(
    config: TrainConfig, source: Any
) -> tuple[list[D.Sample], list[D.Sample], list[str], Any]:
    if isinstance(source, TrainData):
        return list(source.train), list(source.val), list(source.class_names), None
    if hasattr(source, "labelled_ids") and hasattr(source, "classes"):
        names = [c.name for c in source.classes]
        samples = D.samples_from_project(source)
        train, val, _ = D.split_samples(
            samples, config.val_fraction, config.seed, len(names), project=source
        )
        return train, val, names, source
    if isinstance(source, Sequence) and source and isinstance(source[0], D.Sample):
        samples = list(source)
        top = max(
            int(np.max(np.where(m == M.IGNORE, 0, m))) for m in (s.load_mask() for s in samples)
        )
        names = ["background"] + [f"class_{k}" for k in range(1, max(top, 1) + 1)]
        train, val, _ = D.split_samples(samples, config.val_fraction, config.seed, len(names))
        return train, val, names, None
    raise TrainError("nothing to train on: give a Project, a TrainData or a list of samples")


def _weights_source(path: str | Path) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    for name in ("checkpoints/last.keras", "checkpoints/best.keras"):
        if (p / name).is_file():
            return p / name
    raise TrainError(f"no checkpoint to resume from in {p}")


def training_counts(project: Any, ids: Sequence[str]) -> dict[str, int]:
    """How many of the photos a run trains and validates on were labelled by hand and how
    many were corrected predictions (``labelled_images`` counts both; the round history
    reads them). Empty when the data does not come from a project."""
    if project is None:
        return {}
    statuses = [getattr(project.images.get(i), "status", "") for i in ids]
    return {
        "labelled_images": sum(s in ("labelled", "corrected") for s in statuses),
        "corrected_images": sum(s == "corrected" for s in statuses),
    }


def new_run_id() -> str:
    """A sortable run id (local time, with a counter-free microsecond suffix)."""
    now = _dt.datetime.now()
    return now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond // 1000:03d}"


def _collected_after(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` followed by a full collection (``core.gcpause.collect_soon``), once its frame
    is gone: a run's network, datasets and photo cache sit in reference cycles (Keras) that
    only a full collection frees, and it might not come before the caller loads its next
    model (383 MB after a default run, measured)."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        finally:
            gcpause.collect_soon()

    return run


@_collected_after
def train(
    config: TrainConfig,
    project_or_samples: Any,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    run_dir: str | Path | None = None,
    probe_options: dict[str, Any] | None = None,
) -> TrainResult:
    """Train a U-Net; see the module docstring for the run folder.

    Parameters
    ----------
    config : TrainConfig
        The recipe.
    project_or_samples : Project, TrainData or list of Sample
        A project (its labelled and corrected images; unassigned splits are assigned and
        saved), explicit train/val samples, or samples to split.
    cancel_token : CancelToken, optional
        Checked after every batch; training stops within one batch and the result has
        ``cancelled=True``.
    on_progress : callable, optional
        Receives plain dicts: ``{"event": "start"|"prepare"|"batch"|"epoch"|"end", ...}``.
    run_dir : path, optional
        Output folder; default ``<project>/runs/<run_id>`` (or ``./runs/<run_id>``).
    probe_options : dict, optional
        Passed to ``core.recipe.fit_to_budget`` when the recipe is fitted to the budget
        (``rungs``, ``steps``, ``max_photos``, ``probe_fn``).

    Returns
    -------
    TrainResult
    """
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    config.validate()
    emit = on_progress or (lambda event: None)
    t_start = time.monotonic()
    strategy = _strategy(config.strategy)
    if config.strategy == "multiworker":
        # every worker takes every step together: a stop decided by one worker alone (its
        # own clock, its own validation score) would leave the others waiting for ever
        if config.max_minutes is not None:
            raise TrainError(
                "a time budget cannot be used with the multiworker strategy "
                "(workers would stop at different steps): give --epochs"
            )
        if config.early_stopping_patience is not None:
            config = TrainConfig.from_dict({**config.to_dict(), "early_stopping_patience": None})
    train_s, val_s, class_names, project = _resolve_data(config, project_or_samples)
    num_classes = len(class_names)
    choice = None
    if config.max_minutes is not None and config.recipe == "auto":
        from fashionseg_gui.core import recipe as RC

        emit({"event": "probe", "text": "measuring this machine's speed for the time budget…"})
        choice = RC.fit_to_budget(
            config,
            train_s,
            len(val_s),
            num_classes,
            cancel_token=cancel_token,
            **(probe_options or {}),
        )
        values = {
            **config.to_dict(),
            **choice.settings,
            "recipe": "manual",
            "max_minutes": max(float(config.max_minutes) - choice.probe_seconds / 60.0, 1.0 / 60.0),
        }
        config = TrainConfig.from_dict(values)
        emit(
            {
                "event": "recipe",
                "text": choice.text,
                "rung": choice.rung,
                "settings": choice.settings,
                "expected_epochs": choice.expected_epochs,
                "expected_miou": choice.expected_miou,
                "speeds": choice.speeds,
            }
        )
    if run_dir is None:
        base = Path(project.runs_dir) if project is not None else Path("runs")
        run_dir = base / new_run_id()
    chief = is_chief(strategy)
    scratch = None
    if not chief:  # another worker of the cluster: train, but the chief alone writes the run
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="fashionseg-worker-"))
        run_dir = scratch / Path(run_dir).name
    run_dir = Path(run_dir)
    created = R.now_iso()
    counts = training_counts(project, [s.id for s in train_s + val_s])
    try:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            run_dir / "config.json",
            {
                **config.to_dict(),
                "created": created,
                **counts,
                **({} if choice is None else {"fitted": _json_safe(asdict(choice))}),
            },
        )
    except OSError as exc:
        raise TrainError(f"cannot write the run folder {run_dir}: {exc.strerror or exc}") from exc

    def prep(done: int, total: int) -> None:
        if done == total or done % 16 == 0:
            emit({"event": "prepare", "done": done, "total": total})

    all_s = train_s + val_s
    cached = D.cache_samples(
        all_s, config.target_hw, config.multiple, num_classes, cancel_token, prep
    )
    ntr = len(train_s)
    train_c = D.CachedSet(cached.ids[:ntr], cached.images[:ntr], cached.masks[:ntr])
    val_c = D.CachedSet(cached.ids[ntr:], cached.images[ntr:].copy(), cached.masks[ntr:].copy())
    del cached
    weights = D.class_weights(train_c.masks, num_classes) if config.loss == "weighted_ce" else None

    policy = resolve_precision(config.mixed_precision)
    with strategy.scope():
        old = load_model_file(_weights_source(config.resume_from)) if config.resume_from else None
        position = bool(config.position_channel)
        if old is not None:  # a fine-tune keeps the checkpoint's input channels
            position = any(layer.name == "row_position" for layer in old.layers)
        model = M.build_unet(
            num_classes,
            (None, None, 3),
            config.depth,
            config.base_width,
            config.batch_norm,
            config.dropout,
            dtype=policy,
            max_width=max(config.max_width, config.base_width),
            stem_stride=int(config.stem_stride),
            decoder=config.decoder,
            position_channel=position,
        )
        if old is not None:  # loaded in safe mode: a file with code is refused
            src = _weights_source(str(config.resume_from))
            try:
                model.set_weights(old.get_weights())
            except (ValueError, OSError) as exc:
                raise TrainError(
                    f"cannot resume from {src}: the checkpoint does not match this model ({exc})"
                ) from exc
        loss = M.SegmentationLoss(num_classes, config.loss, weights)
        optimizer = keras.optimizers.AdamW(config.learning_rate, weight_decay=config.weight_decay)
        # fit the network's own (low) output resolution; validation runs the full model
        fit_model, label_stride = M.training_view(model)
        # the running training curves count about every 2nd pixel and row of the full
        # resolution; a view's output already holds only every label_stride-th
        metric_stride = max(1, 2 // label_stride)
        fit_model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=[
                M.PixelAccuracy(num_classes, pixel_stride=metric_stride),
                M.MeanIoU(num_classes, pixel_stride=metric_stride),
            ],
        )

    batch = min(config.batch_size, len(train_c))
    ds = D.make_dataset(train_c, batch, True, config.augment_config(), config.seed, repeat=True)
    if label_stride > 1:
        ds = ds.map(lambda x, y: (x, M.subsample_labels(y, label_stride)))
    steps = max(len(train_c) // batch, int(config.min_steps_per_epoch))  # ds repeats
    atomic_write_json(
        run_dir / "dataset.json",
        {
            "train_ids": train_c.ids,
            "val_ids": val_c.ids,
            "class_names": class_names,
            "class_weights": weights,
            **D.dataset_stats(train_c.masks, num_classes),
        },
    )
    n_train = len(train_c)
    del train_c  # the dataset holds its own copy; free the numpy one
    callback = RunCallback(
        net=model,
        config=config,
        val=val_c,
        num_classes=num_classes,
        loss=loss,
        run_dir=run_dir,
        steps_per_epoch=steps,
        cancel_token=cancel_token,
        emit=emit,
        initial_epoch=0,
        checkpoint_interval_s=CHECKPOINT_INTERVAL_S,
    )
    emit(
        {
            "event": "start",
            "epochs": config.epochs,
            "batches": steps,
            "train_images": n_train,
            "val_images": len(val_c),
            "num_classes": num_classes,
            "class_names": class_names,
            "run_dir": str(run_dir),
            "precision": policy or "float32",
            "config": config.to_dict(),
            "recipe": None if choice is None else choice.text,
        }
    )
    callbacks: list[keras.callbacks.Callback] = [callback]
    if chief and importlib.util.find_spec("tensorboard") is not None:  # optional dependency
        callbacks.append(
            keras.callbacks.TensorBoard(
                str(run_dir / "logs"), write_graph=False, update_freq="epoch", profile_batch=0
            )
        )
    if cancel_token is not None and cancel_token.cancelled:
        callback.cancelled, callback.stopped = True, "cancelled"
    else:
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            _prebuild_for_multiworker(fit_model, strategy, ds)
        fit_model.fit(
            ds,
            epochs=config.epochs,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
        if callback.history or callback.step > 0:
            # the final state, whatever the interval; a training stopped before its first
            # validation keeps its current weights as the model (best = last)
            callback.write_checkpoints()
    seconds = time.monotonic() - t_start
    best_row = next((r for r in callback.history if r["epoch"] == callback.best_epoch), None)
    metrics: dict[str, Any] = {
        "run_id": run_dir.name,
        "stopped": callback.stopped,
        "epochs_run": len(callback.history),
        "best_epoch": callback.best_epoch,
        "best_val_miou": None if best_row is None else best_row["val_miou"],
        "num_classes": num_classes,
        "class_names": class_names,
        "input_height": config.input_height,
        "input_width": config.input_width,
        "multiple": config.multiple,
        "train_images": n_train,
        "val_images": len(val_c),
        "seconds": seconds,
        "precision": policy or "float32",
        "created": created,
        "steps_run": callback.step,
        "model_kept": R.has_model(run_dir),
        "recipe": None if choice is None else choice.text,
        **counts,
    }
    if best_row is not None:
        metrics.update(
            {
                k: best_row[k]
                for k in ("val_acc", "val_loss", "per_class_iou", "confusion", "baseline_miou")
            }
        )
    atomic_write_json(run_dir / "metrics.json", _json_safe(metrics))
    best_miou = metrics["best_val_miou"]
    result = TrainResult(
        run_dir,
        callback.best_epoch,
        None if best_miou is None else float(best_miou),
        len(callback.history),
        callback.cancelled,
        callback.stopped,
        callback.history,
        metrics,
        seconds,
    )
    if scratch is not None:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
        result.metrics["chief"] = False
    emit(
        {
            "event": "end",
            "run_dir": str(run_dir),
            "best_epoch": callback.best_epoch,
            "best_val_miou": metrics["best_val_miou"],
            "stopped": callback.stopped,
            "cancelled": callback.cancelled,
            "seconds": seconds,
            "model_kept": metrics["model_kept"],
        }
    )
    return result


def _prebuild_for_multiworker(fit_model: keras.Model, strategy: Any, ds: Any) -> None:
    """Work around two Keras 3 (3.15) faults of ``fit`` under MultiWorkerMirroredStrategy.

    1. ``fit`` builds an unbuilt model from one distributed batch that it averages with an
       eager ``strategy.reduce``, which the strategy refuses ("Attempt to convert a value
       (PerReplica...)"): the model is built here from a local batch of the same shapes.
    2. Each step's logs (scalar loss and metrics) are reduced across workers with
       ``reduce("MEAN", axis=0)``, which fails on a scalar ("Invalid reduction dimension 0"):
       the logs are reduced over the local replica instead. Gradients are still all-reduced
       across the workers by the optimizer (that is the strategy's own path); only the
       printed loss of a worker is its own batch's.
    """
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    x, y = next(iter(ds.take(1)))
    with strategy.scope():
        fit_model._symbolic_build(data_batch=(x, y, None))  # noqa: SLF001 - see 1.
    fit_model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # noqa: SLF001
    if hasattr(keras_tf_trainer, "_collective_all_reduce_multi_worker"):  # see 2.
        keras_tf_trainer._collective_all_reduce_multi_worker = lambda strategy: False  # noqa: SLF001


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
