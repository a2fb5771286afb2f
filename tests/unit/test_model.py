"""core.model: U-Net construction, losses that ignore 255, segmentation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from fashionseg_gui.core import model as M


def test_unet_shapes_names_and_dtypes() -> None:
    model = M.build_unet(4, (32, 48, 3), depth=2, base_width=4)
    x = np.random.default_rng(0).integers(0, 256, (2, 32, 48, 3)).astype(np.uint8)
    y = np.asarray(model(x.astype(np.float32)))
    assert y.shape == (2, 32, 48, 4)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)
    names = {layer.name for layer in model.layers}
    assert {
        "normalize",
        "enc1_conv1",
        "enc2_pool",
        "bottleneck_conv2",
        "dec1_up",
        "logits",
        "probabilities",
    } <= names
    any_size = M.build_unet(3, depth=2, base_width=4, batch_norm=False, dropout=0.2)
    assert any_size(np.zeros((1, 20, 12, 3), np.float32)).shape == (1, 20, 12, 3)


def test_unet_mixed_bfloat16_outputs_float32() -> None:
    model = M.build_unet(3, depth=2, base_width=4, dtype="mixed_bfloat16")
    out = model(np.zeros((1, 16, 16, 3), np.float32))
    assert "float32" in str(out.dtype)
    assert model.get_layer("enc1_conv1").compute_dtype == "bfloat16"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 3, "depth": 0}, "depth"),
        ({"num_classes": 3, "base_width": 2.5}, "base_width"),
        ({"num_classes": 3, "dropout": 1.0}, "dropout"),
        ({"num_classes": 3, "input_shape": (30, 32, 3), "depth": 2}, "multiple of 2\\*\\*depth"),
        ({"num_classes": 3, "input_shape": (32, 32)}, "input_shape"),
    ],
)
def test_unet_validates_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        M.build_unet(**kwargs)


def test_model_flops_counts_convolutions() -> None:
    model = M.build_unet(2, depth=1, base_width=4, batch_norm=False)
    # enc1: 3->4, 4->4 at 8x8; bottleneck 4->8, 8->8 at 4x4; up 8->4 (2x2 s2); dec1: 8->4, 4->4;
    # logits 4->2 (1x1)
    expected = 2 * (
        64 * 9 * 3 * 4
        + 64 * 9 * 16
        + 16 * 9 * 4 * 8
        + 16 * 9 * 64
        + 16 * 4 * 8 * 4
        + 64 * 9 * 8 * 4
        + 64 * 9 * 16
        + 64 * 4 * 2
    )
    assert M.model_flops(model, 8, 8) == expected


@pytest.mark.parametrize("kind", ["ce_dice", "weighted_ce", "ce"])
def test_loss_ignores_255(kind: str) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, (2, 8, 8)).astype(np.uint8)
    y[:, :3] = 255
    p = rng.dirichlet(np.ones(3), (2, 8, 8)).astype(np.float32)
    loss = M.SegmentationLoss(
        3, kind, class_weights=[0.5, 1.0, 2.0] if kind == "weighted_ce" else None
    )
    base = float(loss(y, p))
    p2 = p.copy()
    p2[:, :3] = rng.dirichlet(np.ones(3), (2, 3, 8))
    assert float(loss(y, p2)) == pytest.approx(base, rel=1e-6)
    perfect = np.eye(3, dtype=np.float32)[np.where(y == 255, 0, y)]
    assert float(loss(y, perfect)) < base
    assert float(loss(y, perfect)) == pytest.approx(0.0, abs=1e-3)


def test_loss_config_roundtrip_and_validation() -> None:
    loss = M.SegmentationLoss(3, "weighted_ce", [1, 2, 3])
    again = M.SegmentationLoss.from_config(loss.get_config())
    assert again.class_weights == [1.0, 2.0, 3.0] and again.kind == "weighted_ce"
    with pytest.raises(ValueError, match="kind"):
        M.SegmentationLoss(3, "focal")
    with pytest.raises(ValueError, match="class_weights"):
        M.SegmentationLoss(3, "weighted_ce", [1, 2])


def test_numpy_metrics_and_baseline() -> None:
    truth = np.array([[0, 0, 1, 1], [2, 2, 255, 255]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 0, 2, 2]], np.uint8)
    cm = M.confusion_matrix(truth, pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert M.pixel_accuracy(cm) == pytest.approx(4 / 6)
    ious = M.iou_per_class(cm)
    assert ious == pytest.approx([1 / 3, 2 / 3, 1 / 2])
    assert M.mean_iou(cm) == pytest.approx(np.mean(ious))
    # all background: IoU_bg = 2/6, others 0
    assert M.background_baseline_miou(cm) == pytest.approx((2 / 6) / 3)
    assert M.iou_per_class(np.zeros((2, 2)))[1] is None


def test_compiled_metrics_match_numpy() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, (2, 6, 6)).astype(np.uint8)
    y[0, 0] = 255
    p = rng.dirichlet(np.ones(4), (2, 6, 6)).astype(np.float32)
    cm = M.confusion_matrix(y, p.argmax(-1), 4)
    acc, miou = M.PixelAccuracy(4), M.MeanIoU(4)
    for metric in (acc, miou):
        metric.update_state(y, p)
    assert float(acc.result()) == pytest.approx(M.pixel_accuracy(cm), rel=1e-5)
    assert float(miou.result()) == pytest.approx(M.mean_iou(cm), rel=1e-5)
    np.testing.assert_array_equal(miou.confusion(), cm)
    miou.reset_state()
    assert float(miou.result()) == 0.0
    sampled = M.MeanIoU(4, pixel_stride=2)  # every 2nd pixel of every 2nd row
    sampled.update_state(y, p)
    np.testing.assert_array_equal(
        sampled.confusion(), M.confusion_matrix(y[:, ::2, ::2], p[:, ::2, ::2].argmax(-1), 4)
    )
    assert M.MeanIoU.from_config(sampled.get_config()).pixel_stride == 2


@pytest.mark.parametrize("stem", [2, 4])
def test_unet_stem_runs_below_input_resolution(stem: int) -> None:
    model = M.build_unet(3, (64, 32, 3), depth=2, base_width=4, stem_stride=stem)
    assert model.get_layer("stem_conv").strides == (stem, stem)
    assert model.get_layer("enc1_conv1").output.shape[1:3] == (64 // stem, 32 // stem)
    y = np.asarray(model(np.zeros((1, 64, 32, 3), np.float32)))
    assert y.shape == (1, 64, 32, 3)  # logits upsampled back to the input size
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)
    plain = M.build_unet(3, (64, 32, 3), depth=2, base_width=4)
    assert M.model_flops(model, 64, 32) < M.model_flops(plain, 64, 32) / 3
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth x stem_stride = 16"):
        M.build_unet(3, (40, 32, 3), depth=2, stem_stride=4)
    with pytest.raises(ValueError, match="stem_stride"):
        M.build_unet(3, depth=2, stem_stride=3)


def test_training_view_fits_the_low_resolution_output_of_the_same_weights() -> None:
    import tensorflow as tf

    model = M.build_unet(3, depth=2, base_width=8, stem_stride=2, decoder="light")
    view, stride = M.training_view(model)
    assert stride == 2 and view.output_shape == (None, None, None, 3)
    photo = np.random.default_rng(0).integers(0, 256, (1, 32, 48, 3)).astype(np.float32)
    low = np.asarray(view(photo))
    assert low.shape == (1, 16, 24, 3)
    np.testing.assert_allclose(low.sum(-1), 1.0, atol=1e-5)
    # the full model is the view's output resized; both read the same weights
    full = np.asarray(model(photo))
    np.testing.assert_allclose(full, tf.image.resize(low, (32, 48), "bilinear"), atol=1e-6)
    assert {id(w) for w in view.weights} == {id(w) for w in model.weights}
    kernel = model.get_layer("logits").kernel
    kernel.assign(kernel * 0.0)
    np.testing.assert_allclose(np.asarray(view(photo)), 1 / 3, atol=1e-6)
    # a model without a stem (or saved before the low-resolution output) is fitted as is
    plain = M.build_unet(3, depth=2, base_width=8)
    assert M.training_view(plain) == (plain, 1)
    # the label nearest each output's centre: rows/columns 0, 2, 4... for stride 2
    masks = np.arange(2 * 8 * 8).reshape(2, 8, 8)
    np.testing.assert_array_equal(M.subsample_labels(masks, 2), masks[:, ::2, ::2])
    np.testing.assert_array_equal(M.subsample_labels(masks, 4), masks[:, 1::4, 1::4])
    assert M.subsample_labels(masks, 1) is masks


def test_light_decoder_adds_skips_with_one_conv_per_level() -> None:
    light = M.build_unet(3, (32, 32, 3), depth=2, base_width=8, stem_stride=2, decoder="light")
    full = M.build_unet(3, (32, 32, 3), depth=2, base_width=8, stem_stride=2)
    names = {layer.name for layer in light.layers}
    assert {"dec1_add", "dec1_conv1"} <= names and "dec1_conv2" not in names
    assert light(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 32, 32, 3)
    assert M.model_flops(light, 32, 32) < M.model_flops(full, 32, 32)
    with pytest.raises(ValueError, match="decoder"):
        M.build_unet(3, decoder="fpn")


def test_fold_batch_norm_matches_the_trained_model() -> None:
    import keras

    model = M.build_unet(3, depth=2, base_width=4, stem_stride=2, decoder="light")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=M.SegmentationLoss(3))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 3, (4, 32, 32)).astype(np.uint8)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)  # moving statistics away from 0/1
    folded = M.fold_batch_norm(model)
    kinds = {type(layer).__name__ for layer in folded.layers}
    assert "BatchNormalization" not in kinds
    assert folded.get_layer("enc1_conv1").use_bias
    np.testing.assert_allclose(
        np.asarray(folded(x)), np.asarray(model(x, training=False)), atol=1e-5
    )
    plain = M.build_unet(3, depth=1, base_width=4, batch_norm=False)
    copy = M.fold_batch_norm(plain)
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(plain(x)), atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_matches_keras_batch_norm(dtype: str) -> None:
    """Same outputs, same gradients and same running statistics as Keras' own layer."""
    import keras
    import tensorflow as tf

    x = np.random.default_rng(1).normal(2.0, 3.0, (4, 6, 5, 8)).astype(np.float32)
    fused = M.FusedBatchNormalization(momentum=0.9, dtype=dtype)
    plain = keras.layers.BatchNormalization(momentum=0.9, dtype=dtype)
    for layer in (fused, plain):
        layer.build(x.shape)
        layer.set_weights(
            [
                np.linspace(0.5, 2, 8, dtype=np.float32),
                np.linspace(-1, 1, 8, dtype=np.float32),
                np.zeros(8, np.float32),
                np.ones(8, np.float32),
            ]
        )
    tol = 1e-4 if dtype == "float32" else 5e-2
    results = []
    for layer in (fused, plain):
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = layer(xt, training=True)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.range(8, dtype=tf.float32))
        grads = tape.gradient(loss, [xt, layer.gamma.value, layer.beta.value])
        results.append(
            (
                np.asarray(tf.cast(y, tf.float32)),
                [np.asarray(g) for g in grads],
                [np.asarray(w) for w in layer.get_weights()],
                np.asarray(tf.cast(layer(xt, training=False), tf.float32)),
            )
        )
    (y1, g1, w1, i1), (y2, g2, w2, i2) = results
    np.testing.assert_allclose(y1, y2, atol=tol)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, atol=tol * max(1.0, float(np.abs(b).max())))
    for a, b in zip(w1, w2, strict=True):  # moving mean/variance updated the same way
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(i1, i2, atol=tol)
    assert not np.allclose(w1[2], 0.0)  # the statistics did move


def test_position_channel_gives_rows_minus_one_to_one_and_survives_save_and_fold(tmp_path) -> None:
    import keras

    layer = M.VerticalPosition()
    out = np.asarray(layer(np.zeros((2, 5, 3, 3), "float32")))
    assert out.shape == (2, 5, 3, 4)
    np.testing.assert_allclose(out[1, :, 2, 3], [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(out[..., :3], 0.0)
    model = M.build_unet(3, depth=2, base_width=4, stem_stride=2, position_channel=True)
    x = np.random.default_rng(0).integers(0, 256, (1, 32, 48, 3)).astype("uint8")
    y = np.asarray(model(x))
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(
        np.asarray(keras.models.load_model(tmp_path / "m.keras")(x)), y, atol=1e-5
    )
    np.testing.assert_allclose(np.asarray(M.fold_batch_norm(model)(x)), y, atol=1e-4)


def test_inference_view_stops_at_the_logits_of_a_plain_soft_max() -> None:
    import keras

    photo = np.random.default_rng(1).integers(0, 256, (1, 32, 48, 3)).astype(np.float32)
    for stem in (1, 2):
        model = M.build_unet(3, depth=2, base_width=8, stem_stride=stem, decoder="light")
        view, stride, from_logits = M.inference_view(model)
        assert (stride, from_logits) == (stem, True)
        low = np.asarray(M.training_view(model)[0](photo))
        np.testing.assert_allclose(np.asarray(keras.ops.softmax(view(photo))), low, atol=1e-6)
        assert {id(w) for w in view.weights} == {id(w) for w in model.weights}
    # an output that is not a plain soft-max of the logits: the probabilities, as trained
    inputs = keras.Input((None, None, 3))
    logits = keras.layers.Conv2D(3, 1, name="logits")(inputs)
    scaled = keras.layers.Rescaling(0.5)(logits)
    other = keras.Model(inputs, keras.layers.Softmax(name="probabilities")(scaled))
    assert M.inference_view(other) == (other, 1, False)
    no_logits = keras.Model(inputs, keras.layers.Softmax(name="probabilities")(inputs))
    assert M.inference_view(no_logits) == (no_logits, 1, False)


def test_subpixel_upsampling_computes_the_transposed_convolutions() -> None:
    """The inference graph's 1x1 product and depth-to-space give what the decoder's 2x2,
    stride-2 up-convolutions give (bias included), in float32 and under bfloat16."""
    import keras

    rng = np.random.default_rng(3)
    inputs = keras.Input((None, None, 6))
    up = keras.Model(inputs, keras.layers.Conv2DTranspose(4, 2, strides=2, name="up")(inputs))
    up.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in up.weights])
    x = rng.normal(size=(2, 3, 5, 6)).astype(np.float32)
    kernel, bias = (np.asarray(w) for w in up.get_layer("up").weights)
    ref = np.einsum("nijc,abOc->niajbO", x, kernel).reshape(2, 6, 10, 4) + bias
    swapped = M.subpixel_upsampling(up)
    assert type(swapped.get_layer("up")) is M.SubPixelUpsampling
    np.testing.assert_allclose(np.asarray(swapped(x)), ref, atol=1e-4)
    for policy in (None, "mixed_bfloat16"):
        model = M.build_unet(3, depth=2, base_width=8, stem_stride=2, dtype=policy)
        model.set_weights(
            [
                np.abs(rng.normal(size=w.shape)) + 0.5
                if "variance" in w.path
                else rng.normal(size=w.shape)
                for w in model.weights
            ]
        )
        photo = rng.integers(0, 256, (1, 32, 48, 3)).astype(np.float32)
        fast = M.inference_model(model)
        kinds = {type(layer) for layer in fast.layers}
        assert M.SubPixelUpsampling in kinds and keras.layers.Conv2DTranspose not in kinds
        # against the folded model: the swap alone (folding is tested above)
        folded = np.asarray(M.fold_batch_norm(model)(photo))
        np.testing.assert_allclose(np.asarray(fast(photo)), folded, atol=1e-5)
    # other transposed convolutions are kept
    wide = keras.Model(inputs, keras.layers.Conv2DTranspose(4, 3, strides=2, name="up")(inputs))
    assert type(M.subpixel_upsampling(wide).get_layer("up")) is keras.layers.Conv2DTranspose
