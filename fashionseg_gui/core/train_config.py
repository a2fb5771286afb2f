"""The training recipe: :class:`TrainConfig`, its defaults and its validation.

Free of Qt and TensorFlow, so the Train panel, the CLI and a notebook read the defaults
without loading TensorFlow. ``core.train`` runs it; ``config.json`` of a run stores it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fashionseg_gui.core.data import AugmentConfig

STRATEGIES = ("default", "mirrored", "multiworker")
PRECISIONS = ("off", "bf16", "auto")
RECIPES = ("auto", "manual")
#: How predictions reach the photo's size (``core.serving.full_size_outputs``); first: default.
UPSAMPLING = ("guided", "bilinear")
#: The Train panel's time budget for a project that saved none (minutes).
GUI_TIME_BUDGET_MIN = 10.0
#: The losses and decoders ``core.model`` implements (kept equal by a test).
LOSS_KINDS = ("ce_dice", "weighted_ce", "ce")
DECODERS = ("unet", "light")


class TrainError(Exception):
    """A training problem worded for the user (bad config, no data, unreadable run)."""


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored as ``config.json``).

    ``mixed_precision``: ``"off"`` (float32), ``"bf16"`` (mixed bfloat16: fast on CPUs with
    AMX/AVX512-BF16 and on recent GPUs) or ``"auto"`` (bf16 where the CPU has AMX or
    AVX512-BF16, see :func:`cpu_has_fast_bf16`).
    ``max_minutes`` stops after that wall-clock budget; the learning-rate schedule then
    follows elapsed time. ``resume_from``: a run folder (or ``.keras`` file) whose weights
    initialise this run (continue or fine-tune after corrections).
    ``lr_schedule``: ``"cosine"`` (warm-up then cosine decay over the epochs or over
    ``max_minutes``) or ``"constant"``. ``augment_mask=False`` transforms the photo but not
    its mask: the seed project's bug, kept only to reproduce it in the benchmark.
    ``stem_stride``: 1, 2 or 4; the U-Net runs at the input size divided by it (a strided
    stem convolution) and its probabilities are upsampled back (see ``core.model.build_unet``);
    training fits them at that lower resolution (``core.model.training_view``).
    ``decoder``: ``"unet"`` (concatenate skips, two convolutions per level) or ``"light"``
    (add skips, one convolution per level).
    ``position_channel``: a CoordConv-style row-position input channel
    (``core.model.build_unet``); +0.02 validation mIoU for five minutes on an AVX2 CPU
    (hold-out 0721-0800, every class better), at no measurable cost. A fine-tune keeps the
    checkpoint's choice.
    ``min_steps_per_epoch``: an epoch is at least this many batches; a small project (a dozen
    labelled photos) is repeated, with fresh augmentation, so that 30 epochs really train.
    ``recipe``: ``"auto"`` fits input size, width, depth and precision to this machine when
    the run has a ``max_minutes`` budget (``core.recipe``: a probe of a few seconds);
    ``"manual"`` trains with the settings as given. ``fixed``: settings the user chose
    explicitly; fitting never changes them.
    ``upsampling``: how predictions of this run reach the photo's size: ``"guided"`` (a
    fast guided filter moves class boundaries to the photo's edges; +0.012 hold-out mIoU
    for the budget's width-16 network, every class better, ~3 ms a photo) or
    ``"bilinear"``. Prediction only: training is the same either way, and a run's
    predictions or export can use the other one.
    """

    epochs: int = 30
    batch_size: int = 8
    learning_rate: float = 2.5e-3
    input_height: int = 384
    input_width: int = 256
    depth: int = 4
    base_width: int = 32
    max_width: int = 256
    batch_norm: bool = True
    dropout: float = 0.0
    loss: str = "ce_dice"
    augment_flip: bool = True
    augment_rotate: bool = True
    augment_scale: bool = True
    augment_color: bool = True
    val_fraction: float = 0.1
    seed: int = 0
    early_stopping_patience: int | None = 8
    strategy: str = "default"
    mixed_precision: str = "auto"
    resume_from: str | None = None
    max_minutes: float | None = None
    warmup_fraction: float = 0.05
    weight_decay: float = 1e-4
    lr_schedule: str = "cosine"
    augment_mask: bool = True
    stem_stride: int = 2
    decoder: str = "light"
    position_channel: bool = True
    min_steps_per_epoch: int = 20
    recipe: str = "auto"
    fixed: list[str] = field(default_factory=list)
    upsampling: str = "guided"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`TrainError` with a one-line message for an invalid setting."""

        def need(ok: bool, message: str) -> None:
            if not ok:
                raise TrainError(message)

        need(int(self.epochs) >= 1, f"epochs must be >= 1 (got {self.epochs})")
        need(int(self.batch_size) >= 1, f"batch size must be >= 1 (got {self.batch_size})")
        need(
            int(self.min_steps_per_epoch) >= 1,
            f"min steps per epoch must be >= 1 (got {self.min_steps_per_epoch})",
        )
        need(
            0 < float(self.learning_rate) < 10,
            f"learning rate must be > 0 (got {self.learning_rate})",
        )
        need(1 <= int(self.depth) <= 6, f"depth must be 1..6 (got {self.depth})")
        need(int(self.base_width) >= 1, f"base width must be >= 1 (got {self.base_width})")
        need(
            int(self.stem_stride) in (1, 2, 4),
            f"stem stride must be 1, 2 or 4 (got {self.stem_stride})",
        )
        need(
            self.decoder in DECODERS,
            f"decoder must be one of {', '.join(DECODERS)} (got {self.decoder!r})",
        )
        step = 2 ** int(self.depth) * int(self.stem_stride)
        need(
            int(self.input_height) >= step and int(self.input_width) >= step,
            f"input size {self.input_height}x{self.input_width} is smaller than "
            f"stem stride x 2**depth = {step}",
        )
        need(0.0 <= float(self.dropout) < 1.0, f"dropout must be in [0, 1) (got {self.dropout})")
        need(
            self.loss in LOSS_KINDS,
            f"loss must be one of {', '.join(LOSS_KINDS)} (got {self.loss!r})",
        )
        need(
            0.0 <= float(self.val_fraction) < 1.0,
            f"validation fraction must be in [0, 1) (got {self.val_fraction})",
        )
        need(
            self.strategy in STRATEGIES,
            f"strategy must be one of {', '.join(STRATEGIES)} (got {self.strategy!r})",
        )
        need(
            self.mixed_precision in PRECISIONS,
            f"mixed precision must be one of {', '.join(PRECISIONS)} (got {self.mixed_precision!r})",
        )
        need(
            self.lr_schedule in ("cosine", "constant"),
            f"lr schedule must be cosine or constant (got {self.lr_schedule!r})",
        )
        need(
            self.max_minutes is None or float(self.max_minutes) > 0,
            f"max minutes must be > 0 (got {self.max_minutes})",
        )
        need(
            self.recipe in RECIPES,
            f"recipe must be one of {', '.join(RECIPES)} (got {self.recipe!r})",
        )
        need(
            self.upsampling in UPSAMPLING,
            f"upsampling must be one of {', '.join(UPSAMPLING)} (got {self.upsampling!r})",
        )
        need(
            isinstance(self.fixed, (list, tuple)) and all(isinstance(k, str) for k in self.fixed),
            f"fixed must be a list of setting names (got {self.fixed!r})",
        )
        self.fixed = [str(k) for k in self.fixed]
        need(
            self.early_stopping_patience is None or int(self.early_stopping_patience) >= 1,
            f"early stopping patience must be >= 1 or None (got {self.early_stopping_patience})",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dict (JSON-ready)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring unknown keys (older/newer config files)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(values).items() if k in known})

    @property
    def target_hw(self) -> tuple[int, int]:
        """Letterbox box ``(height, width)``."""
        return int(self.input_height), int(self.input_width)

    @property
    def multiple(self) -> int:
        """Padding multiple ``stem_stride * 2**depth``."""
        return 2 ** int(self.depth) * int(self.stem_stride)

    def augment_config(self) -> AugmentConfig:
        """The :class:`core.data.AugmentConfig` these flags select (imports TensorFlow)."""
        from fashionseg_gui.core import data as D

        return D.AugmentConfig(
            flip=bool(self.augment_flip),
            rotate_deg=10.0 if self.augment_rotate else 0.0,
            scale_range=(0.8, 1.25) if self.augment_scale else (1.0, 1.0),
            color_jitter=0.2 if self.augment_color else 0.0,
            joint=bool(self.augment_mask),
        )


def defaults() -> dict[str, Any]:
    """The default recipe as a plain dict (what a new project trains with)."""
    return TrainConfig().to_dict()


def cpu_flags() -> set[str]:
    """The CPU feature flags of this machine (``/proc/cpuinfo``; empty where unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# What oneDNN may use under ``ONEDNN_MAX_CPU_ISA`` (its documented values): the flags above
# the limit are taken away. ``ALL``, ``AVX512_CORE_AMX`` or no limit keep every flag.
_ISA_DROPS: dict[str, tuple[str, ...]] = {
    "SSE41": ("avx", "avx2", "fma", "avx512", "amx"),
    "AVX": ("avx2", "fma", "avx512", "amx"),
    "AVX2": ("avx512", "amx"),
    "AVX2_VNNI": ("avx512", "amx"),
    "AVX2_VNNI_2": ("avx512", "amx"),
    "AVX512_CORE": ("avx512_bf16", "avx512_vnni", "amx"),
    "AVX512_CORE_VNNI": ("avx512_bf16", "amx"),
    "AVX512_CORE_BF16": ("amx",),
    "AVX10_1_512": ("amx",),
}


def usable_cpu_flags() -> set[str]:
    """:func:`cpu_flags` less what ``ONEDNN_MAX_CPU_ISA`` (or ``DNNL_MAX_CPU_ISA``) forbids
    oneDNN to use: an AMX machine limited to AVX2 trains as an AVX2 laptop does."""
    flags = cpu_flags()
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or ""
    drops = _ISA_DROPS.get(limit.strip().upper(), ())
    return {f for f in flags if not f.startswith(drops)}


def compute_threads() -> int:
    """Threads TensorFlow computes with: ``TF_NUM_INTRAOP_THREADS`` when set (TensorFlow
    reads it), else the CPUs this process may run on."""
    try:
        n = int(os.environ.get("TF_NUM_INTRAOP_THREADS", "0"))
    except ValueError:
        n = 0
    if n > 0:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_has_amx_bf16() -> bool:
    """Whether oneDNN may use AMX with bfloat16 here (then mixed bfloat16 is the fast path)."""
    return "amx_bf16" in usable_cpu_flags()


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has a bfloat16 fast path here: AMX, or AVX-512 BF16 (bfloat16 pair
    dot products: AMD Zen 4 and later, Intel Cooper Lake).

    Measured on a 2-core AMD EPYC with AVX-512 BF16 and no AMX (2026-12-02): matmul 402
    GFLOP/s in bfloat16 against 201 in float32; training the default network 15-16
    photos/s against 8-9, the 256x176 width-16 one 83-97 against 54-60. Without either
    (AVX2 only) bfloat16 is slower than float32 (issue 15's EPYC: 49 against 66 GFLOP/s).
    """
    flags = usable_cpu_flags()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(setting: str) -> str | None:
    """Keras dtype policy name for a ``mixed_precision`` setting (None = float32)."""
    if setting == "bf16" or (setting == "auto" and cpu_has_fast_bf16()):
        return "mixed_bfloat16"
    return None
