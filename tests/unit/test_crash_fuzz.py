"""The crash test (20 SIGKILLs) and a fuzz test of the project loader."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashionseg_gui.core.project import ImageRecord, Project, ProjectError


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_twenty_kills_leave_a_trusted_project() -> None:
    from fashionseg_gui.bench.bench_crash import OPERATIONS, run_trials

    ops = tuple(op for op in OPERATIONS if op != "train")  # training: its own test below
    tallies = run_trials(20, seed=1, ops=ops, out=lambda _s: None)
    assert sum(t.tried for t in tallies.values()) == 20
    assert set(tallies) == set(ops)
    problems = {op: dict(t.reasons) for op, t in tallies.items() if t.violated}
    assert not problems


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_killed_training_leaves_whole_checkpoints() -> None:
    from fashionseg_gui.bench.bench_crash import run_trials

    tallies = run_trials(3, seed=2, ops=("train",), out=lambda _s: None, timing_runs=1)
    assert tallies["train"].tried == 3
    assert not tallies["train"].violated, dict(tallies["train"].reasons)


def test_run_checks_catch_a_torn_checkpoint(tmp_path: Path) -> None:
    from fashionseg_gui.bench.bench_crash import check_runs

    run = tmp_path / "runs" / "r1"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text('{"created": "2026-12-01T10:00:00+00:00"')  # torn
    (run / "checkpoints" / "best.keras").write_bytes(b"PK\x03\x04 half an archive")
    problems = check_runs(tmp_path)
    assert any("torn config.json" in p for p in problems)
    assert any("best.keras" in p for p in problems)


@pytest.fixture(scope="module")
def valid_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "p"
    p = Project.create(root)
    (root / "images" / "abc123.png").write_bytes(b"")
    p.images["abc123"] = ImageRecord(
        id="abc123", file="abc123.png", width=8, height=6, status="labelled", split="train"
    )
    p.settings["train"] = {"epochs": 3, "lr": 0.001}
    p.save()
    p.close()
    for b in root.glob("project.json.bak*"):
        b.unlink()
    return root


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["../../x", "/etc/passwd", "", "#zzzzzz", "red", "1e400"]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=3)
    ),
    max_leaves=8,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_loader_fuzz_only_project_error_escapes(valid_project: Path, data: st.DataObject) -> None:
    base = json.loads((valid_project / "project.json").read_text())
    doc = json.loads(json.dumps(base))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        kind = data.draw(st.sampled_from(["replace", "delete", "raw"]))
        if not path or kind == "raw":
            break
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(_VALUES)
    text = json.dumps(doc)
    if data.draw(st.booleans()):  # byte-level damage too: cut, NaN, deep nesting
        cut = data.draw(st.integers(0, len(text)))
        text = data.draw(
            st.sampled_from(
                [
                    text[:cut],
                    text.replace("0.001", "NaN"),
                    text[:cut] + "[" * 5000 + text[cut:],
                    text,
                ]
            )
        )
    root = valid_project.parent / "case"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(valid_project, root)
    (root / "project.json").write_text(text)
    try:
        p = Project.open(root)
    except ProjectError:
        return
    try:
        for iid in p.images:
            assert p.image_path(iid).resolve().is_relative_to(root.resolve())
        p.save()  # whatever loaded can be saved again
    finally:
        p.close()
