"""The correction loop's core: scores, the label-next queue, the label-error finder, resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.core import label_errors as LE
from fashionseg_gui.core import queue as Q
from fashionseg_gui.core import scores as S
from fashionseg_gui.core.cancel import Cancelled, CancelSource
from fashionseg_gui.core.predict import predict_project
from fashionseg_gui.core.project import Project

H, W = 24, 32
CLASSES = [("background", "#000000"), ("top", "#ff0000"), ("skirt", "#0000ff")]


def _truth(level: int) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[4:14, 4:14] = 1
    mask[12:22, 16:30] = 2
    return mask


class FakePredictor:
    """Predicts the true layout; the confidence of each photo is set by its grey level."""

    num_classes = 3

    def __init__(
        self,
        project: Project,
        confidence_by_level: dict[int, float],
        name: str = "run-a",
        cancel_after: int | None = None,
        source: CancelSource | None = None,
    ) -> None:
        run = Path(project.runs_dir) / name
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps({"created": "2026-01-01T00:00:00+00:00"}))
        self.run = S.run_identity(run, [c[0] for c in CLASSES], 3)
        self.levels = confidence_by_level
        self.calls: list[int] = []
        self.cancel_after = cancel_after
        self.source = source

    def predict_scored(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        level = int(image[0, 0, 0])
        self.calls.append(level)
        if self.cancel_after is not None and len(self.calls) >= self.cancel_after:
            self.source.cancel()
        q = self.levels.get(level, 0.9)
        conf = np.full((H, W), q, np.float32)
        probs = np.empty((H, W, 3), np.float32)
        probs[...] = (1 - q) / 2
        ids = _truth(level)
        for c in range(3):
            probs[..., c] = np.where(ids == c, q, (1 - q) / 2)
        return ids, conf, S.pixel_entropy(probs)

    def predict(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids, conf, _ = self.predict_scored(image)
        return ids, conf


def _project(tmp_path: Path, levels: list[int], labelled: int = 0) -> tuple[Project, list[str]]:
    project = Project.create(tmp_path / "p", CLASSES)
    ids = []
    for k, level in enumerate(levels):
        path = tmp_path / f"photo{k}.png"
        photo = np.full((H, W, 3), level, np.uint8)
        photo[1:, :, 1] = (k * 37) % 255  # photos differ beyond the level pixel
        Image.fromarray(photo).save(path)
        image_id = project.add_image_file(path).image_id
        ids.append(image_id)
        if k < labelled:
            project.write_mask(image_id, _truth(level))
    project.save()
    return project, ids


def test_entropy_is_zero_when_certain_and_one_when_uniform() -> None:
    sure = np.zeros((2, 2, 4), np.float32)
    sure[..., 1] = 1
    assert np.allclose(S.pixel_entropy(sure), 0)
    assert np.allclose(S.pixel_entropy(np.full((2, 2, 4), 0.25)), 1, atol=1e-5)
    proxy = S.entropy_from_confidence(np.array([1.0, 1 / 3]), 3)
    assert proxy[0] == pytest.approx(0, abs=1e-6) and proxy[1] == pytest.approx(1, abs=1e-4)


def test_prediction_scores_are_stored_in_the_file_and_the_index(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20])
    fake = FakePredictor(project, {10: 0.95, 20: 0.5})
    assert predict_project(project, predictor=fake) == ids
    meta, emb = S.read_meta(project.prediction_path(ids[1]))
    assert meta["run"] == "run-a" and meta["scores"]["entropy_source"] == "probabilities"
    assert meta["scores"]["low_confidence_share"] == 1.0  # 0.5 < 0.6 everywhere
    assert meta["scores"]["class_confidence"] == {"0": 0.5, "1": 0.5, "2": 0.5}
    assert emb is not None and emb.dtype == np.float32
    with np.load(project.prediction_path(ids[1])) as z:
        assert z["entropy"].dtype == np.float16 and z["entropy"].shape == (H, W)
    index = json.loads(S.index_path(project).read_text())["images"]
    assert set(index) == set(ids)
    assert index[ids[0]]["scores"]["mean_entropy"] < index[ids[1]]["scores"]["mean_entropy"]
    # the index is rebuilt from the files when it is lost
    S.index_path(project).unlink()
    rebuilt = S.load_index(project)
    assert rebuilt[ids[1]]["scores"] == index[ids[1]]["scores"]
    assert S.index_path(project).exists()


def test_queue_order_follows_uncertainty(tmp_path: Path) -> None:
    # two photos with known confidence maps: the less confident one comes first
    project, ids = _project(tmp_path, [10, 20, 30], labelled=1)
    fake = FakePredictor(project, {10: 0.99, 20: 0.9, 30: 0.45})
    predict_project(project, ids[1:], predictor=fake)
    queue = Q.build_queue(project, "uncertainty")
    assert queue.ids == [ids[2], ids[1]]  # the labelled photo is not in the queue
    assert queue.items[0].score > queue.items[1].score
    assert queue.scores()[ids[2]] == queue.items[0].mean_entropy
    # the other way round when the confidences swap
    fake2 = FakePredictor(project, {20: 0.3, 30: 0.95}, name="run-b")
    predict_project(project, ids[1:], predictor=fake2)
    assert Q.build_queue(project, "uncertainty").ids == [ids[1], ids[2]]


def test_diverse_queue_does_not_put_near_duplicates_together() -> None:
    emb = [[0.0, 0.0], [0.01, 0.0], [0.02, 0.0], [5.0, 5.0]]
    order = Q.k_center_order(["a", "b", "c", "far"], emb, [0.9, 0.89, 0.88, 0.5])
    assert order[:2] == ["a", "far"]


def test_diverse_queue_through_the_index(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20, 30, 40])
    predict_project(
        project, predictor=FakePredictor(project, {10: 0.4, 20: 0.41, 30: 0.42, 40: 0.9})
    )
    queue = Q.build_queue(project, "diverse")
    assert sorted(queue.ids) == sorted(ids) and queue.ids[0] == ids[0]


def test_resume_after_cancel_predicts_only_the_rest(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20, 30, 40, 50])
    source = CancelSource()
    first = FakePredictor(project, {}, cancel_after=2, source=source)
    with pytest.raises(Cancelled):
        predict_project(project, cancel_token=source.token, predictor=first)
    assert first.calls == [10, 20]
    assert [project.images[i].status for i in ids] == ["predicted"] * 2 + ["unlabelled"] * 3
    # the cancelled predict indexed what it finished
    assert set(S.load_index(project, save=False)) == set(ids[:2])
    again = FakePredictor(project, {})
    done = predict_project(project, predictor=again)
    assert again.calls == [30, 40, 50] and done == ids[2:]
    # a different run predicts everything again; resume=False too
    other = FakePredictor(project, {}, name="run-b")
    assert predict_project(project, predictor=other) == ids
    forced = FakePredictor(project, {}, name="run-b")
    assert predict_project(project, predictor=forced, resume=False) == ids


def test_stale_prediction_is_reported_and_kept(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20, 30])
    predict_project(project, predictor=FakePredictor(project, {}))
    # the photo of ids[0] changes on disk (same size, other pixels)
    path = project.image_path(ids[0])
    photo = np.asarray(Image.open(path)).copy()
    photo[5:10, 5:10] = 250
    Image.fromarray(photo).save(path)
    fresh, stale = S.scored(project)
    assert ids[0] in stale and "the photo changed after run run-a predicted it" in stale[ids[0]]
    assert set(fresh) == set(ids[1:])
    queue = Q.build_queue(project)
    assert ids[0] not in queue.ids and ids[0] in queue.stale
    assert "1 with a stale prediction left out" in queue.summary()
    assert project.prediction_path(ids[0]).exists()  # nothing is lost
    # resume predicts the changed photo again (its prediction is not fresh)
    again = FakePredictor(project, {})
    assert predict_project(project, predictor=again) == [ids[0]]


def test_prediction_of_other_classes_is_stale(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20])
    predict_project(project, predictor=FakePredictor(project, {}))
    project.rename_class(2, "dress")
    _fresh, stale = S.scored(project)
    assert set(stale) == set(ids)
    assert "predicted the classes (background, top, skirt)" in stale[ids[0]]
    assert "now has (background, top, dress)" in stale[ids[0]]


def test_older_prediction_without_scores_is_stale_not_an_error(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10])
    np.savez(
        project.prediction_path(ids[0]),
        class_ids=_truth(10),
        confidence=np.ones((H, W), np.float16),
    )
    _fresh, stale = S.scored(project)
    assert "has no scores" in stale[ids[0]]


def test_diff_map_is_zero_where_label_and_prediction_agree() -> None:
    label = np.array([[0, 1], [2, 255]], np.uint8)
    pred = np.array([[0, 2], [2, 1]], np.uint8)
    conf = np.array([[0.9, 0.8], [0.7, 0.6]], np.float32)
    out = LE.diff_map(label, pred, conf)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    assert out.tolist() == [[0.0, pytest.approx(0.8)], [0.0, 0.0]]


def test_finder_ranks_a_corrupted_label_first_and_mark_right_drops_it(tmp_path: Path) -> None:
    project, ids = _project(tmp_path, [10, 20, 30, 40], labelled=4)
    bad = _truth(30)
    bad[bad == 1] = 2  # classes swapped in a region
    project.write_mask(ids[2], bad)
    predict_project(project, predictor=FakePredictor(project, {}))
    found = LE.find_label_errors(project)
    assert found.ids[0] == ids[2]
    assert found.items[0].iou < 0.6 and all(e.iou == 1.0 for e in found.items[1:])
    assert found.items[0].worst_class == 1
    # no dataset.json for run-a: the finder says it cannot tell the photo was held out
    assert found.items[0].source == LE.TRAINED
    # a run that validated on ids[2] makes it held-out
    (Path(project.runs_dir) / "run-a" / "dataset.json").write_text(
        json.dumps({"train_ids": ids[:2] + ids[3:], "val_ids": [ids[2]]})
    )
    found = LE.find_label_errors(project)
    assert found.items[0].source == LE.HELD_OUT and found.sources()[LE.TRAINED] == 3
    assert [e.id for e in LE.find_label_errors(project, held_out_only=True).items] == [ids[2]]
    # per class: the photo is worst for class 1 too
    assert LE.find_label_errors(project, class_id=1).ids[0] == ids[2]
    LE.mark_label_right(project, ids[2])
    reopened = Project.open(project.root, read_only=True)
    try:
        found = LE.find_label_errors(reopened)
        assert ids[2] not in found.ids and found.confirmed == [ids[2]]
    finally:
        reopened.close()
    # changing the mask brings it back
    project.write_mask(ids[2], _truth(30))
    assert ids[2] in LE.find_label_errors(project).ids


@pytest.mark.slow
def test_kfold_cross_prediction_predicts_every_label_with_a_model_that_never_saw_it(
    tmp_path: Path,
) -> None:
    from fashionseg_gui.core.train_config import TrainConfig

    project, ids = _project(tmp_path, [10, 20, 30, 40, 50, 60], labelled=6)
    config = TrainConfig.from_dict(
        {
            "epochs": 1,
            "batch_size": 2,
            "input_height": 24,
            "input_width": 32,
            "depth": 2,
            "base_width": 4,
            "mixed_precision": "off",
            "recipe": "manual",
        }
    )
    progress: list[str] = []
    done = LE.cross_predict(project, config, k=2, on_progress=lambda d, t, x: progress.append(x))
    assert sorted(done) == sorted(ids)
    assert progress[0].startswith("fold 1/2: training on 3 photos") and progress[-1] == "done"
    found = LE.find_label_errors(project)
    assert found.sources() == {LE.KFOLD: 6}
    folds = {S.read_meta(project.prediction_path(i))[0]["kfold"] for i in ids}
    assert folds == {"1/2", "2/2"}
    # the fold models are not runs of the project
    from fashionseg_gui.core import runs as R

    assert R.list_runs(project.runs_dir) == []
    assert len(list((Path(project.runs_dir) / ".kfold").iterdir())) == 2
    with pytest.raises(Exception, match="at least 2 folds"):
        LE.cross_predict(project, config, k=1)
