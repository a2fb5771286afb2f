"""Prediction with a trained run: :class:`Predictor` and :func:`predict_project`.

TensorFlow is imported when a :class:`Predictor` is created, not when this module is.
The Predictor runs the same in-graph letterbox / un-letterbox as the exported SavedModel
(``core.serving.make_serving_function``), so both give the same answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fashionseg_gui.core import runs as R
from fashionseg_gui.core import scores as S
from fashionseg_gui.core.atomic import atomic_save_npz
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.train_config import UPSAMPLING

log = logging.getLogger(__name__)

#: Images per save of project.json while predicting (a crash loses at most these statuses;
#: their prediction files are on disk and the next prediction rewrites them).
SAVE_EVERY = 32


class PredictError(Exception):
    """A prediction problem worded for the user."""


class Predictor:
    """The best checkpoint of a run, ready to segment photos of any size.

    Parameters
    ----------
    run_dir : path
        A run folder written by ``core.train.train``.
    which : str
        ``"best"`` (default) or ``"last"`` checkpoint.
    upsampling : str, optional
        ``"guided"`` or ``"bilinear"`` (``core.serving.full_size_outputs``); default the
        run's setting.
    """

    def __init__(
        self, run_dir: str | Path, which: str = "best", upsampling: str | None = None
    ) -> None:
        import tensorflow as tf

        from fashionseg_gui.core.model import inference_model
        from fashionseg_gui.core.serving import load_run

        self.run_dir = Path(run_dir)
        model, info = load_run(self.run_dir, which)  # TrainError, worded, if it cannot
        # inference graph (as exported): batch normalisation folded into the convolutions,
        # the up-convolutions as 1x1 products
        self.model = inference_model(model)
        self.num_classes: int = info["num_classes"]
        self.class_names: list[str] | None = info.get("class_names")
        self.target_hw = (int(info["input_height"]), int(info["input_width"]))
        self.multiple = int(info["multiple"])
        self.upsampling: str = upsampling or info["upsampling"]
        if self.upsampling not in UPSAMPLING:
            raise PredictError(
                f"upsampling must be one of {', '.join(UPSAMPLING)} (got {self.upsampling!r})"
            )
        self.run = S.run_identity(self.run_dir, self.class_names, self.num_classes, self.upsampling)
        label = _make_scored_label_function(
            self.model, self.target_hw, self.multiple, self.upsampling
        )
        # one trace for any photo size (the model itself always sees the letterbox size)
        traced = tf.function(
            label, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)]
        ).get_concrete_function()
        self._fn = _frozen(traced)

    def predict(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment one photo.

        Parameters
        ----------
        image : np.ndarray
            uint8 ``(H, W, 3)`` RGB (upright).

        Returns
        -------
        class_ids : np.ndarray
            uint8 ``(H, W)``.
        confidence : np.ndarray
            float32 ``(H, W)``, the probability of the predicted class.
        """
        class_ids, confidence, _ = self.predict_scored(image)
        return class_ids, confidence

    def predict_scored(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`predict`, plus the per-pixel normalised entropy, float32 ``(H, W)``
        (``core.scores.pixel_entropy`` of the network's class probabilities, computed
        in-graph at the network's resolution and resized like the probabilities)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PredictError(
                f"expected a uint8 (H, W, 3) RGB photo; got {image.dtype} {image.shape}"
            )
        out = self._fn(image[None])
        return (
            out["class_ids"].numpy()[0],
            out["confidence"].numpy()[0],
            out["entropy"].numpy()[0],
        )


def _make_scored_label_function(
    model: Any, target_hw: tuple[int, int], multiple: int, upsampling: str
) -> Callable[[Any], dict[str, Any]]:
    """``core.serving.make_label_function`` (the same class ids and confidence as the
    SavedModel) plus the normalised entropy of the probabilities, all in one graph."""
    from fashionseg_gui.core.serving import full_size_outputs

    def label(images: Any) -> dict[str, Any]:
        class_ids, confidence, entropy = full_size_outputs(
            model, images, target_hw, multiple, "scored", upsampling
        )
        return {"class_ids": class_ids, "confidence": confidence, "entropy": entropy}

    return label


def _frozen(concrete: Any) -> Callable[[Any], dict[str, Any]]:
    """``concrete`` with its weights turned into graph constants, same outputs
    (``core.serving.freeze``); the function itself where the conversion is not available."""
    import tensorflow as tf

    from fashionseg_gui.core.serving import freeze

    frozen = freeze(concrete)
    if frozen is None:  # an API move in a future TensorFlow
        return lambda images: concrete(tf.convert_to_tensor(images))
    return frozen


def remember_upsampling(project: Any, upsampling: str | None) -> None:
    """Keep ``upsampling`` in the project's training settings (``settings["train"]``), so
    the Train panel shows it again when the project is opened; nothing when it is already
    there, is None or the project is read-only. A settings write that fails is not an error
    of the prediction: it is logged."""
    if upsampling is None or getattr(project, "read_only", True):
        return
    saved = project.settings.get("train")
    settings = dict(saved) if isinstance(saved, dict) else {}
    if settings.get("upsampling") == upsampling:
        return
    settings["upsampling"] = upsampling
    try:
        project.set_setting("train", settings)
    except Exception as exc:  # noqa: BLE001 - the settings write must not fail the job
        log.warning("could not save the upsampling setting: %s", exc)


def predict_project(
    project: Any,
    ids: Iterable[str] | None = None,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
    run_dir: str | Path | None = None,
    predictor: Predictor | None = None,
    resume: bool = True,
    threshold: float = S.LOW_CONFIDENCE,
) -> list[str]:
    """Predict images of a project, write ``predictions/<id>.npz`` and score them.

    Each file holds ``class_ids`` (uint8), ``confidence`` (float16), ``entropy``
    (float16), ``embedding`` (float32) and ``meta`` (the scores, the run, the photo; see
    ``core.scores``); ``predictions/scores.json`` indexes the scores. Images without a user
    mask get status ``"predicted"``; labelled/corrected images keep their status.

    Parameters
    ----------
    project : Project
        The open project.
    ids : iterable of str, optional
        Which images; default all.
    cancel_token : CancelToken, optional
        Checked before each image; raises ``Cancelled`` (what is done so far is kept, and
        indexed).
    on_progress : callable, optional
        ``on_progress(done, total, text)``.
    run_dir : path, optional
        Run to use; default the newest run of the project that has a best checkpoint.
    predictor : Predictor, optional
        An already loaded predictor (then ``run_dir`` is ignored). Anything with
        ``predict(image) -> (class_ids, confidence)``, ``num_classes`` and ``run`` (a
        ``core.scores.run_identity``); ``predict_scored`` is used when it has one.
    resume : bool
        Skip images that already have a fresh prediction from this run (default), so a
        cancelled predict goes on where it stopped. False predicts them again.
    threshold : float
        Confidence below which a pixel counts as low confidence.

    Returns
    -------
    list of str
        The ids that received a prediction now (skipped ones are not listed).
    """
    ids = list(project.images) if ids is None else [str(i) for i in ids]
    unknown = [i for i in ids if i not in project.images]
    if unknown:
        raise PredictError(f"no image with id {unknown[0]!r} in the project")
    if predictor is None:
        predictor = Predictor(run_dir if run_dir is not None else latest_run(project))
    if predictor.num_classes != len(project.classes):
        raise PredictError(
            f"the model predicts {predictor.num_classes} classes but the project "
            f"has {len(project.classes)}: retrain after changing classes"
        )
    run = getattr(predictor, "run", None) or S.run_identity(
        getattr(predictor, "run_dir", "unknown"), None, predictor.num_classes
    )
    index = S.load_index(project, save=False)
    if resume:
        todo = [i for i in ids if not S.fresh_from_run(project, i, run, index)]
        kept = set(ids) - set(todo)
        with project.batch():  # a fresh prediction of an image without a mask is "predicted"
            for image_id in kept:
                if (
                    not project.has_mask(image_id)
                    and project.images[image_id].status == "unlabelled"
                ):
                    project.set_status(image_id, "predicted")
    else:
        todo = ids
    skipped = len(ids) - len(todo)
    done: list[str] = []
    total = len(todo)
    scored_fn = getattr(predictor, "predict_scored", None)
    try:
        for start in range(0, total, SAVE_EVERY):
            with project.batch():  # one save of project.json per chunk, not one per image
                for k in range(start, min(start + SAVE_EVERY, total)):
                    image_id = todo[k]
                    if cancel_token is not None:
                        cancel_token.raise_if_cancelled()
                    if on_progress is not None:
                        on_progress(k, total, f"predicting {display_name(project, image_id)}")
                    entry = _predict_one(project, image_id, predictor, scored_fn, run, threshold)
                    entry["file"] = S.file_key(project.prediction_path(image_id))
                    index[image_id] = entry
                    if not project.has_mask(image_id):
                        project.set_status(image_id, "predicted")
                    done.append(image_id)
    finally:
        if done and not project.read_only:
            S.write_index(project, index)
    if on_progress is not None:
        more = f" ({skipped} already predicted by this run)" if skipped else ""
        on_progress(total, total, "done" + more)
    return done


def _predict_one(
    project: Any,
    image_id: str,
    predictor: Any,
    scored_fn: Any,
    run: dict[str, Any],
    threshold: float,
) -> dict[str, Any]:
    """Predict, score and write one image; returns its index entry."""
    photo = S.photo_identity(project, image_id)  # before reading: a change after is seen
    image = project.read_image(image_id)
    if scored_fn is not None:
        class_ids, confidence, entropy = scored_fn(image)
    else:
        class_ids, confidence = predictor.predict(image)
        entropy = None
    class_ids = np.asarray(class_ids).astype(np.uint8)
    scores = S.compute_scores(class_ids, confidence, entropy, predictor.num_classes, threshold)
    if entropy is None:
        entropy = S.entropy_from_confidence(confidence, predictor.num_classes)
    emb = S.embedding(image, class_ids, predictor.num_classes)
    meta = {"version": S.VERSION, "scores": scores, **run, **photo, "predicted_at": R.now_iso()}
    atomic_save_npz(
        project.prediction_path(image_id),
        class_ids=class_ids,
        confidence=np.asarray(confidence).astype(np.float16),
        entropy=np.asarray(entropy).astype(np.float16),
        embedding=emb,
        meta=S.meta_array(meta),
    )
    return {**meta, "embedding": [round(float(v), 5) for v in emb]}


def display_name(project: Any, image_id: str) -> str:
    """The photo's original file name (its id when the record has none)."""
    record = project.images.get(image_id)
    name = getattr(record, "original_name", "") or Path(getattr(record, "file", "") or "").name
    return name or image_id


def latest_run(project: Any) -> Path:
    """The newest run of ``project`` with a model, by the run's recorded creation time
    (``core.runs.latest_run``; never by folder name)."""
    try:
        return R.latest_run(project.runs_dir)
    except R.RunError as exc:
        raise PredictError(str(exc)) from exc


def read_prediction(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``predictions/<id>.npz`` file: ``(class_ids uint8, confidence float16)``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["class_ids"], z["confidence"]
    except (OSError, KeyError, ValueError) as exc:
        raise PredictError(f"cannot read prediction {path}: {exc}") from exc
