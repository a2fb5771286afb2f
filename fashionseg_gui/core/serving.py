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
from fashionseg_gui.core.train_config import TrainConfig, TrainError

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
        ``num_classes``, ``input_height``, ``input_width``, ``multiple``, ``class_names``.
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
    }
    names = (R.read_run(run) or {}).get("class_names")
    info["class_names"] = [str(n) for n in names] if isinstance(names, list) else None
    return model, info


def make_serving_function(
    model: keras.Model, target_hw: tuple[int, int], multiple: int
) -> Callable[[Any], dict[str, Any]]:
    """The inference graph used by the Predictor and the SavedModel.

    Takes a uint8 batch ``(N, H, W, 3)`` of any size; letterboxes it in-graph, runs the
    model, crops the padding, resizes the probabilities back to ``(H, W)`` (bilinear) and
    returns ``{"class_ids": uint8 (N, H, W), "probabilities": float32 (N, H, W, C)}``.
    """

    def serve(images: Any) -> dict[str, Any]:
        class_ids, probs = full_size_outputs(model, images, target_hw, multiple, "serve")
        return {"class_ids": class_ids, "probabilities": probs}

    return serve


def make_label_function(
    model: keras.Model, target_hw: tuple[int, int], multiple: int
) -> Callable[[Any], dict[str, Any]]:
    """Like :func:`make_serving_function` (same class ids) but returns the confidence.

    Returns ``{"class_ids": uint8 (N, H, W), "confidence": float32 (N, H, W)}``, the
    probability of the predicted class, so the full probability stack never leaves the graph.
    """

    def label(images: Any) -> dict[str, Any]:
        class_ids, confidence = full_size_outputs(model, images, target_hw, multiple, "label")
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


def full_size_outputs(
    model: keras.Model, images: Any, target_hw: tuple[int, int], multiple: int, kind: str
) -> tuple[Any, ...]:
    """Letterbox ``images`` (uint8 ``(N, H, W, 3)``), run ``model`` and return the
    full-size outputs of :data:`HEAD_OUTPUTS` ``[kind]``: the class ids (uint8, arg-max of
    the probabilities resized bilinearly to ``(H, W)``), and the probabilities, the top
    probability or the top probability and the normalised entropy (of the network's
    probabilities at its own resolution, resized bilinearly like them).

    A network with a strided stem computes its probabilities at 1/stride of the letterbox
    and resizes them to it; those low-resolution probabilities are resized here to the
    photo's size in one step instead (one resize, not two: 1.4 ms less per photo, the same
    mIoU on CCP 0801-0880, 99.93 % of the pixels the same class).
    """
    import tensorflow as tf

    from fashionseg_gui.core import data as D
    from fashionseg_gui.core.model import inference_view

    if kind not in HEAD_OUTPUTS:
        raise ValueError(f"kind must be one of {sorted(HEAD_OUTPUTS)}; got {kind!r}")
    # shares the model's layers and weights; ends at the logits where the head can soft-max
    network, stride, from_logits = inference_view(model)
    x, scaled = D.letterbox_graph(images, target_hw, multiple)
    values = network(x, training=False)
    if not from_logits:
        values = tf.cast(values, tf.float32)
    return resize_and_reduce(values, scaled, tf.shape(images)[1:3], kind, stride, from_logits)


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
    import tensorflow as tf

    hw = tf.cast(hw, tf.int32)
    extent = tf.cast(scaled, tf.float32) / float(stride)
    limit = tf.cast(tf.math.ceil(extent), tf.int32)
    padded = -(-hw // _BUCKET) * _BUCKET
    taps = (
        *resize_taps(extent[0], limit[0], hw[0], padded[0]),
        *resize_taps(extent[1], limit[1], hw[1], padded[1]),
    )
    return tuple(out[:, : hw[0], : hw[1]] for out in _head_xla(kind, from_logits)(probs, *taps))


def _top_class(probs: Any) -> tuple[Any, Any]:
    import tensorflow as tf

    """Class ids (uint8 arg-max, the first of ties) and top probability of ``(..., C)``."""
    return tf.cast(tf.argmax(probs, axis=-1), tf.uint8), tf.reduce_max(probs, axis=-1)


def _entropy(probs: Any) -> Any:
    """Normalised entropy over the last axis (``core.scores.pixel_entropy``), float32."""
    import tensorflow as tf

    # the number of classes from the tensor itself: a function traced again for another
    # shape may no longer know it statically
    log_c = tf.math.log(tf.cast(tf.maximum(tf.shape(probs)[-1], 2), probs.dtype))
    plogp = probs * tf.math.log(tf.clip_by_value(probs, 1e-12, 1.0))
    return tf.clip_by_value(-tf.reduce_sum(plogp, axis=-1) / log_c, 0.0, 1.0)


def freeze(concrete: Any) -> Callable[[Any], dict[str, Any]] | None:
    """``concrete`` (a traced inference function) with its weights as graph constants.

    With constant weights oneDNN converts each convolution's kernel to its blocked (and
    bfloat16) layout once instead of at every call: 2.7 ms less per photo. Returns a
    function of the images with the same outputs, or None where TensorFlow cannot convert.
    """
    import tensorflow as tf

    try:
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )

        frozen = convert_variables_to_constants_v2(concrete)
    except (ImportError, ValueError):  # an API move in a future TensorFlow
        return None
    structure = concrete.structured_outputs

    def call(images: Any) -> dict[str, Any]:
        return tf.nest.pack_sequence_as(structure, frozen(tf.convert_to_tensor(images)))

    return call


def export_saved_model(
    run_dir_or_model: str | Path | keras.Model,
    out_dir: str | Path,
    num_classes: int | None = None,
    target_hw: tuple[int, int] | None = None,
    multiple: int | None = None,
    class_names: list[str] | None = None,
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

    Returns
    -------
    Path
        ``out_dir``. Load it with ``tf.saved_model.load(out_dir).serve(images)`` or the
        ``serving_default`` signature: ``{"class_ids", "probabilities"}``.
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
    if num_classes is not None and int(model.output_shape[-1]) != int(num_classes):
        raise TrainError(
            f"the model predicts {model.output_shape[-1]} classes, the project has "
            f"{num_classes}: retrain after changing classes"
        )
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise TrainError(f"export folder {out} is not empty")
    model = M.inference_model(model)  # the inference graph the Predictor runs too
    serve = make_serving_function(model, target_hw, int(multiple))
    spec = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    # The weights as graph constants, as the Predictor runs them (oneDNN lays each kernel
    # out once, not at every call); a Keras export archive (variables) where TensorFlow
    # cannot freeze the graph.
    frozen = freeze(tf.function(serve, input_signature=[spec]).get_concrete_function())
    if frozen is not None:
        module = tf.Module()
        module.serve = tf.function(frozen, input_signature=[spec])
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
    else:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", serve, input_signature=[spec])
        archive.write_out(str(tmp), verbose=False)
    atomic_write_bytes(
        tmp / "fashionseg.json",
        json.dumps(
            {
                "target_hw": list(target_hw),
                "multiple": int(multiple),
                "num_classes": int(model.output_shape[-1]),
                "class_names": names,
            }
        ).encode(),
    )
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return out
