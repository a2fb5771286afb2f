"""Dataset pipeline: letterbox, in-memory cache, joint augmentation, tf.data, TFRecords.

The samples (:class:`Sample`, :func:`samples_from_project`, :func:`samples_from_folder`)
live in :mod:`fashionseg_gui.core.samples` and the deterministic split
(:func:`split_samples`, :func:`move_to_split`) in :mod:`fashionseg_gui.core.splits`; both
need no TensorFlow and are re-exported here.

Photos are letterboxed (aspect kept, padded to a multiple of ``2**depth``, padding
labelled 255) once, cached in RAM as uint8, and augmented in a vectorised tf.data map with
the same random geometry for photo and mask (nearest neighbour and fill 255 for the mask).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.samples import (
    SPLITS,
    DataError,
    Sample,
    load_mapping,
    samples_from_folder,
    samples_from_project,
)
from fashionseg_gui.core.splits import (
    MIN_TWO_VAL_FROM,
    assign_splits,
    dominant_class,
    min_val_images,
    move_to_split,
    split_samples,
)

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.train_config import TrainConfig

__all__ = [  # the samples and the split live in core/samples.py and core/splits.py
    "IGNORE",
    "MIN_TWO_VAL_FROM",
    "SPLITS",
    "AugmentConfig",
    "CachedSet",
    "DataError",
    "LetterboxInfo",
    "Sample",
    "assign_splits",
    "as_tensor",
    "augmentation_preview",
    "cache_samples",
    "class_pixel_counts",
    "class_weights",
    "dataset_stats",
    "dominant_class",
    "letterbox",
    "letterbox_geometry",
    "letterbox_graph",
    "load_mapping",
    "make_dataset",
    "min_val_images",
    "move_to_split",
    "read_tfrecords",
    "samples_from_folder",
    "samples_from_project",
    "samples_from_tfrecords",
    "split_samples",
    "unletterbox",
    "write_tfrecords",
]

# ----------------------------------------------------------------------------------------
# Letterbox
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterboxInfo:
    """Geometry of a letterbox: the photo was resized to ``scaled`` and placed top-left."""

    orig_h: int
    orig_w: int
    scaled_h: int
    scaled_w: int
    out_h: int
    out_w: int


def letterbox_geometry(
    orig_hw: tuple[int, int], target_hw: tuple[int, int], multiple: int = 16
) -> LetterboxInfo:
    """Compute the letterbox of an ``orig_hw`` photo into a ``target_hw`` box.

    The scale is ``min(H/h, W/w)``; the output is ``target_hw`` rounded up to ``multiple``.
    """
    h, w = int(orig_hw[0]), int(orig_hw[1])
    th, tw = int(target_hw[0]), int(target_hw[1])
    if min(h, w, th, tw) <= 0:
        raise DataError(f"invalid sizes for letterbox: photo {h}x{w}, box {th}x{tw}")
    scale = min(th / h, tw / w)
    sh = min(th, max(1, round(h * scale)))
    sw = min(tw, max(1, round(w * scale)))
    oh = -(-th // multiple) * multiple
    ow = -(-tw // multiple) * multiple
    return LetterboxInfo(h, w, sh, sw, oh, ow)


def _resize(array: np.ndarray, hw: tuple[int, int], nearest: bool) -> np.ndarray:
    """Resize with TensorFlow's kernels (the ones the exported graph uses)."""
    if array.shape[:2] == tuple(hw):
        return array
    x = tf.convert_to_tensor(array if array.ndim == 3 else array[..., None])
    if nearest:
        y = tf.image.resize(x, hw, method="nearest")
        y = tf.cast(y, array.dtype)
    else:
        y = tf.image.resize(tf.cast(x, tf.float32), hw, method="bilinear", antialias=True)
        if array.dtype == np.uint8:
            y = tf.cast(tf.clip_by_value(tf.round(y), 0, 255), tf.uint8)
    y = y.numpy()
    return y if array.ndim == 3 else y[..., 0]


def letterbox(
    image: np.ndarray, target_hw: tuple[int, int], multiple: int = 16, is_mask: bool | None = None
) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize keeping the aspect ratio to fit ``target_hw`` and pad to a multiple.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, C)`` photo (bilinear, antialiased; padding 0) or ``(H, W)`` label mask
        (nearest neighbour; padding 255).
    target_hw : (int, int)
        Box to fit into.
    multiple : int
        Output height and width are rounded up to this (``2**depth``).
    is_mask : bool, optional
        Force mask handling; default: 2-D arrays are masks.

    Returns
    -------
    array : np.ndarray
        ``(out_h, out_w[, C])``, same dtype.
    info : LetterboxInfo
        What :func:`unletterbox` needs.
    """
    mask = image.ndim == 2 if is_mask is None else is_mask
    info = letterbox_geometry(image.shape[:2], target_hw, multiple)
    resized = _resize(image, (info.scaled_h, info.scaled_w), nearest=mask)
    out = np.full((info.out_h, info.out_w) + image.shape[2:], IGNORE if mask else 0, image.dtype)
    out[: info.scaled_h, : info.scaled_w] = resized
    return out, info


def unletterbox(pred: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """Undo :func:`letterbox`: crop the padding and resize back to the original size.

    Integer maps (class ids) use nearest neighbour; float maps (probabilities) bilinear.
    """
    if pred.shape[:2] != (info.out_h, info.out_w):
        raise DataError(f"prediction is {pred.shape[:2]}, expected {(info.out_h, info.out_w)}")
    crop = pred[: info.scaled_h, : info.scaled_w]
    nearest = not np.issubdtype(pred.dtype, np.floating)
    if crop.shape[:2] == (info.orig_h, info.orig_w):
        return crop.copy()
    x = tf.convert_to_tensor(crop if crop.ndim == 3 else crop[..., None])
    if nearest:
        y = tf.cast(tf.image.resize(x, (info.orig_h, info.orig_w), method="nearest"), pred.dtype)
    else:
        y = tf.image.resize(x, (info.orig_h, info.orig_w), method="bilinear")
        y = tf.cast(y, pred.dtype)
    y = y.numpy()
    return y if crop.ndim == 3 else y[..., 0]


def letterbox_graph(images: Any, target_hw: tuple[int, int], multiple: int = 16) -> tuple[Any, Any]:
    """In-graph letterbox of a uint8 batch ``(N, H, W, 3)`` (same geometry as :func:`letterbox`).

    Returns the float32 ``(N, out_h, out_w, 3)`` batch and the int32 scaled ``[h, w]``.
    """
    th, tw = int(target_hw[0]), int(target_hw[1])
    oh, ow = -(-th // multiple) * multiple, -(-tw // multiple) * multiple
    hw = tf.shape(images)[1:3]
    h, w = tf.cast(hw[0], tf.float64), tf.cast(hw[1], tf.float64)
    scale = tf.minimum(th / h, tw / w)
    # Python's round() is half-to-even, like tf.round
    sh = tf.clip_by_value(tf.cast(tf.round(h * scale), tf.int32), 1, th)
    sw = tf.clip_by_value(tf.cast(tf.round(w * scale), tf.int32), 1, tw)
    same = tf.logical_and(tf.equal(sh, hw[0]), tf.equal(sw, hw[1]))
    # the resize reads the uint8 photo itself (no float32 copy of it first); same result
    x = tf.cond(
        same,
        lambda: tf.cast(images, tf.float32),
        lambda: tf.clip_by_value(
            tf.round(
                tf.image.resize(images, tf.stack([sh, sw]), method="bilinear", antialias=True)
            ),
            0.0,
            255.0,
        ),
    )
    x = tf.image.pad_to_bounding_box(x, 0, 0, oh, ow)
    return x, tf.stack([sh, sw])


# ----------------------------------------------------------------------------------------
# In-memory cache and tf.data
# ----------------------------------------------------------------------------------------


@dataclass
class CachedSet:
    """Letterboxed uint8 photos ``(N, H, W, 3)`` and masks ``(N, H, W)`` held in RAM."""

    ids: list[str]
    images: np.ndarray
    masks: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def cache_samples(
    samples: Sequence[Sample],
    target_hw: tuple[int, int],
    multiple: int = 16,
    num_classes: int | None = None,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> CachedSet:
    """Decode and letterbox every sample once into contiguous uint8 arrays.

    Mask values ``>= num_classes`` (other than 255) raise :class:`DataError`.
    """
    info = letterbox_geometry((1, 1), target_hw, multiple)
    n = len(samples)
    # aligned for TensorFlow, so that make_dataset can use these arrays without a copy
    images = _aligned_uint8((n, info.out_h, info.out_w, 3), 0)
    masks = _aligned_uint8((n, info.out_h, info.out_w), IGNORE)
    for k, s in enumerate(samples):
        if cancel_token is not None:
            cancel_token.raise_if_cancelled()
        photo, mask = s.load_image(), s.load_mask()
        if photo.shape[:2] != mask.shape[:2]:
            raise DataError(
                f"image {s.id}: mask size {mask.shape[1]}x{mask.shape[0]} differs from photo "
                f"size {photo.shape[1]}x{photo.shape[0]}"
            )
        if num_classes is not None:
            bad = np.setdiff1d(np.unique(mask), np.r_[np.arange(num_classes), IGNORE])
            if bad.size:
                raise DataError(
                    f"image {s.id}: mask has values {bad.tolist()} beyond the {num_classes} classes"
                )
        images[k] = letterbox(photo, target_hw, multiple)[0]
        masks[k] = letterbox(mask, target_hw, multiple, is_mask=True)[0]
        if on_progress is not None:
            on_progress(k + 1, n)
    return CachedSet([s.id for s in samples], images, masks)


#: The alignment TensorFlow's CPU kernels require of a tensor's buffer (its allocator's).
TENSOR_ALIGNMENT = 64


def _aligned_uint8(shape: tuple[int, ...], fill: int) -> np.ndarray:
    """A C-contiguous uint8 array of ``shape`` filled with ``fill``, its data
    :data:`TENSOR_ALIGNMENT`-byte aligned (numpy itself only promises 16 bytes)."""
    size = math.prod(shape)
    raw = np.empty(size + TENSOR_ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % TENSOR_ALIGNMENT
    out = raw[start : start + size].reshape(shape)
    out.fill(fill)
    return out


def as_tensor(array: np.ndarray) -> tf.Tensor:
    """A tensor of ``array``, sharing its memory where TensorFlow can.

    ``tf.constant`` copies a numpy array and briefly holds a second copy while it does (the
    224 MB of photos of a 760-photo cache at 384x256 took 660 MB at the peak, measured).
    Through DLPack an aligned, C-contiguous, writable array becomes a tensor with no copy;
    the tensor keeps the array alive, and the array must not be written afterwards. Any
    other array is copied: TensorFlow aborts the process on a misaligned buffer.
    """
    if (
        array.flags.c_contiguous
        and array.flags.writeable
        and array.ctypes.data % TENSOR_ALIGNMENT == 0
        and array.size > 0
    ):
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (BufferError, TypeError, ValueError, tf.errors.InvalidArgumentError):
            pass  # a dtype or layout DLPack does not carry: copy
    return tf.constant(array)


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply (photo and mask share the geometry)."""

    flip: bool = True
    rotate_deg: float = 10.0
    scale_range: tuple[float, float] = (0.8, 1.25)
    color_jitter: float = 0.2
    joint: bool = True  # False: photo only (reproduces the seed project's bug)

    def enabled(self) -> bool:
        """Whether any augmentation is on."""
        return bool(
            self.flip or self.rotate_deg or self.scale_range != (1.0, 1.0) or self.color_jitter
        )


def _augment_batch(images: Any, masks: Any, cfg: AugmentConfig, seed: Any) -> tuple[Any, Any]:
    """Vectorised joint augmentation of a uint8 batch; returns float32 photos and uint8 masks."""
    n = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(seed, 6)
    # per-image inverse affine: output pixel -> input pixel, about the centre
    angle = tf.random.stateless_uniform([n], seeds[0], -1.0, 1.0) * (cfg.rotate_deg * math.pi / 180)
    lo, hi = cfg.scale_range
    scale = tf.exp(tf.random.stateless_uniform([n], seeds[1], math.log(lo), math.log(hi)))
    flip = tf.random.stateless_uniform([n], seeds[2]) < (0.5 if cfg.flip else 0.0)
    sx = tf.where(flip, -1.0, 1.0) / scale
    sy = 1.0 / scale
    shift = tf.random.stateless_uniform([n, 2], seeds[3], -0.1, 0.1) * tf.stack([w, h])
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = cos * sx, -sin * sy
    b0, b1 = sin * sx, cos * sy
    cx, cy = (w - 1) / 2, (h - 1) / 2
    a2 = cx - a0 * cx - a1 * cy + shift[:, 0]
    b2 = cy - b0 * cx - b1 * cy + shift[:, 1]
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    out_shape = tf.shape(images)[1:3]
    photo = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(images, tf.float32),
        transforms=transforms,
        output_shape=out_shape,
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    if not cfg.joint:
        label = tf.cast(masks[..., None], tf.float32)
    else:
        label = tf.raw_ops.ImageProjectiveTransformV3(
            images=tf.cast(masks[..., None], tf.float32),
            transforms=transforms,
            output_shape=out_shape,
            fill_value=float(IGNORE),
            interpolation="NEAREST",
            fill_mode="CONSTANT",
        )
    label = tf.cast(label[..., 0], tf.uint8)
    if cfg.color_jitter:
        j = cfg.color_jitter
        bright = tf.random.stateless_uniform([n, 1, 1, 1], seeds[4], -j, j) * 255.0
        gains = tf.random.stateless_uniform([n, 1, 1, 3], seeds[5], 1.0 - j, 1.0 + j)
        mean = tf.reduce_mean(photo, axis=[1, 2, 3], keepdims=True)
        photo = tf.clip_by_value((photo - mean) * gains + mean + bright, 0.0, 255.0)
    return photo, label


def make_dataset(
    cached: CachedSet,
    batch_size: int,
    training: bool,
    augment: AugmentConfig | None = None,
    seed: int = 0,
    drop_remainder: bool | None = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """tf.data pipeline over a :class:`CachedSet`: shuffle, batch, augment (train), prefetch.

    Yields ``(photos float32 (B, H, W, 3) 0..255, masks uint8 (B, H, W))``. With
    ``repeat=True`` the dataset never ends (reshuffled every pass), so one iterator serves
    a whole training: no pipeline rebuild and refill stall at each epoch boundary.
    """
    if len(cached) == 0:
        raise DataError("no images in this part of the dataset")
    # The cache itself as tensors (no copy for cache_samples' aligned arrays); batches are
    # gathered by index, so neither the shuffle buffer nor the batching copies photos.
    images = as_tensor(cached.images)
    masks = as_tensor(cached.masks)
    ds = tf.data.Dataset.range(len(cached))
    if training:
        ds = ds.shuffle(len(cached), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    drop = training and len(cached) >= batch_size if drop_remainder is None else drop_remainder
    ds = ds.batch(batch_size, drop_remainder=drop)
    ds = ds.map(lambda idx: (tf.gather(images, idx), tf.gather(masks, idx)))
    if training and augment is not None and augment.enabled():
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda xy, s: _augment_batch(xy[0], xy[1], augment, tf.cast(s, tf.int64)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    else:
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y))
    # tf.data's default static rewrites (fusions, injected prefetch, parallel batch) turn the
    # pipeline into a graph and back, and that copies every captured tensor: the whole cache a
    # second time (+225 MB for 760 photos at 384x256, measured). Training speed is the same
    # without them (26.1 / 25.0 against 26.3 / 25.3 photos/s, default rung, side by side on an
    # AMX Xeon): the augmentation map and the prefetch still tune themselves at run time.
    return ds.prefetch(tf.data.AUTOTUNE).with_options(_no_static_rewrites())


def _no_static_rewrites() -> tf.data.Options:
    """Options that keep tf.data's run-time autotuning but skip its graph rewrites."""
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return options


def augmentation_preview(
    samples: Sequence[Sample],
    n: int,
    seed: int = 0,
    target_hw: tuple[int, int] = (384, 256),
    augment: AugmentConfig | None = None,
    config: TrainConfig | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` augmented (photo uint8, mask uint8) pairs, cycling over ``samples`` (for the GUI).

    ``config`` (a ``TrainConfig``) overrides ``target_hw`` and ``augment`` with its
    ``target_hw``, ``multiple`` and ``augment_config()``.
    """
    if not samples or n <= 0:
        return []
    multiple = 16
    if config is not None:
        target_hw, multiple, augment = config.target_hw, config.multiple, config.augment_config()
    picked = [samples[k % len(samples)] for k in range(n)]
    cached = cache_samples(picked, target_hw, multiple)
    photo, mask = _augment_batch(
        tf.constant(cached.images),
        tf.constant(cached.masks),
        augment or AugmentConfig(),
        tf.constant([seed, 0], tf.int64),
    )
    photos = tf.cast(tf.round(photo), tf.uint8).numpy()
    return [(photos[k], mask.numpy()[k]) for k in range(n)]


# ----------------------------------------------------------------------------------------
# Class weights and TFRecords
# ----------------------------------------------------------------------------------------


def value_counts(masks: np.ndarray) -> np.ndarray:
    """How many pixels of uint8 ``masks`` hold each value 0..255 (int64, length 256).

    Counted a block of masks at a time: ``np.bincount`` widens its input to int64, and on the
    whole cache of a training run (760 masks at 384x256) that was a 0.6 GB transient, the run's
    peak memory.
    """
    masks = np.asarray(masks)
    if masks.dtype != np.uint8:
        raise TypeError(f"value_counts needs uint8 masks, not {masks.dtype}")
    flat = masks.reshape(len(masks), -1) if masks.ndim > 1 else masks.reshape(1, -1)
    counts = np.zeros(256, np.int64)
    step = max(1, (1 << 22) // max(flat.shape[1], 1))  # ~4 M pixels (32 MB as int64) a block
    for i in range(0, len(flat), step):
        counts += np.bincount(flat[i : i + step].reshape(-1), minlength=256)
    return counts


def class_pixel_counts(masks: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixel count of each class (255 ignored)."""
    return value_counts(masks)[:num_classes]


def class_weights(
    masks: np.ndarray, num_classes: int, power: float = 0.5, max_weight: float = 10.0
) -> list[float]:
    """Class weights from pixel frequencies: ``(median / freq) ** power``, clipped, mean 1.

    Absent classes get the largest weight present.
    """
    counts = class_pixel_counts(masks, num_classes).astype(np.float64)
    present = counts > 0
    if not present.any():
        raise DataError("no labelled pixels: every mask is empty (all 255)")
    freq = counts / counts.sum()
    med = np.median(freq[present])
    w = np.ones(num_classes)
    w[present] = np.clip((med / freq[present]) ** power, 1.0 / max_weight, max_weight)
    w[~present] = w[present].max()
    w /= w[present].mean()
    return [float(v) for v in w]


def write_tfrecords(
    samples: Sequence[Sample],
    out_dir: str | Path,
    shards: int = 4,
    cancel_token: CancelToken | None = None,
) -> list[Path]:
    """Write samples as sharded TFRecords (PNG-encoded photo and mask, id, split).

    Returns the shard paths (``data-00000-of-0000N.tfrecord``).
    """
    if shards < 1:
        raise DataError(f"shards must be >= 1; got {shards}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"data-{k:05d}-of-{shards:05d}.tfrecord" for k in range(shards)]
    writers = [tf.io.TFRecordWriter(str(p) + ".tmp") for p in paths]
    try:
        for k, s in enumerate(samples):
            if cancel_token is not None:
                cancel_token.raise_if_cancelled()
            photo, mask = s.load_image(), s.load_mask()
            feature = {
                "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[s.id.encode()])),
                "split": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[(s.split or "").encode()])
                ),
                "image": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[tf.io.encode_png(photo).numpy()])
                ),
                "mask": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[tf.io.encode_png(mask[..., None]).numpy()])
                ),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writers[k % shards].write(example.SerializeToString())
    except BaseException:
        for wtr in writers:
            wtr.close()
        for p in paths:
            Path(str(p) + ".tmp").unlink(missing_ok=True)
        raise
    for wtr in writers:
        wtr.close()
    for p in paths:
        Path(str(p) + ".tmp").replace(p)
    return paths


def read_tfrecords(paths: str | Path | Sequence[str | Path]) -> tf.data.Dataset:
    """Read shards written by :func:`write_tfrecords` (a folder or file paths).

    Yields dicts ``{"id", "split", "image" uint8 (H, W, 3), "mask" uint8 (H, W)}``.
    """
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        files = sorted(str(p) for p in Path(paths).glob("*.tfrecord"))
    elif isinstance(paths, (str, Path)):
        files = [str(paths)]
    else:
        files = [str(p) for p in paths]
    if not files:
        raise DataError(f"no .tfrecord files in {paths}")
    spec = {k: tf.io.FixedLenFeature([], tf.string) for k in ("id", "split", "image", "mask")}

    def parse(record: Any) -> dict[str, Any]:
        ex = tf.io.parse_single_example(record, spec)
        return {
            "id": ex["id"],
            "split": ex["split"],
            "image": tf.io.decode_png(ex["image"], channels=3),
            "mask": tf.io.decode_png(ex["mask"], channels=1)[..., 0],
        }

    return tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE)


def _returning(value: np.ndarray) -> Callable[[], np.ndarray]:
    """A loader that returns ``value`` (already decoded)."""
    return lambda: value


def samples_from_tfrecords(paths: str | Path | Sequence[str | Path]) -> list[Sample]:
    """Samples of shards written by :func:`write_tfrecords` (decoded into memory once),
    with the split each record carries (``""`` = unassigned)."""
    samples = []
    for rec in read_tfrecords(paths).as_numpy_iterator():
        image, mask = rec["image"], rec["mask"]
        split = rec["split"].decode() or None
        samples.append(
            Sample(
                rec["id"].decode(),
                _returning(image),
                _returning(mask),
                split if split in SPLITS else None,
            )
        )
    if not samples:
        raise DataError(f"no records in {paths}")
    return samples


def dataset_stats(cached_masks: np.ndarray, num_classes: int) -> dict[str, Any]:
    """Pixel share of each class and the ignored share, as plain types."""
    counts = value_counts(cached_masks)
    total = max(int(counts.sum()), 1)
    return {
        "class_pixels": [int(c) for c in counts[:num_classes]],
        "class_share": [float(c / total) for c in counts[:num_classes]],
        "ignored_share": float(counts[IGNORE] / total),
    }
