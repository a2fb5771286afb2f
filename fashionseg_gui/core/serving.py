"""Serving: load a run's model, the in-graph label functions and the SavedModel export.

``make_serving_function`` is the inference graph of both the exported SavedModel and the
in-app :class:`core.predict.Predictor` (``make_label_function``), so both give the same
class ids. TensorFlow and Keras are imported inside the functions that need them, so
importing this module stays light.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashionseg_gui.core import runs as R
from fashionseg_gui.core.atomic import atomic_write_bytes
from fashionseg_gui.core.train_config import UPSAMPLING, TrainConfig, TrainError

if TYPE_CHECKING:
    import keras

#: Words of Keras' safe-mode refusals (a Lambda layer or other code in a ``.keras`` file).
_SAFE_MODE_WORDS = ("safe_mode", "arbitrary code", "unsafe_deserialization")


def load_model_file(path: str | Path) -> keras.Model:
    """``keras.saving.load_model(path, compile=False)`` in safe mode, with errors worded.

    Raises
    ------
    TrainError
        "this model file contains code and was not loaded" when Keras' safe mode refuses
        it (a Lambda layer or another serialised function); "cannot load" for a file that
        is not a readable Keras model.
    """
    import keras

    path = Path(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if any(word in text for word in _SAFE_MODE_WORDS):
            raise TrainError(
                f"{path}: this model file contains code and was not loaded "
                "(Keras safe mode); only use model files you trust"
            ) from exc
        raise TrainError(
            f"cannot load the model {path}: {text.splitlines()[0] if text else exc}"
        ) from exc
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise TrainError(f"cannot load the model {path}: {exc}") from exc


def load_run(run_dir: str | Path, which: str = "best") -> tuple[keras.Model, dict[str, Any]]:
    """Load ``checkpoints/<which>.keras`` and the run's ``metrics.json``/``config.json``.

    Returns
    -------
    model : keras.Model
    info : dict
        ``num_classes``, ``input_height``, ``input_width``, ``multiple``, ``class_names``,
        ``upsampling`` (the run's; a run saved before the setting existed: the default).
    """
    run = Path(run_dir)
    ckpt = run / "checkpoints" / f"{which}.keras"
    if not ckpt.is_file():
        raise TrainError(f"no trained model in {run} (missing checkpoints/{which}.keras)")
    try:
        raw = json.loads((run / "config.json").read_text("utf-8"))
        if isinstance(raw, dict):
            raw.setdefault("stem_stride", 1)  # runs written before the stem existed had none
        cfg = TrainConfig.from_dict(raw)
    except (OSError, ValueError, TypeError, TrainError) as exc:
        raise TrainError(f"cannot read {run / 'config.json'}: {exc}") from exc
    model = load_model_file(ckpt)
    info: dict[str, Any] = {
        "input_height": cfg.input_height,
        "input_width": cfg.input_width,
        "multiple": cfg.multiple,
        "num_classes": int(model.output_shape[-1]),
        "upsampling": cfg.upsampling,
    }
    names = (R.read_run(run) or {}).get("class_names")
    info["class_names"] = [str(n) for n in names] if isinstance(names, list) else None
    return model, info


def make_serving_function(
    model: keras.Model, target_hw: tuple[int, int], multiple: int, upsampling: str = "guided"
) -> Callable[[Any], dict[str, Any]]:
    """The inference graph of the SavedModel (the Predictor's gives the same class ids).

    Takes a uint8 batch ``(N, H, W, 3)`` of any size; letterboxes it in-graph, runs the
    model, crops the padding, brings the probabilities back to ``(H, W)`` (``upsampling``:
    see :func:`full_size_outputs`) and returns ``{"class_ids": uint8 (N, H, W),
    "probabilities": float32 (N, H, W, C)}``.
    """

    def serve(images: Any) -> dict[str, Any]:
        class_ids, probs = full_size_outputs(
            model, images, target_hw, multiple, "serve", upsampling
        )
        return {"class_ids": class_ids, "probabilities": probs}

    return serve


def make_label_function(
    model: keras.Model, target_hw: tuple[int, int], multiple: int, upsampling: str = "guided"
) -> Callable[[Any], dict[str, Any]]:
    """Like :func:`make_serving_function` (same class ids) but returns the confidence.

    Returns ``{"class_ids": uint8 (N, H, W), "confidence": float32 (N, H, W)}``, the
    probability of the predicted class (with guided upsampling the network's top
    probability, resized), so the full probability stack never leaves the graph.
    """

    def label(images: Any) -> dict[str, Any]:
        class_ids, confidence = full_size_outputs(
            model, images, target_hw, multiple, "label", upsampling
        )
        return {"class_ids": class_ids, "confidence": confidence}

    return label


# --- the full-size head --------------------------------------------------------------------
# Resizing the probabilities to the photo's size and reducing them over the classes is a
# third of a prediction when done as separate TensorFlow kernels (the resize writes a
# full-size stack of C channels that the arg-max, max and entropy each read again). The head
# below does it in one XLA-compiled function that reads the network's output and writes only
# what is asked for. XLA compiles once per shape, so the full-size canvas is padded to a
# multiple of ``_BUCKET`` pixels each way and cropped after: photos of similar size share one
# compilation (CCP's 43 sizes of 550 x 813-834 share two).
_BUCKET = 64

#: What each head returns, in order.
HEAD_OUTPUTS = {
    "serve": ("class_ids", "probabilities"),
    "label": ("class_ids", "confidence"),
    "scored": ("class_ids", "confidence", "entropy"),
}


def resize_taps(extent: Any, limit: Any, out_size: Any, padded: Any) -> tuple[Any, Any, Any]:
    """The source rows (or columns) of a bilinear resize for each output.

    Half-pixel centres, as TensorFlow 2's ``tf.image.resize``: ``extent`` source pixels
    (a float: a network's output can end inside a pixel) span ``out_size`` outputs; output
    ``i`` reads sources ``lo[i]`` and ``hi[i]`` (clamped to ``[0, limit)``) and weighs ``hi``
    by ``lerp[i]``. ``padded`` (>= ``out_size``) outputs are returned; the ones past
    ``out_size`` read valid sources and are cropped by the caller.
    """
    import tensorflow as tf

    scale = tf.cast(extent, tf.float32) / tf.cast(out_size, tf.float32)
    source = (tf.range(padded, dtype=tf.float32) + 0.5) * scale - 0.5
    floor = tf.floor(source)
    below = tf.cast(floor, tf.int32)
    lo = tf.clip_by_value(below, 0, limit - 1)
    hi = tf.clip_by_value(below + 1, 0, limit - 1)
    return lo, hi, source - floor


def _interpolate(probs: Any, y0: Any, y1: Any, wy: Any, x0: Any, x1: Any, wx: Any) -> Any:
    """Bilinear resize of ``(N, h, w, C)`` by gathered taps, in TensorFlow's order of
    operations (each row pair along x first, then along y)."""
    import tensorflow as tf

    def along_x(rows: Any) -> Any:
        left, right = tf.gather(rows, x0, axis=2), tf.gather(rows, x1, axis=2)
        return left + (right - left) * wx[None, None, :, None]

    top = along_x(tf.gather(probs, y0, axis=1))
    bottom = along_x(tf.gather(probs, y1, axis=1))
    return top + (bottom - top) * wy[None, :, None, None]


def _head(kind: str, from_logits: bool, values: Any, *taps: Any) -> tuple[Any, ...]:
    probs = _softmax(values) if from_logits else values
    full = _interpolate(probs, *taps)
    if kind == "serve":
        return _top_class(full)[0], full
    ids, confidence = _top_class(full)
    if kind == "label":
        return ids, confidence
    # The entropy of the network's own distributions, resized like them. The entropy of
    # the resized probabilities would call every class boundary uncertain (between two
    # confident pixels of different classes the mix is 50/50), and its logarithms of the
    # full-size stack took 7 of a 31 ms prediction; this takes under 1 ms.
    entropy = _interpolate(_entropy(probs)[..., None], *taps)[..., 0]
    return ids, confidence, entropy


def _softmax(logits: Any) -> Any:
    """Soft-max over the classes in float32, as the model's float32 ``Softmax`` layer."""
    import tensorflow as tf

    return tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)


@functools.cache
def _head_xla(kind: str, from_logits: bool = False) -> Callable[..., tuple[Any, ...]]:
    import tensorflow as tf

    return tf.function(
        functools.partial(_head, kind, from_logits), jit_compile=True, reduce_retracing=True
    )


# --- edge-aware upsampling: a fast guided filter ---------------------------------------------
# The network sees the photo at a quarter (or less) of its pixels and its probabilities are
# blurred edges once resized: a garment's border falls where the bilinear mix of two classes
# crosses, up to a few photo pixels off. He & Sun's fast guided filter (2015) fits, around
# each network pixel, each class's probability as a linear function of the photo's grey
# level (q = a * I + b over a (2r+1)^2 window); the coefficients are smoothed, resized and
# applied to the full-size photo, so a class boundary moves to the photo's own edge.
# Measured on a hold-out carved from CCP 0001-0800 (photos 0721-0800; 10-minute runs on the
# other 720, 2-core Zen 4, 2026-12-02), bilinear -> guided, in the app's Predictor: the
# budget's width-16 network 0.684 -> 0.696, the default width-32 one 0.663 -> 0.671, every
# class better in both, +3-4 ms a photo. Radius 2: 0.694, 3: 0.685; eps 1e-2 / 1e-4 (radius
# 2): 0.693 / 0.694 (the width-16 network).

#: Guided-filter window radius, in network pixels, and regularisation (grey levels in [0, 1]).
GUIDE_RADIUS = 1
GUIDE_EPS = 1e-3


def _box_mean(x: Any, valid: Any) -> Any:
    """Mean of ``x`` over each pixel's window, counting only ``valid`` pixels (the photo,
    not the letterbox's padding)."""
    import tensorflow as tf

    size = 2 * GUIDE_RADIUS + 1
    count = tf.nn.avg_pool2d(valid, size, 1, "SAME")
    return tf.nn.avg_pool2d(x * valid, size, 1, "SAME") / tf.maximum(count, 1e-6)


def _guided_coefficients(probs: Any, guide: Any, valid: Any) -> tuple[Any, Any]:
    """The smoothed linear coefficients ``(a, b)``, ``(N, h, w, C)`` each, of the guided
    filter of ``probs`` by ``guide`` ``(N, h, w, 1)`` at the network's resolution."""
    mean_i = _box_mean(guide, valid)
    mean_p = _box_mean(probs, valid)
    cov = _box_mean(guide * probs, valid) - mean_i * mean_p
    var = _box_mean(guide * guide, valid) - mean_i * mean_i
    a = cov / (var + GUIDE_EPS)
    b = mean_p - a * mean_i
    return _box_mean(a, valid), _box_mean(b, valid)


def _grey(photos: Any) -> Any:
    """Grey level in [0, 1] ``(..., 1)`` of uint8 or float RGB (0-255) photos."""
    import tensorflow as tf

    return tf.reduce_mean(tf.cast(photos, tf.float32), axis=-1, keepdims=True) / 255.0


def _guided_stack(
    from_logits: bool, values: Any, guide: Any, valid: Any, photo: Any, *taps: Any
) -> Any:
    """The guided filter's full-size output ``(N, H', W', C)``, not yet clipped."""
    import tensorflow as tf

    grey = _grey(photo)
    probs = _softmax(values) if from_logits else values
    a, b = _guided_coefficients(probs, guide, valid)
    both = _interpolate(tf.concat([a, b], axis=-1), *taps)
    c = tf.shape(a)[-1]
    return both[..., :c] * grey + both[..., c:]


def _guided_ids(from_logits: bool, *guided: Any) -> Any:
    """Class ids (uint8 ``(N, H', W')``) of the guided filter's full-size output: the
    arg-max fused with :func:`_guided_stack` (XLA resizes the two coefficient stacks in one
    pass that feeds only the arg-max; further reductions of the same output, or two
    resizes, made it recompute the taps: 3-10x slower)."""
    import tensorflow as tf

    return tf.cast(tf.argmax(_guided_stack(from_logits, *guided), axis=-1), tf.uint8)


def _normalised(_from_logits: bool, q: Any) -> tuple[Any, Any]:
    """Class ids and probabilities (clipped at 0, normalised) of a guided output ``q``.

    A separate XLA function from :func:`_guided_stack`: fused with it, XLA computed the
    resize again for the clip and for the sum (30-38 ms a photo instead of 10)."""
    import tensorflow as tf

    q = tf.maximum(q, 0.0)
    q = q / tf.maximum(tf.reduce_sum(q, axis=-1, keepdims=True), 1e-6)
    return tf.cast(tf.argmax(q, axis=-1), tf.uint8), q


def _network_confidence(kind: str, from_logits: bool, values: Any, *taps: Any) -> tuple[Any, ...]:
    """The network's top probability (and for ``"scored"`` its normalised entropy) at its
    own resolution, resized bilinearly: the confidence that goes with guided class ids."""
    probs = _softmax(values) if from_logits else values
    top = _interpolate(_top_class(probs)[1][..., None], *taps)[..., 0]
    if kind == "label":
        return (top,)
    return top, _interpolate(_entropy(probs)[..., None], *taps)[..., 0]


@functools.cache
def _guided_xla(part: str, from_logits: bool) -> Callable[..., Any]:
    import tensorflow as tf

    parts: dict[str, Callable[..., Any]] = {
        "ids": _guided_ids,
        "stack": _guided_stack,
        "normalise": _normalised,
        "label": functools.partial(_network_confidence, "label"),
        "scored": functools.partial(_network_confidence, "scored"),
    }
    return tf.function(
        functools.partial(parts[part], from_logits), jit_compile=True, reduce_retracing=True
    )


def guided_outputs(
    values: Any,
    letterboxed: Any,
    images: Any,
    scaled: Any,
    kind: str,
    stride: int = 1,
    from_logits: bool = False,
) -> tuple[Any, ...]:
    """The outputs of :data:`HEAD_OUTPUTS` ``[kind]`` with guided-filter upsampling.

    ``values`` ``(N, h, w, C)``: the network's probabilities (logits with
    ``from_logits``) of the float32 ``letterboxed`` photos (``scaled`` ``[sh, sw]`` of
    their pixels hold the photo, at the top left); ``images``: the uint8 photos. The class
    ids are the arg-max of the guided filter of the probabilities (guide: the photo's
    grey level, averaged to the network's resolution there, the full-size photo's after);
    "serve" returns its probabilities too, clipped at 0 and normalised; "label" and
    "scored" return the network's own top probability (and entropy), resized bilinearly,
    as with bilinear upsampling.
    """
    import tensorflow as tf

    hw, limit, padded, taps = _full_size_taps(scaled, tf.shape(images)[1:3], stride)
    h, w = tf.shape(values)[1], tf.shape(values)[2]
    grey = _grey(letterboxed)
    if stride > 1:
        grey = tf.nn.avg_pool2d(grey, stride, stride, "VALID")
    guide = grey[:, :h, :w]
    rows = tf.range(h)[:, None] < limit[0]
    cols = tf.range(w)[None, :] < limit[1]
    valid = tf.cast(tf.logical_and(rows, cols), tf.float32)[None, :, :, None]
    # the photo itself (uint8, padded to the bucketed canvas): the head takes its grey level
    photo = tf.pad(images, [[0, 0], [0, padded[0] - hw[0]], [0, padded[1] - hw[1]], [0, 0]])
    guided = (values, guide, valid, photo, *taps)
    if kind == "serve":
        stack = _guided_xla("stack", from_logits)(*guided)
        served = _guided_xla("normalise", from_logits)(stack)
        return tuple(out[:, : hw[0], : hw[1]] for out in served)
    ids = _guided_xla("ids", from_logits)(*guided)
    rest = _guided_xla(kind, from_logits)(values, *taps)
    return tuple(out[:, : hw[0], : hw[1]] for out in (ids, *rest))


def full_size_outputs(
    model: keras.Model,
    images: Any,
    target_hw: tuple[int, int],
    multiple: int,
    kind: str,
    upsampling: str = "guided",
) -> tuple[Any, ...]:
    """Letterbox ``images`` (uint8 ``(N, H, W, 3)``), run ``model`` and return the
    full-size outputs of :data:`HEAD_OUTPUTS` ``[kind]``: the class ids (uint8), and the
    probabilities, the top probability or the top probability and the normalised entropy
    (of the network's probabilities at its own resolution, resized bilinearly like them).

    ``upsampling`` says how the network's probabilities reach the photo's size:
    ``"bilinear"`` resizes them and takes the arg-max; ``"guided"`` (the default) follows
    the photo's edges with a fast guided filter (:func:`guided_outputs`). A network with a
    strided stem computes its probabilities at 1/stride of the letterbox; they are
    resized here to the photo's size in one step (one resize, not two: 1.4 ms less per
    photo, the same mIoU on CCP 0801-0880, 99.93 % of the pixels the same class).
    """
    if kind not in HEAD_OUTPUTS:
        raise ValueError(f"kind must be one of {sorted(HEAD_OUTPUTS)}; got {kind!r}")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"upsampling must be one of {UPSAMPLING}; got {upsampling!r}")
    network, stride, from_logits = network_part(model, target_hw, multiple)
    return head_part(network(images), images, kind, upsampling, stride, from_logits)


def network_part(
    model: keras.Model, target_hw: tuple[int, int], multiple: int
) -> tuple[Callable[[Any], tuple[Any, Any, Any]], int, bool]:
    """The part of :func:`full_size_outputs` that holds the weights: ``(fn, stride,
    from_logits)``, ``fn(images)`` -> ``(values, letterboxed, scaled)`` (the network's
    float32 output, the float32 letterboxed photos, the photo's extent in them)."""
    import tensorflow as tf

    from fashionseg_gui.core import data as D
    from fashionseg_gui.core.model import inference_view

    # shares the model's layers and weights; ends at the logits where the head can soft-max
    network, stride, from_logits = inference_view(model)

    def run(images: Any) -> tuple[Any, Any, Any]:
        x, scaled = D.letterbox_graph(images, target_hw, multiple)
        values = network(x, training=False)
        if not from_logits:
            values = tf.cast(values, tf.float32)
        return values, x, scaled

    return run, stride, from_logits


def head_part(
    network_out: tuple[Any, Any, Any],
    images: Any,
    kind: str,
    upsampling: str,
    stride: int,
    from_logits: bool,
) -> tuple[Any, ...]:
    """The rest of :func:`full_size_outputs` (no weights): the outputs of
    :data:`HEAD_OUTPUTS` ``[kind]`` from what :func:`network_part`'s function returned."""
    import tensorflow as tf

    values, x, scaled = network_out
    hw = tf.shape(images)[1:3]
    if upsampling == "bilinear":
        return resize_and_reduce(values, scaled, hw, kind, stride, from_logits)
    return guided_outputs(values, x, images, scaled, kind, stride, from_logits)


def resize_and_reduce(
    probs: Any, scaled: Any, hw: Any, kind: str, stride: int = 1, from_logits: bool = False
) -> tuple[Any, ...]:
    """The head of :func:`full_size_outputs`.

    ``probs`` ``(N, h, w, C)`` holds the photo in its top-left ``scaled / stride`` pixels
    (``scaled`` ``[sh, sw]`` letterbox pixels, the network's output at 1/``stride`` of
    them); that part is resized bilinearly to ``hw`` ``[H, W]`` and reduced over the
    classes. With ``stride`` 1 this is ``tf.image.resize`` of ``probs[:, :sh, :sw]``
    followed by the arg-max and the max; the entropy is ``tf.image.resize`` of the
    entropy of ``probs[:, :sh, :sw]``. With ``from_logits`` ``probs`` holds logits (any
    float type), soft-maxed first in float32.
    """
    hw, _limit, _padded, taps = _full_size_taps(scaled, hw, stride)
    return tuple(out[:, : hw[0], : hw[1]] for out in _head_xla(kind, from_logits)(probs, *taps))


def _full_size_taps(scaled: Any, hw: Any, stride: int) -> tuple[Any, Any, Any, tuple[Any, ...]]:
    """``(hw, limit, padded, taps)``: the photo's size (int32), the network pixels that hold
    the photo (``ceil(scaled / stride)``), the bucketed full-size canvas and the bilinear
    taps (:func:`resize_taps`) of rows then columns."""
    import tensorflow as tf

    hw = tf.cast(hw, tf.int32)
    extent = tf.cast(scaled, tf.float32) / float(stride)
    limit = tf.cast(tf.math.ceil(extent), tf.int32)
    padded = -(-hw // _BUCKET) * _BUCKET
    taps = (
        *resize_taps(extent[0], limit[0], hw[0], padded[0]),
        *resize_taps(extent[1], limit[1], hw[1], padded[1]),
    )
    return hw, limit, padded, taps


def _top_class(probs: Any) -> tuple[Any, Any]:
    """Class ids (uint8 arg-max, the first of ties) and top probability of ``(..., C)``."""
    import tensorflow as tf

    return tf.cast(tf.argmax(probs, axis=-1), tf.uint8), tf.reduce_max(probs, axis=-1)


def _entropy(probs: Any) -> Any:
    """Normalised entropy over the last axis (``core.scores.pixel_entropy``), float32."""
    import tensorflow as tf

    # the number of classes from the tensor itself: a function traced again for another
    # shape may no longer know it statically
    log_c = tf.math.log(tf.cast(tf.maximum(tf.shape(probs)[-1], 2), probs.dtype))
    plogp = probs * tf.math.log(tf.clip_by_value(probs, 1e-12, 1.0))
    return tf.clip_by_value(-tf.reduce_sum(plogp, axis=-1) / log_c, 0.0, 1.0)


def freeze(concrete: Any) -> Callable[[Any], Any] | None:
    """``concrete`` (a traced inference function) with its weights as graph constants.

    With constant weights oneDNN converts each convolution's kernel to its blocked (and
    bfloat16) layout once instead of at every call: 2.7 ms less per photo. Returns a
    function of the images with the same outputs, or None where TensorFlow cannot convert.
    """
    import tensorflow as tf

    from fashionseg_gui.core import gcpause

    try:
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )

        # The conversion walks the graph's protobuf messages; a cyclic collection run by
        # another thread meanwhile crashed the process (see core.gcpause).
        with gcpause.paused():
            frozen = convert_variables_to_constants_v2(concrete)
    except (ImportError, ValueError):  # an API move in a future TensorFlow
        return None
    structure = concrete.structured_outputs

    def call(images: Any) -> Any:
        return tf.nest.pack_sequence_as(structure, frozen(tf.convert_to_tensor(images)))

    return call


def export_saved_model(
    run_dir_or_model: str | Path | keras.Model,
    out_dir: str | Path,
    num_classes: int | None = None,
    target_hw: tuple[int, int] | None = None,
    multiple: int | None = None,
    class_names: list[str] | None = None,
    upsampling: str | None = None,
) -> Path:
    """Export a SavedModel whose ``serving_default`` takes a uint8 batch of any size.

    Parameters
    ----------
    run_dir_or_model : path or keras.Model
        A run folder (its best checkpoint) or a model.
    out_dir : path
        Destination folder (must not exist or be empty).
    num_classes : int, optional
        Checked against the model's output when given.
    target_hw, multiple : optional
        Letterbox geometry; default from the run's config (required for a bare model).
    class_names : list of str, optional
        Written to ``fashionseg.json`` beside the model; default the run's class names.
    upsampling : str, optional
        ``"guided"`` or ``"bilinear"`` (:func:`full_size_outputs`); default the run's
        setting (``"guided"`` for a bare model).

    Returns
    -------
    Path
        ``out_dir``. Load it with ``tf.saved_model.load(out_dir).serve(images)`` or the
        ``serving_default`` signature: ``{"class_ids", "probabilities"}``; ``.label(images)``
        or the ``label`` signature: ``{"class_ids", "confidence"}`` (the same class ids,
        without writing the full-size probability stack: the in-app Predictor's graph,
        less its entropy).
    """
    import keras
    import tensorflow as tf

    from fashionseg_gui.core import model as M

    names = None if class_names is None else [str(n) for n in class_names]
    if isinstance(run_dir_or_model, keras.Model):
        model = run_dir_or_model
        if target_hw is None or multiple is None:
            raise TrainError("exporting a bare model needs target_hw and multiple")
    else:
        model, info = load_run(run_dir_or_model)
        target_hw = target_hw or (info["input_height"], info["input_width"])
        multiple = multiple or info["multiple"]
        names = names or info.get("class_names")
        upsampling = upsampling or info["upsampling"]
    upsampling = upsampling or UPSAMPLING[0]
    if upsampling not in UPSAMPLING:
        raise TrainError(f"upsampling must be one of {', '.join(UPSAMPLING)} (got {upsampling!r})")
    if num_classes is not None and int(model.output_shape[-1]) != int(num_classes):
        raise TrainError(
            f"the model predicts {model.output_shape[-1]} classes, the project has "
            f"{num_classes}: retrain after changing classes"
        )
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise TrainError(f"export folder {out} is not empty")
    model = M.inference_model(model)  # the inference graph the Predictor runs too
    spec = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    # The weights as graph constants, as the Predictor runs them (oneDNN lays each kernel
    # out once, not at every call): the network is frozen once and both signatures call
    # it (each freezing its own copy doubled the export's size and added 170 MB to its
    # peak memory for the default network). A Keras export archive (variables) where
    # TensorFlow cannot freeze the graph.
    run, stride, from_logits = network_part(model, target_hw, int(multiple))
    frozen = freeze(tf.function(run, input_signature=[spec]).get_concrete_function())
    network = run if frozen is None else frozen

    def endpoint(kind: str) -> Callable[[Any], dict[str, Any]]:
        def outputs(images: Any) -> dict[str, Any]:
            found = head_part(network(images), images, kind, upsampling, stride, from_logits)
            return dict(zip(HEAD_OUTPUTS[kind], found, strict=True))

        return outputs

    if frozen is not None:
        module = tf.Module()
        module.serve = tf.function(endpoint("serve"), input_signature=[spec])
        module.label = tf.function(endpoint("label"), input_signature=[spec])
        signatures = {"serving_default": module.serve, "label": module.label}
        tf.saved_model.save(module, str(tmp), signatures=signatures)
    else:
        archive = keras.export.ExportArchive()
        archive.track(model)
        for kind in ("serve", "label"):
            archive.add_endpoint(kind, endpoint(kind), input_signature=[spec])
        archive.write_out(str(tmp), verbose=False)
    atomic_write_bytes(
        tmp / "fashionseg.json",
        json.dumps(
            {
                "target_hw": list(target_hw),
                "multiple": int(multiple),
                "num_classes": int(model.output_shape[-1]),
                "class_names": names,
                "upsampling": upsampling,
            }
        ).encode(),
    )
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return out
