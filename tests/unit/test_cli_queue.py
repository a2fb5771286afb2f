"""``fashionseg predict --ids/--queue/--labelled`` and ``fashionseg queue``, with a real run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic import CLASSES, TINY_TRAIN_ARGS, synthetic_samples

from fashionseg_gui.cli import main
from fashionseg_gui.core import scores as S
from fashionseg_gui.core.project import Project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_queue")
    project = Project.create(root / "p", [(c, "#123456") for c in CLASSES])
    for k, s in enumerate(synthetic_samples(9, seed=4)):
        path = root / f"shot{k}.png"
        Image.fromarray(s.load_image()).save(path)
        image_id = project.add_image_file(path).image_id
        if k < 5:
            project.write_mask(image_id, s.load_mask())
    project.save()
    project.close()
    assert main(["train", str(root / "p"), *TINY_TRAIN_ARGS]) == 0
    return root / "p"


@pytest.fixture
def proj(trained: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(trained, out, ignore=shutil.ignore_patterns(".fashionseg.lock"))
    return out


def _unlabelled(proj: Path) -> list[str]:
    with Project.open(proj, read_only=True) as p:
        return [i for i in p.images if not p.has_mask(i)]


def test_predict_ids_then_queue_then_predict_the_queue(proj: Path, capsys) -> None:
    ids = _unlabelled(proj)
    assert main(["predict", str(proj), "--ids", ids[0]]) == 0
    assert "predicted 1 images" in capsys.readouterr().out
    # the real network stores its entropy and scores
    with Project.open(proj, read_only=True) as p:
        meta, emb = S.read_meta(p.prediction_path(ids[0]))
        assert meta["scores"]["entropy_source"] == "probabilities"
        assert 0.0 <= meta["scores"]["mean_entropy"] <= 1.0 and emb is not None
        with np.load(p.prediction_path(ids[0])) as z:
            assert z["entropy"].shape == z["class_ids"].shape
    assert main(["predict", str(proj), "--unlabelled"]) == 0
    out = capsys.readouterr().out
    assert f"predicted {len(ids) - 1} images (1 already had a fresh prediction" in out
    assert main(["queue", str(proj), "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert sorted(r["id"] for r in ranked["items"]) == sorted(ids)
    entropies = [r["mean_entropy"] for r in ranked["items"]]
    assert entropies == sorted(entropies, reverse=True)
    assert main(["queue", str(proj), "--by", "diverse", "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{len(ids)} photos ranked by diverse") and len(lines) == 3
    # --queue N predicts the top N again only with --force (they are fresh)
    assert main(["predict", str(proj), "--queue", "2"]) == 0
    assert "predicted 0 images (2 already had" in capsys.readouterr().out
    assert main(["predict", str(proj), "--queue", "2", "--force"]) == 0
    assert "predicted 2 images\n" in capsys.readouterr().out


def test_queue_by_disagreement_says_where_the_predictions_come_from(proj: Path, capsys) -> None:
    assert main(["queue", str(proj), "--by", "disagreement"]) == 0
    assert "5 without a prediction" in capsys.readouterr().out
    assert main(["predict", str(proj), "--labelled"]) == 0
    capsys.readouterr()
    assert main(["queue", str(proj), "--by", "disagreement", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found["items"]) == 5
    assert {r["prediction"] for r in found["items"]} <= {"held-out", "trained on it"}
    ious = [r["iou"] for r in found["items"]]
    assert ious == sorted(ious)
    assert main(["queue", str(proj), "--by", "disagreement", "--class", "nope"]) == 2
    assert "no class 'nope'" in capsys.readouterr().err


def test_predict_queue_on_an_empty_queue_is_worded(proj: Path, capsys) -> None:
    assert main(["predict", str(proj), "--queue", "3"]) == 2
    assert "the label-next queue is empty" in capsys.readouterr().err


def test_stale_prediction_is_reported_by_queue(proj: Path, capsys) -> None:
    ids = _unlabelled(proj)
    assert main(["predict", str(proj), "--ids", *ids[:2]]) == 0
    with Project.open(proj) as p:
        path = p.image_path(ids[0])
        photo = np.asarray(Image.open(path)).copy()
        photo[:4, :4] = 255 - photo[:4, :4]
        Image.fromarray(photo).save(path)
    capsys.readouterr()
    assert main(["queue", str(proj)]) == 0
    captured = capsys.readouterr()
    assert "1 photos ranked by uncertainty; 1 with a stale prediction left out" in captured.out
    assert "the photo changed after run" in captured.err
