"""core.provenance and core.rounds: review records, stale predictions, effort, rounds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.cli import main
from fashionseg_gui.core import data as D
from fashionseg_gui.core import provenance as P
from fashionseg_gui.core import rounds as RD
from fashionseg_gui.core.atomic import atomic_save_npz, atomic_write_json
from fashionseg_gui.core.project import Project


def _project(
    tmp_path: Path, n: int = 4, labelled: int = 2, start: int = 0, project: Project | None = None
) -> Project:
    project = project or Project.create(tmp_path / "p")
    rng = np.random.default_rng(start)
    for i in range(start, start + n):
        path = tmp_path / f"photo{i}.png"
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
        image_id = project.add_image_file(path).image_id
        if i - start < labelled:
            mask = np.zeros((24, 32), np.uint8)
            mask[:, : 8 + i % 20] = 1 + i % 3
            project.write_mask(image_id, mask)
    project.save()
    return project


def _predict(project: Project, image_id: str, **meta) -> np.ndarray:
    rec = project.images[image_id]
    ids = np.ones((rec.height, rec.width), np.uint8)
    conf = np.full(ids.shape, 0.9, np.float16)
    values = {
        "run": "r1",
        "class_names": [c.name for c in project.classes],
        "image_sha256": rec.sha256,
        **meta,
    }
    atomic_save_npz(
        project.prediction_path(image_id),
        class_ids=ids,
        confidence=conf,
        **P.prediction_meta(values["run"], values["class_names"], values["image_sha256"]),
    )
    project.set_status(image_id, "predicted")
    return ids


def test_active_timer_skips_idle_gaps() -> None:
    t = P.ActiveTimer()
    for now in (0.0, 2.0, 5.0, 100.0, 101.0):
        t.event(now)
    assert t.seconds == pytest.approx(6.0)  # 2 + 3 + 1; the 95 s pause is not counted
    t.pause()
    t.event(500.0)
    assert t.seconds == pytest.approx(6.0)


def test_provenance_is_saved_validated_and_old_projects_still_load(tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = next(i for i, r in project.images.items() if r.status == "unlabelled")
    _predict(project, target)
    assert P.pending_ids(project) == [target]
    project.write_mask(target, np.ones((24, 32), np.uint8), status="corrected")
    P.record(
        project, target, run="r1", pixels_changed=48, pixels=768, active_seconds=12.5, accepted=True
    )
    again = Project.open(project.root, read_only=True)
    entry = P.get(again, target)
    assert entry["run"] == "r1" and entry["changed_share"] == pytest.approx(48 / 768)
    assert entry["accepted"] and entry["accepted_at"]
    totals = P.totals(again)
    assert totals["photos_corrected"] == 1 and totals["pixels_changed"] == 48
    assert totals["minutes"] == pytest.approx(12.5 / 60) and totals["pending_review"] == 0
    project.close()
    # a project written before provenance existed (no field) loads; a bad value is refused
    pfile = project.root / "project.json"
    data = json.loads(pfile.read_text())
    for d in data["images"]:
        d.pop("provenance", None)
    pfile.write_text(json.dumps(data))
    old = Project.open(project.root, read_only=True)
    assert all(r.provenance is None for r in old.images.values())
    from fashionseg_gui.core.schema import SchemaError, validate_project

    data["images"][0]["provenance"] = "not an object"
    with pytest.raises(SchemaError, match="provenance"):
        validate_project(data)


def test_stale_predictions_are_named(tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = next(i for i, r in project.images.items() if r.status == "unlabelled")
    _predict(project, target)
    info = P.read_prediction_info(project, target)
    assert info.run == "r1" and P.stale_reason(project, target, info) is None
    _predict(project, target, class_names=["background", "x"])
    reason = P.stale_reason(project, target, P.read_prediction_info(project, target))
    assert "classes" in reason and "retrain" in reason
    _predict(project, target, image_sha256="f" * 64)
    assert "photo changed" in P.stale_reason(
        project, target, P.read_prediction_info(project, target)
    )
    # an older prediction file without metadata is still reviewable
    rec = project.images[target]
    atomic_save_npz(
        project.prediction_path(target),
        class_ids=np.ones((rec.height, rec.width), np.uint8),
        confidence=np.ones((rec.height, rec.width), np.float16),
    )
    info = P.read_prediction_info(project, target)
    assert info.run == "" and P.stale_reason(project, target, info) is None
    atomic_save_npz(
        project.prediction_path(target),
        class_ids=np.ones((10, 10), np.uint8),
        confidence=np.ones((10, 10)),
    )
    assert "photo changed" in P.stale_reason(
        project, target, P.read_prediction_info(project, target)
    )


def test_diff_map_and_low_confidence_contours() -> None:
    label = np.zeros((20, 20), np.uint8)
    pred = np.zeros((20, 20), np.uint8)
    pred[5:10, 5:10] = 2
    label[0, 0] = 255
    pred[0, 0] = 1
    conf = np.full((20, 20), 0.8, np.float32)
    from fashionseg_gui.core.label_errors import diff_map

    d = diff_map(label, pred, conf)
    assert d.dtype == np.float32 and d[7, 7] == pytest.approx(0.8)
    assert d[0, 0] == 0 and d[15, 15] == 0  # unlabelled and agreeing pixels score 0
    conf[2:6, 12:18] = 0.2
    conf[14:18, 2:5] = 0.4
    contours = P.low_confidence_contours(conf, 0.5)
    assert len(contours) == 2
    assert P.low_confidence_contours(conf, 0.1) == []


def test_reject_keeps_the_users_shapes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = next(i for i, r in project.images.items() if r.status == "unlabelled")
    _predict(project, target)
    shape = {"kind": "rect", "class_id": 2, "x": 1, "y": 1, "w": 4, "h": 3}
    project.save_annotation(target, np.ones((24, 32), np.uint8), [shape], status="corrected")
    P.record(
        project, target, run="r1", pixels_changed=12, pixels=768, active_seconds=3, accepted=False
    )  # an autosaved review, not accepted
    assert P.review_pending(project, target)
    assert P.reject(project, target) == "labelled"
    mask = project.read_mask(target)
    assert (mask == 2).sum() > 0 and (mask == 1).sum() == 0  # only the shape is left
    assert not project.prediction_path(target).exists()
    assert P.get(project, target) is None and not P.review_pending(project, target)


def _fake_run(
    project: Project,
    name: str,
    created: str,
    miou: float,
    val_ids: list[str],
    train_ids: list[str],
    counts: bool = True,
    resume: str | None = None,
) -> Path:
    run = project.runs_dir / name
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "best.keras").write_bytes(b"x")
    extra = (
        {"labelled_images": len(val_ids) + len(train_ids), "corrected_images": 1} if counts else {}
    )
    atomic_write_json(run / "config.json", {"created": created, "resume_from": resume, **extra})
    atomic_write_json(
        run / "metrics.json",
        {"created": created, "best_val_miou": miou, "stopped": "done", **extra},
    )
    atomic_write_json(run / "dataset.json", {"train_ids": train_ids, "val_ids": val_ids})
    return run


def test_round_history_effort_and_stable_validation_split(tmp_path: Path) -> None:
    project = _project(tmp_path, n=10, labelled=10)
    _, val, first = D.split_samples(D.samples_from_project(project), 0.1, 0, 4, project=project)
    val_ids = sorted(s.id for s in val)
    train_ids = sorted(i for i, s in first.items() if s == "train")
    # round 1: an older run without the counts; then one review accepted; round 2
    _fake_run(project, "a", "2026-01-01T10:00:00+00:00", 0.41, val_ids, train_ids, counts=False)
    some = train_ids[0]
    project.images[some].provenance = {
        "run": "a",
        "pixels_changed": 30,
        "pixels": 768,
        "active_seconds": 90.0,
        "accepted": True,
        "accepted_at": "2026-01-01T11:00:00+00:00",
    }
    project.save()
    _fake_run(
        project,
        "b",
        "2026-01-01T12:00:00+00:00",
        0.55,
        val_ids,
        train_ids,
        resume=str(project.runs_dir / "a"),
    )
    rounds = RD.history(project)
    assert [r.name for r in rounds] == ["a", "b"]
    assert rounds[0].labelled == 10 and rounds[0].corrected is None  # read gracefully
    assert rounds[0].effort_photos == 0
    assert rounds[1].effort_photos == 1 and rounds[1].effort_pixels == 30
    assert rounds[1].effort_minutes == pytest.approx(1.5)
    assert RD.best(rounds).name == "b"
    assert RD.curve(rounds) == ([10, 10], [0.41, 0.55])
    # 50 photos later the validation split of the rounds is unchanged
    _project(tmp_path, n=50, labelled=50, start=100, project=project)
    D.split_samples(D.samples_from_project(project), 0.1, 0, 4, project=project)
    now = RD.validation_ids(project)
    assert set(rounds[1].val_ids) <= set(now)
    assert all(project.images[i].split == "train" for i in train_ids)


def test_cli_info_shows_provenance_and_effort(tmp_path: Path, capsys) -> None:
    project = _project(tmp_path)
    todo = [i for i, r in project.images.items() if r.status == "unlabelled"]
    for image_id in todo:
        _predict(project, image_id)
    project.write_mask(todo[0], np.ones((24, 32), np.uint8), status="corrected")
    P.record(
        project, todo[0], run="r1", pixels_changed=77, pixels=768, active_seconds=120, accepted=True
    )
    project.close()
    assert main(["info", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "review   1 predictions accepted as corrected, 1 waiting for review" in out
    assert "77 pixels changed of 768 (10.0 %), 2.0 active minutes" in out
    assert "predicted by  r1 1" in out
