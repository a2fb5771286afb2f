"""SavedModel export agrees with the Predictor; predict_project writes predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic import CLASSES, synthetic_samples

from fashionseg_gui.core.predict import PredictError, Predictor, predict_project, read_prediction
from fashionseg_gui.core.serving import export_saved_model
from fashionseg_gui.core.train import TrainConfig, TrainData, TrainError, train

TINY = dict(
    batch_size=2,
    input_height=32,
    input_width=48,
    depth=2,
    base_width=8,
    learning_rate=1e-2,
    early_stopping_patience=None,
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    s = synthetic_samples(6, seed=1)
    out = tmp_path_factory.mktemp("export") / "run"
    train(TrainConfig(epochs=1, **TINY), TrainData(s[:4], s[4:], CLASSES), run_dir=out)
    return out


def test_saved_model_agrees_with_predictor(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import tensorflow as tf

    from fashionseg_gui.core import serving

    frozen = []
    freeze = serving.freeze
    monkeypatch.setattr(serving, "freeze", lambda fn: frozen.append(fn) or freeze(fn))
    out = export_saved_model(run_dir, tmp_path / "sm", num_classes=3)
    assert len(frozen) == 1  # the weights once: both signatures call one frozen network
    loaded = tf.saved_model.load(str(out))
    photo = np.random.default_rng(5).integers(0, 256, (57, 91, 3), dtype=np.uint8)
    result = loaded.signatures["serving_default"](images=tf.constant(photo[None]))
    ids_sm = result["class_ids"].numpy()[0]
    probs_sm = result["probabilities"].numpy()[0]
    assert ids_sm.shape == (57, 91) and probs_sm.shape == (57, 91, 3)
    predictor = Predictor(run_dir)  # the run's upsampling: guided (bilinear: see below)
    ids, conf = predictor.predict(photo)
    assert ids.dtype == np.uint8 and conf.dtype == np.float32 and ids.shape == (57, 91)
    top2 = np.sort(probs_sm, -1)[..., -2:]
    clear = top2[..., 1] - top2[..., 0] > 1e-5  # two XLA functions may round a tie apart
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(ids[clear], ids_sm[clear])
    # a batch of two photos of the same size through the plain endpoint
    batch = loaded.serve(tf.constant(np.stack([photo, photo[::-1]])))
    assert batch["class_ids"].shape == (2, 57, 91)
    # "label": the Predictor's class ids and confidence, without the probability stack
    labelled = loaded.signatures["label"](images=tf.constant(photo[None]))
    assert sorted(labelled) == ["class_ids", "confidence"]
    np.testing.assert_array_equal(labelled["class_ids"].numpy()[0], ids)
    np.testing.assert_allclose(labelled["confidence"].numpy()[0], conf, atol=1e-6)
    assert loaded.label(tf.constant(np.stack([photo, photo])))["class_ids"].shape == (2, 57, 91)
    # the weights are graph constants, as in the Predictor (no variables to read per call)
    assert not loaded.signatures["serving_default"].variables
    assert not loaded.signatures["label"].variables
    with pytest.raises(TrainError, match="not empty"):
        export_saved_model(run_dir, out)
    with pytest.raises(TrainError, match="classes"):
        export_saved_model(run_dir, tmp_path / "sm2", num_classes=5)


def test_saved_model_export_without_freezing_keeps_the_weights_as_variables(
    run_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Where TensorFlow cannot freeze the graph the export is a Keras archive: same ids."""
    import tensorflow as tf
    import tensorflow.python.framework.convert_to_constants as c2c

    photo = np.random.default_rng(6).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    ids, _ = Predictor(run_dir).predict(photo)

    def unavailable(*_args, **_kwargs):
        raise ValueError("not available")

    monkeypatch.setattr(c2c, "convert_variables_to_constants_v2", unavailable)
    loaded = tf.saved_model.load(str(export_saved_model(run_dir, tmp_path / "sm")))
    result = loaded.signatures["serving_default"](images=tf.constant(photo[None]))
    assert loaded.signatures["serving_default"].variables  # read from the variables
    np.testing.assert_array_equal(result["class_ids"].numpy()[0], ids)
    labelled = loaded.signatures["label"](images=tf.constant(photo[None]))
    assert loaded.signatures["label"].variables
    np.testing.assert_array_equal(labelled["class_ids"].numpy()[0], ids)


def test_predictor_rejects_bad_input_and_missing_run(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(PredictError, match="uint8"):
        Predictor(run_dir).predict(np.zeros((10, 10), np.uint8))
    with pytest.raises(TrainError, match="no trained model"):
        Predictor(tmp_path)


def test_predict_project_writes_npz_and_status(run_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(tmp_path / "p", [(c, "#123456") for c in CLASSES])
    ids = []
    for k, s in enumerate(synthetic_samples(2, seed=9)):
        path = tmp_path / f"{k}.png"
        Image.fromarray(s.load_image()).save(path)
        ids.append(project.add_image_file(path).image_id)
    project.write_mask(ids[0], synthetic_samples(2, seed=9)[0].load_mask())
    seen: list[tuple] = []
    done = predict_project(project, ids, on_progress=lambda *a: seen.append(a), run_dir=run_dir)
    assert done == ids and seen[-1][:2] == (2, 2)
    class_ids, conf = read_prediction(project.prediction_path(ids[1]))
    assert class_ids.dtype == np.uint8 and conf.dtype == np.float16 and class_ids.shape == (32, 48)
    assert project.images[ids[0]].status == "labelled"
    assert project.images[ids[1]].status == "predicted"
    with pytest.raises(PredictError, match="no image"):
        predict_project(project, ["missing"], run_dir=run_dir)


@pytest.mark.parametrize(
    ("shape", "scaled", "out", "stride"),
    [
        ((1, 32, 32, 4), (31, 20), (37, 23), 1),  # upsampling, a crop of the padding
        ((2, 64, 48, 5), (64, 41), (300, 229), 1),  # two photos, a canvas padded to 320x256
        ((1, 24, 16, 3), (24, 16), (12, 70), 1),  # down along y, up along x
        ((1, 16, 16, 2), (16, 16), (64, 64), 1),  # exactly one bucket: no padding
        ((1, 32, 24, 5), (60, 40), (130, 87), 2),  # a strided stem's half-size output
    ],
)
def test_full_size_head_matches_tensorflow_resize(shape, scaled, out, stride) -> None:
    """The fused head (crop, bilinear resize, arg-max, max, entropy in one XLA function on
    a padded canvas) gives what ``tf.image.resize`` and numpy give; the padding never
    leaks out, the number of classes may change between calls, and from logits it gives
    what it gives from their soft-max."""
    import tensorflow as tf

    from fashionseg_gui.core.scores import pixel_entropy
    from fashionseg_gui.core.serving import resize_and_reduce

    rng = np.random.default_rng(sum(shape) + sum(out))
    probs = rng.dirichlet(np.full(shape[-1], 0.5), size=shape[:-1]).astype(np.float32)
    probs[0, :2, :2] = 1.0 / shape[-1]  # ties: the first class wins, as in numpy
    crop = probs[:, : scaled[0] // stride, : scaled[1] // stride]
    ref = tf.image.resize(crop, out, method="bilinear").numpy()
    run = tf.function(resize_and_reduce, reduce_retracing=True)
    args = (tf.constant(probs), tf.constant(scaled), tf.constant(out))
    ids, confidence, entropy = (t.numpy() for t in run(*args, "scored", stride))
    assert ids.dtype == np.uint8 and ids.shape == (shape[0], *out)
    near_tie = np.sort(ref, -1)[..., -1] - np.sort(ref, -1)[..., -2] < 1e-6
    np.testing.assert_array_equal(ids[~near_tie], ref.argmax(-1)[~near_tie])
    assert ids[0, 0, 0] == 0
    np.testing.assert_allclose(confidence, ref.max(-1), atol=1e-6)
    # the entropy of the network's distributions, resized like them
    ref_entropy = tf.image.resize(pixel_entropy(crop)[..., None], out, method="bilinear")
    np.testing.assert_allclose(entropy, ref_entropy.numpy()[..., 0], atol=1e-5)
    ids2, served = (t.numpy() for t in run(*args, "serve", stride))
    np.testing.assert_array_equal(ids2, ids)
    np.testing.assert_allclose(served, ref, atol=1e-6)
    ids3, confidence3 = (t.numpy() for t in run(*args, "label", stride))
    np.testing.assert_array_equal(ids3, ids)
    np.testing.assert_array_equal(confidence3, confidence)
    # from logits (any offset per pixel): the head's own float32 soft-max, same answers
    logits = np.log(probs) + rng.normal(size=(*shape[:-1], 1)).astype(np.float32)
    for dtype in (tf.float32, tf.bfloat16):
        logit_args = (tf.cast(logits, dtype), *args[1:])
        ids4, conf4, ent4 = (t.numpy() for t in run(*logit_args, "scored", stride, True))
        tol = 1e-5 if dtype == tf.float32 else 0.05  # bfloat16 keeps 8 bits
        np.testing.assert_allclose(conf4, confidence, atol=tol)
        np.testing.assert_allclose(ent4, entropy, atol=tol)
        if dtype == tf.float32:
            np.testing.assert_array_equal(ids4[~near_tie], ids[~near_tie])


def test_frozen_prediction_falls_back_to_the_traced_function(run_dir: Path, monkeypatch) -> None:
    """Without the constant-folding API the Predictor runs the plain graph, same answers."""
    import tensorflow.python.framework.convert_to_constants as c2c

    photo = np.random.default_rng(2).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    ids, conf = Predictor(run_dir).predict(photo)

    def unavailable(*_args, **_kwargs):
        raise ValueError("not available")

    monkeypatch.setattr(c2c, "convert_variables_to_constants_v2", unavailable)
    ids2, conf2 = Predictor(run_dir).predict(photo)
    np.testing.assert_array_equal(ids, ids2)
    np.testing.assert_allclose(conf, conf2, atol=1e-6)


def test_predict_project_saves_once_per_chunk_and_names_files(
    run_dir: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from fashionseg_gui.core.project import Project

    project = Project.create(tmp_path / "p", [(c, "#123456") for c in CLASSES])
    ids = []
    for k, s in enumerate(synthetic_samples(4, seed=11)):
        path = tmp_path / f"look {k}.png"
        Image.fromarray(s.load_image()).save(path)
        ids.append(project.add_image_file(path).image_id)
    saves: list[int] = []
    project.events.saved.connect(lambda: saves.append(1))
    texts: list[str] = []
    predict_project(
        project, ids, on_progress=lambda d, t, text: texts.append(text), run_dir=run_dir
    )
    assert len(saves) == 1  # one project.json write for the batch, not one per photo
    assert texts[:4] == [f"predicting look {k}.png" for k in range(4)]
    reopened = Project.open(tmp_path / "p", read_only=True)
    assert all(reopened.images[i].status == "predicted" for i in ids)


def test_saved_model_metadata_has_class_names(run_dir: Path, tmp_path: Path) -> None:
    import json

    out = export_saved_model(run_dir, tmp_path / "sm")
    assert json.loads((out / "fashionseg.json").read_text())["class_names"] == CLASSES


def _guided(values, photos, scaled, kind, stride=1):
    """``core.serving.guided_outputs`` of float32 ``values`` for uint8 ``photos`` whose
    letterbox (photo at the top left, zeros after) is ``values``' size x ``stride``."""
    import tensorflow as tf

    from fashionseg_gui.core.serving import guided_outputs

    n, h, w, _ = values.shape
    box = np.zeros((n, h * stride, w * stride, 3), np.float32)
    resized = tf.image.resize(photos.astype(np.float32), scaled, method="bilinear").numpy()
    box[:, : scaled[0], : scaled[1]] = resized
    outs = guided_outputs(
        tf.constant(values),
        tf.constant(box),
        tf.constant(photos),
        tf.constant(scaled),
        kind,
        stride,
    )
    return [t.numpy() for t in outs]


def test_guided_upsampling_moves_a_blurred_boundary_onto_the_photos_edge() -> None:
    """The network's two-class probabilities (a ramp, at a quarter of the photo's width)
    cross at its column 9, so bilinear upsampling starts class 1 at the photo's column 38
    whatever the photo shows; the guided filter starts it on the photo's own edge when
    that lies within a network pixel or so. Its probabilities are non-negative, sum to one
    and agree with its class ids; the confidence that goes with guided ids is the network's
    top probability, resized."""
    import tensorflow as tf

    from fashionseg_gui.core.serving import resize_and_reduce

    ramp = np.clip((np.arange(24) - 9.0) / 4.0 + 0.5, 0.02, 0.98)
    values = np.stack([1 - ramp, ramp], -1)[None, None].repeat(16, axis=1).astype(np.float32)
    first = lambda ids: {int(np.argmax(row == 1)) for row in ids[0]}  # noqa: E731
    bilinear, _ = resize_and_reduce(
        tf.constant(values), tf.constant((16, 24)), tf.constant((64, 96)), "label"
    )
    assert first(bilinear.numpy()) == {38}
    for edge in (34, 36, 40, 42):
        photo = np.full((1, 64, 96, 3), 40, np.uint8)
        photo[:, :, edge:] = 210
        ids, probs = _guided(values, photo, (16, 24), "serve")
        (start,) = first(ids)  # the same column in every row
        assert abs(start - edge) <= 1, (edge, start)
        assert probs.shape == (1, 64, 96, 2) and probs.min() >= 0.0
        np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
        margin = np.abs(probs[..., 1] - probs[..., 0]) > 1e-4
        np.testing.assert_array_equal(ids[margin], probs.argmax(-1)[margin])
        label_ids, confidence = _guided(values, photo, (16, 24), "label")
        np.testing.assert_array_equal(label_ids, ids)
        top = tf.image.resize(values.max(-1)[..., None], (64, 96), method="bilinear")
        np.testing.assert_allclose(confidence, top.numpy()[..., 0], atol=1e-5)
    scored = _guided(values, photo, (16, 24), "scored")
    np.testing.assert_array_equal(scored[0], ids)
    assert scored[2].shape == (1, 64, 96) and 0.0 <= scored[2].min() <= scored[2].max() <= 1.0


def test_guided_upsampling_ignores_the_letterbox_padding_and_follows_the_stride() -> None:
    """What the network says about the letterbox's padding (right of and below the photo)
    never reaches the photo's classes, with a strided stem too; a uniform prediction
    stays uniform."""
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (50, 30, 3), dtype=np.uint8)
    stride, scaled = 2, (40, 24)  # the photo fills 20 x 12 of the 24 x 16 network pixels
    values = rng.dirichlet(np.full(4, 0.7), size=(1, 24, 16)).astype(np.float32)
    garbage = values.copy()
    garbage[:, 20:] = np.eye(4, dtype=np.float32)[3]
    garbage[:, :, 12:] = np.eye(4, dtype=np.float32)[2]
    ids, probs = _guided(values, photo[None], scaled, "serve", stride)
    ids2, probs2 = _guided(garbage, photo[None], scaled, "serve", stride)
    assert ids.shape == (1, 50, 30)
    np.testing.assert_array_equal(ids, ids2)
    np.testing.assert_allclose(probs, probs2, atol=1e-6)
    flat = np.zeros((1, 24, 16, 4), np.float32)
    flat[..., 1] = 1.0
    assert (_guided(flat, photo[None], scaled, "label", stride)[0] == 1).all()


def test_predictor_and_saved_model_use_the_runs_upsampling_or_the_one_asked_for(
    run_dir: Path, tmp_path: Path
) -> None:
    """A run trains with ``upsampling`` "guided" by default; the Predictor and the
    SavedModel follow it unless told otherwise, and the SavedModel records it. With
    bilinear the confidence is the top of the resized probabilities, as the SavedModel's."""
    import json

    import tensorflow as tf

    assert json.loads((run_dir / "config.json").read_text())["upsampling"] == "guided"
    photo = np.random.default_rng(8).integers(0, 256, (52, 77, 3), dtype=np.uint8)
    guided, bilinear = Predictor(run_dir), Predictor(run_dir, upsampling="bilinear")
    assert (guided.upsampling, bilinear.upsampling) == ("guided", "bilinear")
    assert guided.run["upsampling"] == "guided" and bilinear.run["upsampling"] == "bilinear"
    for predictor, name in ((guided, "g"), (bilinear, "b")):
        out = export_saved_model(
            run_dir, tmp_path / name, num_classes=3, upsampling=predictor.upsampling
        )
        assert json.loads((out / "fashionseg.json").read_text())["upsampling"] == name.replace(
            "g", "guided"
        ).replace("b", "bilinear")
        result = tf.saved_model.load(str(out)).serve(tf.constant(photo[None]))
        probs = result["probabilities"].numpy()[0]
        ids, conf = predictor.predict(photo)
        top2 = np.sort(probs, -1)[..., -2:]
        clear = top2[..., 1] - top2[..., 0] > 1e-5
        np.testing.assert_array_equal(ids[clear], result["class_ids"].numpy()[0][clear])
        np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
        if predictor is bilinear:
            np.testing.assert_allclose(conf, probs.max(-1), atol=1e-5)
    with pytest.raises(PredictError, match="upsampling"):
        Predictor(run_dir, upsampling="nearest")
    with pytest.raises(TrainError, match="upsampling"):
        export_saved_model(run_dir, tmp_path / "x", upsampling="nearest")
    with pytest.raises(TrainError, match="upsampling"):
        TrainConfig(upsampling="nearest")


def test_a_prediction_of_the_other_upsampling_is_not_fresh(run_dir: Path, tmp_path: Path) -> None:
    """Predicting again with the other upsampling redoes the photo (resume skips only
    what this run made with this head); a prediction that recorded none was bilinear."""
    from PIL import Image

    from fashionseg_gui.core import scores as S
    from fashionseg_gui.core.project import Project

    project = Project.create(tmp_path / "p", [(c, "#123456") for c in CLASSES])
    path = tmp_path / "a.png"
    Image.fromarray(synthetic_samples(1, seed=4)[0].load_image()).save(path)
    image_id = project.add_image_file(path).image_id
    guided, bilinear = Predictor(run_dir), Predictor(run_dir, upsampling="bilinear")
    assert predict_project(project, [image_id], predictor=guided) == [image_id]
    assert predict_project(project, [image_id], predictor=guided) == []  # fresh: skipped
    assert predict_project(project, [image_id], predictor=bilinear) == [image_id]
    assert predict_project(project, [image_id], predictor=bilinear) == []
    old = {k: v for k, v in bilinear.run.items() if k != "upsampling"}
    assert S.same_run(old, bilinear.run) and not S.same_run(old, guided.run)


def test_remember_upsampling_keeps_the_choice_in_the_training_settings(tmp_path: Path) -> None:
    """The job's thread keeps the choice with the project (one save, only on a change; the
    other training settings stay); a read-only project is left alone."""
    from fashionseg_gui.core.predict import remember_upsampling
    from fashionseg_gui.core.project import Project

    project = Project.create(tmp_path / "p", [(c, "#123456") for c in CLASSES])
    project.set_setting("train", {"epochs": 7})
    saves: list[int] = []
    project.events.saved.connect(lambda: saves.append(1))
    remember_upsampling(project, "bilinear")
    remember_upsampling(project, "bilinear")
    remember_upsampling(project, None)
    assert project.settings["train"] == {"epochs": 7, "upsampling": "bilinear"} and len(saves) == 1
    project.close()
    reader = Project.open(tmp_path / "p", read_only=True)
    assert reader.settings["train"]["upsampling"] == "bilinear"
    remember_upsampling(reader, "guided")  # read-only: nothing written, no error
    assert reader.settings["train"]["upsampling"] == "bilinear"
    reader.close()
