"""Fit the training recipe to the machine and a wall-clock budget.

A user gives a time budget, not a FLOP count. The same ten minutes buy 24 epochs of the
default recipe on a 2-core Xeon with AMX (bfloat16) and 3 on a 2-core AVX2 laptop CPU, where
a smaller network trained for more epochs scores better. So, when a run has a budget
(``TrainConfig.max_minutes``) and ``recipe="auto"``:

1. :func:`probe` times a few training steps of each rung of :data:`LADDER` on the run's own
   input pipeline (its photos letterboxed and augmented as in training; seconds in all);
2. :func:`choose` turns each measured speed into the photos the budget lets the run see,
   reads the expected validation mIoU at that many photos from :data:`EXPECTED`, and picks
   the rung with the best expectation;
3. settings the user fixed (``TrainConfig.fixed``) are kept on every rung: an explicit
   setting always wins.

The quality table, and how it was measured
-------------------------------------------
:data:`EXPECTED` maps photos seen in training (thousands) to the validation mIoU expected on
CCP (5 classes, scored at full resolution on photos 0801-0880, trained on 0001-0800).
Measured points, all of the default rung (384x256, width 32, depth 4):

- 24 epochs x 760 photos = 18.2 k photos: mIoU 0.708 (README, ``bench train --minutes 10`` on
  a 2-core Xeon with AMX, bfloat16, 2026-11-26);
- 3 epochs x 760 photos = 2.3 k photos: mIoU 0.525 (a 10-minute ``fashionseg train`` on a
  2-core AMD EPYC with AVX2 only, float32; its SavedModel scored on 0801-0880);
- 16 epochs x 760 photos = 12.2 k photos: mIoU 0.687 (``bench train --recipe budget
  --minutes 10`` on a slower 2-core Xeon with AMX, bfloat16, 21.3 photos/s, 2026-12-01; the
  probe kept the default rung);
- 22 epochs x 760 photos = 16.7 k photos: mIoU 0.704 with bilinear upsampling, as the table
  says there (0.712 guided; ``bench train --recipe budget --minutes 10`` on a faster 2-core
  Xeon with AMX, 292 GFLOP/s fp32, bfloat16, 28.6 photos/s, 2026-12-03: the probe tried the
  default and tiny rungs and kept the default);
- the same bench on that Xeon later the same day, three runs (the probe kept the default
  each time; bilinear, guided in brackets): 19 epochs = 14.4 k photos at 24.6 photos/s:
  0.6954 (0.7025); 21 epochs = 16.0 k at 27.4 photos/s: 0.7001 (0.7075); 19 epochs = 14.4 k at
  25.4 photos/s: 0.6859 (0.6929). The table's default curve stays: these lie within 0.01 of it.

Measured points of the smaller rungs (``bench train --recipe budget --budget-sweep 3,10
--precision off`` with ``ONEDNN_MAX_CPU_ISA=AVX2`` on a 2-core Xeon, float32, with the
row-position channel, 2026-12-01; the probe chose the rung):

- small (256x176, width 24, depth 4): 14 epochs x 760 = 10.6 k photos: mIoU 0.6525;
- tiny (256x176, width 16, depth 3): 8 epochs x 760 = 6.1 k photos: mIoU 0.593;
- tiny: 21 epochs x 760 = 16.0 k photos: mIoU 0.659 (``bench train --recipe budget
  --minutes 10`` with ``ONEDNN_MAX_CPU_ISA=AVX2 TF_NUM_INTRAOP_THREADS=1``, the EPYC-like
  setting that reproduces the EPYC's 2.3 k-photo point, 28.0 photos/s, 2026-12-01);
- tiny: 57 epochs x 760 = 43.3 k photos: mIoU 0.695 (the same setting, ``--budget-sweep
  10,30``: its 10-minute point, 19 epochs, scored 0.665 at 25.6 photos/s);
- tiny on a 2-core AMD EPYC with AVX-512 BF16 and no AMX (``bench train --recipe budget
  --minutes 10``, 2026-12-02; the probe chose the rung): float32, 41 epochs x 760 = 31.2 k
  photos: mIoU 0.671; bfloat16, 60 epochs x 760 = 45.6 k photos: mIoU 0.677. The table's
  last tiny point is the mean of the two runs near 44 k photos (0.695 and 0.677).

Every other point is an ESTIMATE, not a measurement: the default rung's curve through its
measured points (linear in the logarithm of photos seen), flattened towards a lower ceiling
for the lower resolutions and widths (a smaller network learns the first thousands of photos
about as fast, and ends lower). The default's 12.2 k and 18.2 k points come from two Xeons
of different speed: the same recipe, more photos in ten minutes on the faster one. ``fashionseg bench train --budget-sweep 3,10,30`` measures the curve of the rung a
machine picks; its figures are the ones to put here.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.train_config import (
    TrainConfig,
    compute_threads,
    resolve_precision,
    usable_cpu_flags,
)

if TYPE_CHECKING:
    from fashionseg_gui.core.data import Sample

#: Settings a rung chooses; a user's explicit value of any of them wins over the rung's.
RECIPE_KEYS = ("input_height", "input_width", "base_width", "depth", "mixed_precision")


@dataclass(frozen=True)
class Rung:
    """One recipe of the ladder: a name and the settings it changes."""

    name: str
    settings: dict[str, Any]

    def label(self) -> str:
        s = self.settings
        return (
            f"{s['input_height']}x{s['input_width']}, width {s['base_width']}, depth {s['depth']}"
        )


#: From the default (largest, best with compute to spare) to the cheapest.
LADDER: tuple[Rung, ...] = (
    Rung("default", {"input_height": 384, "input_width": 256, "base_width": 32, "depth": 4}),
    Rung("medium", {"input_height": 320, "input_width": 224, "base_width": 24, "depth": 4}),
    Rung("small", {"input_height": 256, "input_width": 176, "base_width": 24, "depth": 4}),
    Rung("tiny", {"input_height": 256, "input_width": 176, "base_width": 16, "depth": 3}),
)

#: Expected validation mIoU by thousands of photos seen; see the module docstring for the
#: measured points (default: 2.3 k, 12.2 k, 18.2 k; small: 10.6 k; tiny: 6.1 k, 16 k, 31.2 k
#: and the two near 44 k); the others are estimated.
EXPECTED: dict[str, tuple[tuple[float, float], ...]] = {
    "default": ((0.5, 0.36), (2.3, 0.525), (12.2, 0.687), (18.2, 0.708), (45.0, 0.74)),
    "medium": ((0.5, 0.38), (2.3, 0.55), (18.2, 0.69), (45.0, 0.71)),
    "small": ((0.5, 0.40), (2.3, 0.57), (10.6, 0.6525), (18.2, 0.67), (45.0, 0.705)),
    "tiny": ((0.5, 0.40), (2.3, 0.56), (6.1, 0.593), (16.0, 0.659), (31.2, 0.671), (44.5, 0.686)),
}
#: Below the first point of a curve the expectation falls to the all-background score.
BASELINE_MIOU = 0.154


def expected_miou(rung: str, photos_seen: float) -> float:
    """Expected validation mIoU of ``rung`` after ``photos_seen`` training photos."""
    points = EXPECTED[rung]
    k = max(photos_seen, 1.0) / 1000.0
    first_k, first_q = points[0]
    if k <= first_k:  # linear from the baseline at 0 photos
        return BASELINE_MIOU + (first_q - BASELINE_MIOU) * k / first_k
    for (k0, q0), (k1, q1) in zip(points, points[1:], strict=False):
        if k <= k1:
            t = (math.log(k) - math.log(k0)) / (math.log(k1) - math.log(k0))
            return q0 + t * (q1 - q0)
    return points[-1][1]


@dataclass
class Choice:
    """What :func:`fit_to_budget` chose and why (``text`` is shown to the user)."""

    rung: str
    settings: dict[str, Any]
    photos_per_s: float
    expected_epochs: float
    expected_miou: float
    text: str
    speeds: dict[str, float] = field(default_factory=dict)
    probe_seconds: float = 0.0


def machine_summary() -> str:
    """``"AMX, 2 threads"``-style: the best vector unit TensorFlow may use, and the threads."""
    flags = usable_cpu_flags()
    if "amx_bf16" in flags:
        unit = "AMX"
    elif "avx512f" in flags:
        unit = "AVX-512"
    elif "avx2" in flags:
        unit = "AVX2"
    elif flags:
        unit = "SSE"
    else:
        unit = "CPU"
    threads = compute_threads()
    return f"{unit}, {threads} thread{'s' if threads != 1 else ''}"


def rung_config(base: TrainConfig, rung: Rung, fixed: Sequence[str] = ()) -> TrainConfig:
    """``base`` with the rung's settings, except those in ``fixed`` (the user's)."""
    values = base.to_dict()
    values.update({k: v for k, v in rung.settings.items() if k not in set(fixed)})
    values["recipe"] = "manual"
    return TrainConfig.from_dict(values)


def _clock_callback(warmup: int = 0, steps: int = 0, seconds: float = 0.0) -> Any:
    """A Keras callback that records the time at the end of every training batch and
    stops the fit once ``steps`` batches after the first ``warmup`` ones have been timed
    and they took ``seconds`` or more (never, with the defaults)."""
    import keras

    class Clock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.times.append(time.perf_counter())
            timed = self.times[max(warmup - 1, 0) :]
            if steps and len(timed) > steps and timed[-1] - timed[0] >= seconds:
                self.model.stop_training = True

    return Clock()


def probe(
    config: TrainConfig,
    samples: Sequence[Sample],
    num_classes: int,
    rungs: Sequence[Rung] = LADDER,
    *,
    steps: int = 3,
    warmup: int = 2,
    max_photos: int = 16,
    fixed: Sequence[str] = (),
    cancel_token: CancelToken | None = None,
    measure: Sequence[str] | None = None,
    seconds: float = 1.5,
    max_steps: int = 40,
) -> dict[str, float]:
    """Training photos per second of each rung on this machine (TensorFlow imported here).

    A measured rung builds its network, compiles it, runs ``warmup`` steps (tracing, and
    the first step's one-time work) and then times at least ``steps`` steps of the real
    pipeline, and more until they take ``seconds`` (at most ``max_steps``): up to
    ``max_photos`` of ``samples`` letterboxed at the rung's size and augmented as the run
    will be. Three steps of a small network are a quarter of a second on a fast CPU, and
    that measured half the speed the same network then trained at when the window was
    busy (51.7 against 94 photos/s on a 2-core Zen EPYC, 2026-12-04). Tracing a network
    costs seconds on a 2-core CPU, so by default only the largest and the smallest rung
    are measured (``measure``: the names to measure) and the others are interpolated
    between them by their forward FLOPs per photo (in logarithms): a probe of two
    networks instead of four.
    """
    if measure is None:
        measure = [r.name for r in rungs] if len(rungs) <= 2 else [rungs[0].name, rungs[-1].name]
    timed_rungs = [r for r in rungs if r.name in set(measure)]
    speeds = _measure(
        config,
        samples,
        num_classes,
        timed_rungs,
        steps=steps,
        warmup=warmup,
        max_photos=max_photos,
        fixed=fixed,
        cancel_token=cancel_token,
        seconds=seconds,
        max_steps=max_steps,
    )
    rest = [r for r in rungs if r.name not in speeds]
    known = [(name, v) for name, v in speeds.items() if v > 0]
    if rest and len(known) >= 2:
        flops = rung_flops(config, num_classes, rungs, fixed)
        (a, sa), (b, sb) = known[0], known[-1]
        la, lb = math.log(flops[a]), math.log(flops[b])
        for rung in rest:
            t = (math.log(flops[rung.name]) - la) / (lb - la) if lb != la else 0.0
            speeds[rung.name] = math.exp(math.log(sa) + t * (math.log(sb) - math.log(sa)))
    return speeds


def rung_flops(
    config: TrainConfig, num_classes: int, rungs: Sequence[Rung], fixed: Sequence[str] = ()
) -> dict[str, float]:
    """Forward FLOPs per photo of each rung at its padded input size (no tracing)."""
    from fashionseg_gui.core import data as D
    from fashionseg_gui.core import model as M

    out = {}
    for rung in rungs:
        cfg = rung_config(config, rung, fixed)
        net = M.build_unet(
            num_classes,
            (None, None, 3),
            cfg.depth,
            cfg.base_width,
            cfg.batch_norm,
            cfg.dropout,
            max_width=max(cfg.max_width, cfg.base_width),
            stem_stride=int(cfg.stem_stride),
            decoder=cfg.decoder,
            position_channel=bool(cfg.position_channel),
        )
        box = D.letterbox_geometry(cfg.target_hw, cfg.target_hw, cfg.multiple)
        out[rung.name] = M.model_flops(net, box.out_h, box.out_w)
    return out


def _measure(
    config: TrainConfig,
    samples: Sequence[Sample],
    num_classes: int,
    rungs: Sequence[Rung],
    *,
    steps: int,
    warmup: int,
    max_photos: int,
    fixed: Sequence[str],
    cancel_token: CancelToken | None,
    seconds: float,
    max_steps: int,
) -> dict[str, float]:
    """Photos per second of each of ``rungs``, timed on the real pipeline (:func:`probe`)."""
    import keras

    from fashionseg_gui.core import data as D
    from fashionseg_gui.core import model as M

    speeds: dict[str, float] = {}
    picked = list(samples)[: max(1, int(max_photos))]
    for rung in rungs:
        if cancel_token is not None:
            cancel_token.raise_if_cancelled()
        cfg = rung_config(config, rung, fixed)
        cached = D.cache_samples(picked, cfg.target_hw, cfg.multiple, num_classes)
        batch = max(1, min(int(cfg.batch_size), len(cached)))
        ds = D.make_dataset(cached, batch, True, cfg.augment_config(), cfg.seed, repeat=True)
        net = M.build_unet(
            num_classes,
            (None, None, 3),
            cfg.depth,
            cfg.base_width,
            cfg.batch_norm,
            cfg.dropout,
            dtype=resolve_precision(cfg.mixed_precision),
            max_width=max(cfg.max_width, cfg.base_width),
            stem_stride=int(cfg.stem_stride),
            decoder=cfg.decoder,
            position_channel=bool(cfg.position_channel),
        )
        fit_model, stride = M.training_view(net)
        if stride > 1:
            ds = ds.map(lambda x, y, s=stride: (x, M.subsample_labels(y, s)))
        fit_model.compile(
            optimizer=keras.optimizers.AdamW(cfg.learning_rate),
            loss=M.SegmentationLoss(num_classes, cfg.loss),
        )
        clock = _clock_callback(warmup, steps, seconds)
        fit_model.fit(
            ds,
            epochs=1,
            steps_per_epoch=warmup + max(steps, max_steps),
            verbose=0,
            callbacks=[clock],
            shuffle=False,
        )
        times = clock.times
        timed = times[warmup - 1 :] if warmup >= 1 else times
        seconds = max(timed[-1] - timed[0], 1e-6) if len(timed) >= 2 else float("nan")
        speeds[rung.name] = batch * (len(timed) - 1) / seconds if len(timed) >= 2 else 0.0
        del fit_model, net, ds, cached
        gc.collect()
    return speeds


def choose(
    speeds: dict[str, float],
    budget_s: float,
    n_train: int,
    n_val: int = 0,
    rungs: Sequence[Rung] = LADDER,
    min_photos_per_epoch: int = 0,
) -> tuple[Rung, float, float]:
    """The rung with the best expected mIoU in ``budget_s``: ``(rung, epochs, miou)``.

    An epoch trains ``max(n_train, min_photos_per_epoch)`` photos and validates ``n_val``
    (a forward pass at full size, counted as a third of a training step per photo).
    """
    best: tuple[float, Rung, float] | None = None
    per_epoch = max(int(n_train), int(min_photos_per_epoch), 1)
    for rung in rungs:
        speed = float(speeds.get(rung.name) or 0.0)
        if not speed > 0 or not math.isfinite(speed):
            continue
        epoch_s = per_epoch / speed + max(n_val, 0) / (3.0 * speed)
        epochs = max(budget_s, 0.0) / epoch_s
        q = expected_miou(rung.name, epochs * per_epoch)
        if best is None or q > best[0] + 1e-9:
            best = (q, rung, epochs)
    if best is None:
        rung = rungs[0]
        return rung, 0.0, expected_miou(rung.name, 0.0)
    return best[1], best[2], best[0]


def bf16_friendly(
    config: TrainConfig, rungs: Sequence[Rung], fixed: Sequence[str] = ()
) -> tuple[Rung, ...]:
    """The rungs worth probing when the run trains in bfloat16: widths whose channel
    counts are multiples of 16, which the bfloat16 kernels of AMX and of AVX-512 BF16 fill.

    A width-24 U-Net (24, 48, 96... channels) falls off the fast kernels, and the probe's
    few steps do not show it: on a 2-core Xeon with AMX (2026-12-01) 320x224 trained at
    13-15 photos/s with width 24 against 28 with width 32, while the probe showed width 24
    at 39, so the probe alone would choose it (a 10-minute run then scored 0.627 against the
    default rung's 0.708). On a 2-core AMD EPYC with AVX-512 BF16 and no AMX (2026-12-02)
    bfloat16 trained width 32 1.75x and width 16 1.5x faster than float32, width 24 no
    faster (19-25 against 25-26 photos/s). On a 2-core Xeon with AMX (2026-12-02) width 16
    is fast too: the tiny rung probed at 48-60 photos/s in bfloat16 against 44-46 in
    float32, and trained at about 63. In float32 every rung is probed.
    """
    if "base_width" in fixed or not resolve_precision(config.mixed_precision):
        return tuple(rungs)
    kept = tuple(r for r in rungs if int(r.settings["base_width"]) % 16 == 0)
    return kept or tuple(rungs[:1])


def fit_to_budget(
    config: TrainConfig,
    train_samples: Sequence[Sample],
    n_val: int,
    num_classes: int,
    *,
    rungs: Sequence[Rung] = LADDER,
    probe_fn: Callable[..., dict[str, float]] | None = None,
    cancel_token: CancelToken | None = None,
    **probe_kwargs: Any,
) -> Choice:
    """Probe the ladder and choose the rung for ``config.max_minutes``.

    ``probe_fn`` (default :func:`probe`) returns photos/s per rung name. The probe's own
    time is taken from the budget.
    """
    if config.max_minutes is None:
        raise ValueError("fit_to_budget needs a time budget (max_minutes)")
    fixed = tuple(config.fixed)
    rungs = bf16_friendly(config, rungs, fixed)
    t0 = time.monotonic()
    speeds = (probe_fn or probe)(
        config,
        train_samples,
        num_classes,
        rungs,
        fixed=fixed,
        cancel_token=cancel_token,
        **probe_kwargs,
    )
    probe_s = time.monotonic() - t0
    budget_s = max(float(config.max_minutes) * 60.0 - probe_s, 1.0)
    rung, epochs, miou = choose(
        speeds,
        budget_s,
        len(train_samples),
        n_val,
        rungs,
        int(config.min_steps_per_epoch) * int(config.batch_size),
    )
    chosen = rung_config(config, rung, fixed)
    settings = {k: getattr(chosen, k) for k in RECIPE_KEYS}
    precision = "bfloat16" if resolve_precision(chosen.mixed_precision) else "float32"
    kept = f"; kept your {', '.join(k.replace('_', ' ') for k in fixed)}" if fixed else ""
    text = (
        f"{machine_summary()}: {chosen.input_height}x{chosen.input_width}, width "
        f"{chosen.base_width}, depth {chosen.depth}, {precision}, expect ~{epochs:.0f} "
        f"epochs ({speeds.get(rung.name, 0.0):.1f} photos/s; expected val mIoU "
        f"~{miou:.2f} on CCP-like data){kept}"
    )
    return Choice(
        rung.name,
        settings,
        float(speeds.get(rung.name, 0.0)),
        epochs,
        miou,
        text,
        dict(speeds),
        probe_s,
    )
