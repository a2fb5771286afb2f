"""``fashionseg remove`` and ``fashionseg trash``: removal is restorable, originals untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from fashionseg_gui.cli import main
from fashionseg_gui.core.project import Project


def test_remove_list_restore_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for k in range(3):
        Image.new("RGB", (40, 30), (k * 60, 20, 20)).save(src / f"photo{k}.png")
    proj = tmp_path / "proj"
    assert main(["new", str(proj)]) == 0
    assert main(["import", str(proj), str(src)]) == 0
    with Project.open(proj, read_only=True) as p:
        by_name = {r.original_name: r.id for r in p.images.values()}
    capsys.readouterr()
    assert main(["remove", str(proj), "photo0.png", by_name["photo1.png"]]) == 0
    out = capsys.readouterr().out
    assert "2 photo(s) removed" in out
    assert all((src / f"photo{k}.png").exists() for k in range(3))  # originals untouched
    with Project.open(proj, read_only=True) as p:
        assert set(p.images) == {by_name["photo2.png"]}
    assert main(["trash", str(proj)]) == 0
    listing = capsys.readouterr().out
    assert "photo0.png" in listing and "photo1.png" in listing
    assert main(["trash", str(proj), "--restore", by_name["photo0.png"]]) == 0
    assert "restored: photo0.png" in capsys.readouterr().out
    assert main(["trash", str(proj), "--empty"]) == 0
    assert "1 photo(s) deleted" in capsys.readouterr().out
    with Project.open(proj, read_only=True) as p:
        assert {r.original_name for r in p.images.values()} == {"photo0.png", "photo2.png"}
    assert main(["remove", str(proj), "nope.png"]) == 2
    assert "no image 'nope.png'" in capsys.readouterr().err
