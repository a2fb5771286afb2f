"""The U-Net, its losses and its segmentation metrics (Keras 3, backend-agnostic ``keras.ops``).

The model takes raw photos (uint8 or float, 0..255, channels last) and normalises them
inside (a ``Rescaling`` layer), so an exported model takes raw uint8 batches. It outputs
per-pixel class probabilities (float32 even under a mixed-precision dtype policy).

The label value ``IGNORE`` (255) marks pixels that are not labelled or that are letterbox
padding; losses and metrics exclude them.

Example
-------
>>> model = build_unet(num_classes=5, depth=2, base_width=8)
>>> model.compile(optimizer="adam", loss=SegmentationLoss(5), metrics=[PixelAccuracy(5)])
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from fashionseg_gui.core.confusion import (
    background_baseline_miou,
    confusion_matrix,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
)
from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.losses import (
    LOSS_KINDS,
    MeanIoU,
    PixelAccuracy,
    SegmentationLoss,
    check_int,
)

__all__ = [  # the numpy scores live in core/confusion.py (no TensorFlow needed there)
    "DECODERS",
    "IGNORE",
    "LOSS_KINDS",
    "LOW_RES_OUTPUT",
    "FusedBatchNormalization",
    "VerticalPosition",
    "MeanIoU",
    "PixelAccuracy",
    "SegmentationLoss",
    "SubPixelUpsampling",
    "background_baseline_miou",
    "build_unet",
    "confusion_matrix",
    "fold_batch_norm",
    "inference_model",
    "inference_view",
    "iou_per_class",
    "mean_iou",
    "model_flops",
    "pixel_accuracy",
    "subsample_labels",
    "training_view",
]

DECODERS = ("unet", "light")
LOW_RES_OUTPUT = "probabilities_low"


# ----------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="fashionseg")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` computed by one fused kernel on the TensorFlow backend.

    Keras 3's batch normalisation is backend-agnostic: it upcasts the activations to
    float32 and computes the moments, the normalisation and their gradients as separate
    element-wise passes over memory. On a CPU those passes cost more than the convolutions
    of a small U-Net (measured: half of a training step). TensorFlow's ``FusedBatchNormV3``
    (run by oneDNN on CPUs, cuDNN on GPUs) does it in one pass, in the layer's compute dtype
    (bfloat16 too). Same weights, same statistics (population variance, as Keras tracks
    it), same results up to rounding; other backends, masks and synchronised statistics
    use the parent's code.
    """

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if (
            mask is not None
            or self.synchronized
            or keras.backend.backend() != "tensorflow"
            or len(inputs.shape) != 4
            or self.axis not in (-1, 3)
        ):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        x = (
            inputs
            if inputs.dtype in (tf.float32, tf.bfloat16, tf.float16)
            else tf.cast(inputs, tf.float32)
        )
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
            )
            # the kernel returns the Bessel-corrected variance; Keras tracks the population one
            count = tf.cast(tf.size(x, out_type=tf.int64) // channels, tf.float32)
            variance = variance * (count - 1.0) / tf.maximum(count, 2.0)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x,
                gamma,
                beta,
                mean=tf.cast(self.moving_mean, tf.float32),
                variance=tf.cast(self.moving_variance, tf.float32),
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=False,
            )
        return tf.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="fashionseg")
class VerticalPosition(keras.layers.Layer):
    """Appends one channel: the row position of each pixel, from -1 (top) to 1 (bottom)."""

    def call(self, x: Any) -> Any:
        shape = ops.shape(x)
        h = shape[1]
        rows = ops.cast(ops.arange(h), x.dtype)
        rows = rows * (2.0 / ops.cast(ops.maximum(h - 1, 1), x.dtype)) - 1.0
        channel = ops.broadcast_to(ops.reshape(rows, (1, -1, 1, 1)), (shape[0], h, shape[2], 1))
        return ops.concatenate([x, channel], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        c = input_shape[-1]
        return (*input_shape[:-1], None if c is None else c + 1)


@keras.saving.register_keras_serializable(package="fashionseg")
class SubPixelUpsampling(keras.layers.Layer):
    """A 2x2, stride-2 transposed convolution computed as a 1x1 convolution to four times
    its filters and a depth-to-space shuffle (the same sums: output ``(2i + a, 2j + b)``
    is input ``(i, j)`` times kernel tap ``(a, b)``, plus the bias).

    :func:`inference_model` puts it in place of the decoder's transposed convolutions: on a
    CPU oneDNN runs a transposed convolution as a backward-data kernel with its bias added
    in a separate pass, and a 1x1 convolution as a matrix product with the bias fused.
    TensorFlow backend only (as :class:`FusedBatchNormalization`).
    """

    def __init__(self, filters: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(
            name="kernel", shape=(1, 1, int(input_shape[-1]), 4 * self.filters)
        )
        self.bias = self.add_weight(name="bias", shape=(4 * self.filters,), initializer="zeros")

    def call(self, x: Any) -> Any:
        import tensorflow as tf

        kernel = tf.cast(self.kernel, self.compute_dtype)
        y = tf.nn.conv2d(tf.cast(x, self.compute_dtype), kernel, 1, "VALID")
        y = tf.nn.bias_add(y, tf.cast(self.bias, self.compute_dtype))
        return tf.nn.depth_to_space(y, 2)

    def compute_output_shape(self, input_shape: Any) -> Any:
        n, h, w, _ = input_shape
        return (n, None if h is None else 2 * h, None if w is None else 2 * w, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters}

    @staticmethod
    def weights_from_transposed(kernel: np.ndarray, bias: np.ndarray | None) -> list[np.ndarray]:
        """This layer's weights from a ``Conv2DTranspose``'s ``(2, 2, out, in)`` kernel."""
        _, _, out, inp = kernel.shape
        # channel (a * 2 + b) * out + o of the 1x1 product is tap (a, b) of filter o
        k = np.transpose(np.asarray(kernel, np.float32), (3, 0, 1, 2)).reshape(1, 1, inp, 4 * out)
        b = np.zeros(out, np.float32) if bias is None else np.asarray(bias, np.float32)
        return [k, np.tile(b, 4)]


def build_unet(
    num_classes: int,
    input_shape: Sequence[int | None] = (None, None, 3),
    depth: int = 4,
    base_width: int = 16,
    batch_norm: bool = True,
    dropout: float = 0.0,
    name: str = "unet",
    dtype: str | keras.DTypePolicy | None = None,
    max_width: int = 256,
    stem_stride: int = 1,
    decoder: str = "unet",
    position_channel: bool = False,
) -> keras.Model:
    """Build a U-Net for semantic segmentation.

    Parameters
    ----------
    num_classes : int
        Number of classes including background (>= 2).
    input_shape : sequence of 3 ints or None
        ``(height, width, 3)``; ``None`` for any size. Fixed sizes must be multiples of
        ``stem_stride * 2**depth``.
    depth : int
        Number of 2x down-sampling steps (1..6) after the stem.
    base_width : int
        Filters of the first level; each level doubles them, up to ``max_width``.
    batch_norm : bool
        Batch normalisation after each convolution (the bias is dropped then).
    dropout : float
        Spatial dropout rate in the bottleneck (0 disables it).
    name : str
        Model name.
    dtype : str or keras.DTypePolicy, optional
        Layer dtype policy, e.g. ``"mixed_bfloat16"``; the output stays float32.
    max_width : int
        Cap on the number of filters of any level.
    stem_stride : int
        1: the first level runs at the input resolution. 2 or 4: a strided 3x3 stem
        convolution first reduces the resolution by this factor, the U-Net runs below it,
        and its probabilities are upsampled (bilinear) back to the input size. Much cheaper, and
        wider channels at lower resolution use the CPU's matrix units far better.
    decoder : str
        ``"unet"``: up-convolution, concatenation with the skip, two 3x3 convolutions per
        level. ``"light"``: up-convolution added to the skip, one 3x3 convolution per level
        (about a third of the decoder's cost).
    position_channel : bool
        Append a channel holding each pixel's row position (-1 at the top, 1 at the bottom of
        the letterboxed input) to the normalised photo, CoordConv-style: where a garment sits
        in the frame says what it is (upper body, lower body, feet).

    Returns
    -------
    keras.Model
        Functional model mapping ``(N, H, W, 3)`` photos to ``(N, H, W, num_classes)``
        probabilities.
    """
    # === Validation ===
    num_classes = check_int("num_classes", num_classes, 2, 254)
    depth = check_int("depth", depth, 1, 6)
    base_width = check_int("base_width", base_width, 1, 1024)
    max_width = check_int("max_width", max_width, base_width)
    stem_stride = check_int("stem_stride", stem_stride, 1, 4)
    if decoder not in DECODERS:
        raise ValueError(f"`decoder` must be one of {DECODERS}; received instead {decoder!r}")
    if stem_stride == 3:
        raise ValueError("`stem_stride` must be 1, 2 or 4; received instead 3")
    if not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"`dropout` must be a float in [0, 1); received instead {dropout!r}")
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, 3) with None for any size; received instead {shape}"
        )
    step = stem_stride * 2**depth
    for axis, size in zip(("height", "width"), shape[:2], strict=True):
        if size is not None and (int(size) <= 0 or int(size) % step):
            raise ValueError(
                f"input {axis} must be a positive multiple of 2**depth x stem_stride = {step}; "
                f"received {size}"
            )
    if keras.config.image_data_format() != "channels_last":
        raise ValueError("build_unet needs keras.config.image_data_format() == 'channels_last'")
    policy = dtype

    def conv_block(x: Any, filters: int, prefix: str, convs: int = 2) -> Any:
        for i in range(1, convs + 1):
            x = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=not batch_norm,
                kernel_initializer="he_normal",
                name=f"{prefix}_conv{i}",
                dtype=policy,
            )(x)
            if batch_norm:
                # momentum 0.9: running statistics settle within a few dozen steps, which
                # matters for the short CPU trainings this app runs
                x = FusedBatchNormalization(momentum=0.9, name=f"{prefix}_bn{i}", dtype=policy)(x)
            x = keras.layers.ReLU(name=f"{prefix}_relu{i}", dtype=policy)(x)
        return x

    widths = [min(base_width * 2**i, max_width) for i in range(depth + 1)]

    # === Functional Model ===
    inputs = keras.Input(shape=shape, name="image")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize", dtype=policy)(inputs)
    if position_channel:
        x = VerticalPosition(name="row_position", dtype=policy)(x)
    if stem_stride > 1:
        x = keras.layers.Conv2D(
            widths[0],
            3,
            strides=stem_stride,
            padding="same",
            use_bias=not batch_norm,
            kernel_initializer="he_normal",
            name="stem_conv",
            dtype=policy,
        )(x)
        if batch_norm:
            x = FusedBatchNormalization(momentum=0.9, name="stem_bn", dtype=policy)(x)
        x = keras.layers.ReLU(name="stem_relu", dtype=policy)(x)
    skips = []
    for level in range(depth):
        x = conv_block(x, widths[level], f"enc{level + 1}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"enc{level + 1}_pool", dtype=policy)(x)
    x = conv_block(x, widths[depth], "bottleneck")
    if dropout > 0:
        x = keras.layers.SpatialDropout2D(float(dropout), name="bottleneck_dropout", dtype=policy)(
            x
        )
    for level in reversed(range(depth)):
        prefix = f"dec{level + 1}"
        x = keras.layers.Conv2DTranspose(
            widths[level], 2, strides=2, name=f"{prefix}_up", dtype=policy
        )(x)
        if decoder == "light":
            x = keras.layers.Add(name=f"{prefix}_add", dtype=policy)([x, skips[level]])
            x = conv_block(x, widths[level], prefix, convs=1)
        else:
            x = keras.layers.Concatenate(name=f"{prefix}_concat", dtype=policy)([x, skips[level]])
            x = conv_block(x, widths[level], prefix)
    logits = keras.layers.Conv2D(num_classes, 1, name="logits", dtype=policy)(x)
    if stem_stride == 1:
        outputs = keras.layers.Softmax(name="probabilities", dtype="float32")(logits)
    else:
        # probabilities at the network's resolution, then resized (bilinear: each output
        # pixel is a convex mix of its neighbours' distributions, so it still sums to 1).
        # Training fits the low-resolution output (see `training_view`).
        low = keras.layers.Softmax(name=LOW_RES_OUTPUT, dtype="float32")(logits)
        outputs = keras.layers.UpSampling2D(
            stem_stride, interpolation="bilinear", name="probabilities", dtype="float32"
        )(low)
    return keras.Model(inputs, outputs, name=name)


def training_view(model: keras.Model) -> tuple[keras.Model, int]:
    """The model to fit and the label stride that matches its output.

    A U-Net with a strided stem computes its probabilities at 1/stride of the input size and
    resizes them. Fitting those low-resolution probabilities to every ``stride``-th label
    (the pixel nearest each output's centre) gives the same supervision for the network's
    weights without resizing, soft-maxing and scoring ``stride**2`` times as many pixels in
    every step. The view shares the model's layers and weights; validation and prediction
    use the full-resolution model.

    Returns ``(view, stride)``; ``(model, 1)`` for a model without a low-resolution output
    (no stem, or one saved before the output existed).
    """
    try:
        low = model.get_layer(LOW_RES_OUTPUT)
    except ValueError:
        return model, 1
    view = keras.Model(model.input, low.output, name=f"{model.name}_training")
    return view, int(model.get_layer("probabilities").size[0])


def inference_view(model: keras.Model) -> tuple[keras.Model, int, bool]:
    """The network for prediction: the model up to its logits where it can, and its stride.

    Like :func:`training_view`, but where the view's output is a plain soft-max of the
    ``logits`` layer the view stops before it, so the serving head can take the soft-max
    inside its one compiled function (a separate soft-max kernel cost about 1 ms of a
    prediction). Returns ``(view, stride, from_logits)``.
    """
    view, stride = training_view(model)
    try:
        logits = model.get_layer("logits")
        last = model.get_layer(LOW_RES_OUTPUT if stride > 1 else "probabilities")
    except ValueError:
        return view, stride, False
    plain = type(last) is keras.layers.Softmax and last.axis in (-1, 3)
    if not plain or last.input is not logits.output or view.output is not last.output:
        return view, stride, False
    return keras.Model(model.input, logits.output, name=f"{model.name}_logits"), stride, True


def subsample_labels(masks: Any, stride: int) -> Any:
    """Every ``stride``-th label of ``(N, H, W)`` masks, the one nearest each output's centre."""
    if stride == 1:
        return masks
    first = (stride - 1) // 2
    return masks[:, first::stride, first::stride]


def model_flops(model: keras.Model, height: int, width: int) -> float:
    """Forward-pass FLOPs (2 x multiply-adds) of the convolutions for one ``height x width`` photo.

    Parameters
    ----------
    model : keras.Model
        A model built by :func:`build_unet` (any conv net with ``Conv2D``/``Conv2DTranspose``).
    height, width : int
        Input size.

    Returns
    -------
    float
        FLOPs per photo (convolutions only; they dominate).
    """
    total = 0.0
    sub = keras.Model(
        model.inputs,
        [
            layer.output
            for layer in model.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))
        ],
    )
    shapes = sub.compute_output_shape((1, height, width, 3))
    convs = [
        layer
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))
    ]
    for layer, out_shape in zip(convs, shapes, strict=True):
        kh, kw, cin, cout = layer.kernel.shape
        if isinstance(layer, keras.layers.Conv2DTranspose):
            # kernel (kh, kw, cout, cin); each input pixel scatters kh*kw*cout values
            cin_t = cout
            in_px = (out_shape[1] // layer.strides[0]) * (out_shape[2] // layer.strides[1])
            total += 2.0 * in_px * kh * kw * cin * cin_t
        else:
            total += 2.0 * out_shape[1] * out_shape[2] * kh * kw * cin * cout
    return total


# ----------------------------------------------------------------------------------------
# Inference graph
# ----------------------------------------------------------------------------------------


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """A copy of a functional model with each ``Conv2D -> BatchNormalization`` pair folded.

    In inference the normalisation is an affine map per channel, so it merges into the
    convolution's kernel and bias: one layer instead of two (the normalisation's float32
    round trip at full feature-map size disappears). Layers keep their names; a model
    without such pairs is returned as a copy with the same weights.

    Parameters
    ----------
    model : keras.Model
        A functional model, e.g. from :func:`build_unet`.

    Returns
    -------
    keras.Model
        The folded model (same inputs and outputs, for inference only).
    """
    return _rebuild(model, *_fold_plan(model.get_config()))


#: Layer name -> the weights of the rebuilt layer, computed from the source model.
_Weights = dict[str, Any]


def _history(arg: Any) -> list[Any] | None:
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        return arg["config"]["keras_history"]
    return None


def _fold_plan(config: dict[str, Any]) -> tuple[dict[str, Any], _Weights]:
    """The functional config with each ``Conv2D -> BatchNormalization`` pair as one
    convolution, and how to compute the folded weights (see :func:`fold_batch_norm`)."""
    layers = {entry["config"]["name"]: entry for entry in config["layers"]}
    folds: dict[str, str] = {}  # batch-norm name -> conv name
    for name, entry in layers.items():
        if entry["class_name"] not in ("BatchNormalization", "FusedBatchNormalization"):
            continue
        nodes = entry.get("inbound_nodes") or []
        if len(nodes) != 1 or not nodes[0]["args"]:
            continue
        src = _history(nodes[0]["args"][0])
        if src is None or layers[src[0]]["class_name"] != "Conv2D":
            continue
        consumers = [
            e
            for e in config["layers"]
            for node in e.get("inbound_nodes") or []
            for a in node["args"]
            if (hist := _history(a)) and hist[0] == src[0]
        ]
        if len(consumers) == 1:  # the convolution feeds only this normalisation
            folds[name] = src[0]
    if not folds:
        return config, {}

    def rewire(value: Any) -> Any:
        if isinstance(value, dict):
            h = _history(value)
            if h is not None and h[0] in folds:
                value = {
                    **value,
                    "config": {**value["config"], "keras_history": [folds[h[0]], h[1], h[2]]},
                }
                return value
            return {k: rewire(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            kind = type(value)  # taken before the length check narrows it to a 3-tuple
            if len(value) == 3 and isinstance(value[0], str) and value[0] in folds:
                return kind([folds[value[0]], value[1], value[2]])
            return kind(rewire(v) for v in value)
        return value

    new_layers = []
    for entry in config["layers"]:
        if entry["config"]["name"] in folds:
            continue
        entry = rewire(entry)
        if entry["config"]["name"] in folds.values():
            entry = {**entry, "config": {**entry["config"], "use_bias": True}}
        new_layers.append(entry)
    new_config = {
        **config,
        "layers": new_layers,
        "input_layers": rewire(config["input_layers"]),
        "output_layers": rewire(config["output_layers"]),
    }

    def folded(model: keras.Model, conv_name: str, bn_name: str) -> list[np.ndarray]:
        source, bn = model.get_layer(conv_name), model.get_layer(bn_name)
        kernel = np.asarray(source.kernel, np.float32)
        bias = (
            np.asarray(source.bias, np.float32)
            if source.use_bias
            else np.zeros(kernel.shape[-1], np.float32)
        )
        gamma = np.asarray(bn.gamma, np.float32) if bn.scale else 1.0
        beta = np.asarray(bn.beta, np.float32) if bn.center else 0.0
        scale = gamma / np.sqrt(np.asarray(bn.moving_variance, np.float32) + bn.epsilon)
        mean = np.asarray(bn.moving_mean, np.float32)
        return [kernel * scale, (bias - mean) * scale + beta]

    weights = {
        conv: functools.partial(folded, conv_name=conv, bn_name=bn) for bn, conv in folds.items()
    }
    return new_config, weights


def subpixel_upsampling(model: keras.Model) -> keras.Model:
    """A copy of a functional model with each 2x2, stride-2 ``Conv2DTranspose`` (the
    decoder's up-convolutions) computed as a :class:`SubPixelUpsampling`: same outputs up
    to rounding, faster on a CPU. Layers keep their names; for inference."""
    return _rebuild(model, *_swap_plan(model.get_config()))


def _swap_plan(config: dict[str, Any]) -> tuple[dict[str, Any], _Weights]:
    """The functional config with the 2x2, stride-2 transposed convolutions as
    :class:`SubPixelUpsampling` layers, and how to compute their weights."""
    layers = []
    swapped = []
    for entry in config["layers"]:
        c = entry["config"]
        if (
            entry["class_name"] == "Conv2DTranspose"
            and tuple(c.get("kernel_size", ())) == (2, 2)
            and tuple(c.get("strides", ())) == (2, 2)
            and c.get("padding") == "valid"
            and c.get("output_padding") is None
            and c.get("data_format", "channels_last") == "channels_last"
            and tuple(c.get("dilation_rate", (1, 1))) == (1, 1)
            and c.get("activation") in ("linear", None)
            and c.get("groups", 1) == 1
        ):
            swapped.append(c["name"])
            entry = {
                **entry,
                "module": SubPixelUpsampling.__module__,
                "class_name": "SubPixelUpsampling",
                "registered_name": "fashionseg>SubPixelUpsampling",
                "config": {
                    "name": c["name"],
                    "trainable": c.get("trainable", True),
                    "dtype": c["dtype"],
                    "filters": c["filters"],
                },
            }
        layers.append(entry)

    def transposed(model: keras.Model, name: str) -> list[np.ndarray]:
        source = model.get_layer(name)
        bias = source.bias if source.use_bias else None
        return SubPixelUpsampling.weights_from_transposed(np.asarray(source.kernel), bias)

    weights = {name: functools.partial(transposed, name=name) for name in swapped}
    return {**config, "layers": layers}, weights


def inference_model(model: keras.Model) -> keras.Model:
    """The graph to predict with: batch normalisation folded into the convolutions
    (:func:`fold_batch_norm`) and the up-convolutions as 1x1 products
    (:func:`subpixel_upsampling`), in one rebuild. Same outputs up to rounding; inference
    only."""
    config, folded = _fold_plan(model.get_config())
    config, swapped = _swap_plan(config)  # a folded layer is a Conv2D, never swapped
    return _rebuild(model, config, {**folded, **swapped})


def _rebuild(model: keras.Model, config: dict[str, Any], weights: _Weights) -> keras.Model:
    """A model built from ``config``; each layer's weights from ``weights[name](model)``,
    else the same-named layer's of ``model``."""
    rebuilt = keras.Model.from_config(config)
    for layer in rebuilt.layers:
        if not layer.weights:
            continue
        make = weights.get(layer.name)
        layer.set_weights(make(model) if make else model.get_layer(layer.name).get_weights())
    return rebuilt
