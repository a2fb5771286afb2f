"""Prediction with a trained run: :class:`Predictor` and :func:`predict_project`.

TensorFlow is imported when a :class:`Predictor` is created, not when this module is.
The Predictor runs the same in-graph letterbox / un-letterbox as the exported SavedModel
(``core.serving.make_serving_function``), so both give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fashionseg_gui.core import runs as R
from fashionseg_gui.core.atomic import atomic_save_npz
from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.provenance import prediction_meta

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
    """

    def __init__(self, run_dir: str | Path, which: str = "best") -> None:
        import tensorflow as tf

        from fashionseg_gui.core.model import fold_batch_norm
        from fashionseg_gui.core.serving import load_run, make_label_function

        self.run_dir = Path(run_dir)
        model, info = load_run(self.run_dir, which)  # TrainError, worded, if it cannot
        # inference graph: batch normalisation folded into the convolutions (as exported)
        self.model = fold_batch_norm(model)
        self.num_classes: int = info["num_classes"]
        self.class_names: list[str] | None = info.get("class_names")
        self.target_hw = (int(info["input_height"]), int(info["input_width"]))
        self.multiple = int(info["multiple"])
        label = make_label_function(self.model, self.target_hw, self.multiple)
        # one trace for any photo size (the model itself always sees the letterbox size)
        traced = tf.function(label, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8)]).get_concrete_function()
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
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PredictError(f"expected a uint8 (H, W, 3) RGB photo; got {image.dtype} "
                               f"{image.shape}")
        out = self._fn(image[None])
        return out["class_ids"].numpy()[0], out["confidence"].numpy()[0]


def _frozen(concrete: Any) -> Callable[[Any], dict[str, Any]]:
    """``concrete`` with its weights turned into graph constants, same outputs.

    With constant weights oneDNN converts each convolution's kernel to its blocked (and
    bfloat16) layout once instead of at every call: 2.7 ms less per photo. Falls back to
    the function itself where the conversion is not available.
    """
    import tensorflow as tf

    try:
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )
        frozen = convert_variables_to_constants_v2(concrete)
    except (ImportError, ValueError):  # an API move in a future TensorFlow
        return lambda images: concrete(tf.convert_to_tensor(images))
    structure = concrete.structured_outputs

    def call(images: Any) -> dict[str, Any]:
        return tf.nest.pack_sequence_as(structure, frozen(tf.convert_to_tensor(images)))

    return call


def predict_project(
    project: Any,
    ids: Iterable[str] | None = None,
    cancel_token: CancelToken | None = None,
    on_progress: Callable[..., None] | None = None,
    run_dir: str | Path | None = None,
    predictor: Predictor | None = None,
) -> list[str]:
    """Predict images of a project and write ``predictions/<id>.npz``.

    Each file holds ``class_ids`` (uint8) and ``confidence`` (float16), and the run, class
    names and photo SHA-256 it was made with (``core.provenance.prediction_meta``). Images without a
    user mask get status ``"predicted"``; labelled/corrected images keep their status.

    Parameters
    ----------
    project : Project
        The open project.
    ids : iterable of str, optional
        Which images; default all.
    cancel_token : CancelToken, optional
        Checked before each image; raises ``Cancelled``.
    on_progress : callable, optional
        ``on_progress(done, total, text)``.
    run_dir : path, optional
        Run to use; default the newest run of the project that has a best checkpoint.
    predictor : Predictor, optional
        An already loaded predictor (then ``run_dir`` is ignored).

    Returns
    -------
    list of str
        The ids that received a prediction.
    """
    ids = list(project.images) if ids is None else [str(i) for i in ids]
    unknown = [i for i in ids if i not in project.images]
    if unknown:
        raise PredictError(f"no image with id {unknown[0]!r} in the project")
    if predictor is None:
        predictor = Predictor(run_dir if run_dir is not None else latest_run(project))
    if predictor.num_classes != len(project.classes):
        raise PredictError(f"the model predicts {predictor.num_classes} classes but the project "
                           f"has {len(project.classes)}: retrain after changing classes")
    class_names = [c.name for c in project.classes]
    done: list[str] = []
    total = len(ids)
    for start in range(0, total, SAVE_EVERY):
        with project.batch():  # one save of project.json per chunk, not one per image
            for k in range(start, min(start + SAVE_EVERY, total)):
                image_id = ids[k]
                if cancel_token is not None:
                    cancel_token.raise_if_cancelled()
                if on_progress is not None:
                    on_progress(k, total, f"predicting {display_name(project, image_id)}")
                class_ids, confidence = predictor.predict(project.read_image(image_id))
                atomic_save_npz(project.prediction_path(image_id),
                                class_ids=class_ids.astype(np.uint8),
                                confidence=confidence.astype(np.float16),
                                **prediction_meta(Path(getattr(predictor, "run_dir", "")).name,
                                                  class_names,
                                                  project.images[image_id].sha256))
                if not project.has_mask(image_id):
                    project.set_status(image_id, "predicted")
                done.append(image_id)
    if on_progress is not None:
        on_progress(total, total, "done")
    return done


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
