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
        probs = _full_size_probabilities(model, images, target_hw, multiple)
        class_ids, _ = _ids_and_confidence(probs)
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
        probs = _full_size_probabilities(model, images, target_hw, multiple)
        class_ids, confidence = _ids_and_confidence(probs)
        return {"class_ids": class_ids, "confidence": confidence}

    return label


def _class_ids_and_confidence_of_rows(rows: Any) -> tuple[Any, Any]:
    import tensorflow as tf

    return tf.cast(tf.argmax(rows, axis=-1), tf.uint8), tf.reduce_max(rows, axis=-1)


# Arg-max and max over the classes, fused by XLA into one pass: TF's own kernels take 7.6 ms
# for an 836x550x5 stack, this 1.9 ms. XLA compiles once per input shape (~50 ms), so the
# pixels go in as rows padded to a multiple of ``_ROWS``: photos of similar size share one
# compilation (CCP's 43 sizes of 550 x 820-834 share two).
@functools.cache
def _ids_and_confidence_xla() -> Callable[[Any], tuple[Any, Any]]:
    import tensorflow as tf

    return tf.function(_class_ids_and_confidence_of_rows, jit_compile=True, reduce_retracing=True)


_ROWS = 1 << 16


def _class_ids_confidence_and_entropy_of_rows(rows: Any) -> tuple[Any, Any, Any]:
    import math

    import tensorflow as tf

    ids, confidence = _class_ids_and_confidence_of_rows(rows)
    c = max(int(rows.shape[-1] or 2), 2)
    plogp = rows * tf.math.log(tf.clip_by_value(rows, 1e-12, 1.0))
    entropy = tf.clip_by_value(-tf.reduce_sum(plogp, axis=-1) / math.log(c), 0.0, 1.0)
    return ids, confidence, entropy


# The same, plus the normalised entropy (``core.scores.pixel_entropy``), in one fused pass:
# as separate TensorFlow kernels the entropy alone took 7.5-15 ms of a 40 ms prediction.
@functools.cache
def _scored_xla() -> Callable[[Any], tuple[Any, Any, Any]]:
    import tensorflow as tf

    return tf.function(
        _class_ids_confidence_and_entropy_of_rows, jit_compile=True, reduce_retracing=True
    )


def _rows_of(probs: Any) -> tuple[Any, Any, Any]:
    """``probs`` as rows of class probabilities padded to a multiple of ``_ROWS``, the
    number of real rows and the shape to give each per-pixel result back."""
    import tensorflow as tf

    shape = tf.shape(probs)
    rows = tf.reshape(probs, [-1, probs.shape[-1] or shape[-1]])
    n = tf.shape(rows)[0]
    rows = tf.pad(rows, [[0, tf.math.floormod(-n, _ROWS)], [0, 0]])
    return rows, n, shape[:-1]


def ids_confidence_and_entropy(probs: Any) -> tuple[Any, Any, Any]:
    """:func:`_ids_and_confidence` of an ``(N, H, W, C)`` probability stack, plus each
    pixel's normalised entropy (float32 in [0, 1]); the class ids are the same."""
    import tensorflow as tf

    rows, n, shape = _rows_of(probs)
    ids, confidence, entropy = _scored_xla()(rows)
    return (
        tf.reshape(ids[:n], shape),
        tf.reshape(confidence[:n], shape),
        tf.reshape(entropy[:n], shape),
    )


def _ids_and_confidence(probs: Any) -> tuple[Any, Any]:
    """``(class ids uint8, max probability)`` of an ``(N, H, W, C)`` probability stack.

    The Predictor and the SavedModel both call it, so their class ids agree exactly.
    """
    import tensorflow as tf

    rows, n, shape = _rows_of(probs)
    ids, confidence = _ids_and_confidence_xla()(rows)
    return tf.reshape(ids[:n], shape), tf.reshape(confidence[:n], shape)


def _full_size_probabilities(
    model: keras.Model, images: Any, target_hw: tuple[int, int], multiple: int
) -> Any:
    import tensorflow as tf

    from fashionseg_gui.core import data as D

    hw = tf.shape(images)[1:3]
    x, scaled = D.letterbox_graph(images, target_hw, multiple)
    probs = tf.cast(model(x, training=False), tf.float32)
    probs = probs[:, : scaled[0], : scaled[1], :]
    return tf.image.resize(probs, hw, method="bilinear")


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
    model = M.fold_batch_norm(model)  # the inference graph the Predictor runs too
    serve = make_serving_function(model, target_hw, int(multiple))
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve",
        serve,
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")],
    )
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
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
