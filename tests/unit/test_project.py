"""The project folder: create/open, atomic saves, backups, lock, migration, failures."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from fashionseg_gui.core import atomic
from fashionseg_gui.core.project import (
    DEFAULT_CLASSES,
    IGNORE,
    SCHEMA_VERSION,
    ImageRecord,
    Project,
    ProjectError,
    ReadOnlyError,
)


def _add_fake_image(project: Project, w: int = 8, h: int = 6) -> str:
    """Register an image without the importer (keeps these tests independent of it)."""
    from PIL import Image

    image_id = f"img{len(project.images):04d}"
    Image.new("RGB", (w, h), (10, 20, 30)).save(project.root / "images" / f"{image_id}.png")
    project.images[image_id] = ImageRecord(
        id=image_id,
        file=f"{image_id}.png",
        width=w,
        height=h,
        original_name=f"photo {image_id}.png",
    )
    project.save()
    return image_id


def test_create_has_default_classes_and_folders(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    assert [c.name for c in p.classes] == [n for n, _ in DEFAULT_CLASSES]
    assert [c.id for c in p.classes] == [0, 1, 2, 3]
    assert [c.shortcut for c in p.classes[1:]] == ["1", "2", "3"]
    for sub in ("images", "masks", "shapes", "predictions", "runs"):
        assert (tmp_path / "p" / sub).is_dir()
    data = json.loads((tmp_path / "p" / "project.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(tmp_path / "p")
    p.close()


def test_roundtrip_records_masks_shapes(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    iid = _add_fake_image(p)
    assert not p.has_mask(iid)
    assert (p.read_mask(iid) == IGNORE).all()
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 3:6] = 2
    p.write_mask(iid, mask)
    p.write_shapes(iid, [{"kind": "rect", "x": 3, "y": 2, "w": 3, "h": 2, "class_id": 2}])
    p.set_split(iid, "val")
    p.add_class("grunge", "#112233")
    p.close()
    q = Project.open(tmp_path / "p")
    assert q.images[iid].status == "labelled" and q.images[iid].split == "val"
    assert np.array_equal(q.read_mask(iid), mask)
    assert q.read_shapes(iid)[0]["kind"] == "rect"
    assert q.classes[-1].name == "grunge" and q.classes[-1].color == "#112233"
    with pytest.raises(ProjectError):
        q.write_mask(iid, np.zeros((5, 8), np.uint8))
    q.close()


def test_backups_rotate_three(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    for i in range(6):
        p.set_setting("n", i)
    root = tmp_path / "p"
    values = [
        json.loads((root / f"project.json.bak{k}").read_text())["settings"]["n"] for k in (1, 2, 3)
    ]
    assert values == [4, 3, 2]
    assert not (root / "project.json.bak4").exists()
    p.close()


def test_corrupt_project_json_recovers_from_backup(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    p.set_setting("n", 1)
    p.set_setting("n", 2)
    p.close()
    (tmp_path / "p" / "project.json").write_text('{"schema_version": 1, "cla')
    q = Project.open(tmp_path / "p")
    assert q.settings["n"] == 1
    assert q.open_warnings and "recovered from project.json.bak1" in q.open_warnings[0]
    q.close()


def test_delete_class_remaps_masks(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    iid = _add_fake_image(p)
    mask = np.array([[0, 1, 2, 3, 255, 3, 2, 1]] * 6, np.uint8)
    p.write_mask(iid, mask)
    p.delete_class(2, pixels_to=None)
    assert [c.name for c in p.classes] == ["background", "bohemian", "streetwear"]
    assert p.read_mask(iid)[0].tolist() == [0, 1, 255, 2, 255, 2, 255, 1]
    p.delete_class(1, pixels_to=2)  # bohemian -> streetwear (id 2 becomes 1)
    assert p.read_mask(iid)[0].tolist() == [0, 1, 255, 1, 255, 1, 255, 1]
    with pytest.raises(ProjectError):
        p.delete_class(0)
    p.close()


def test_newer_schema_refused_older_migrated(tmp_path: Path) -> None:
    root = tmp_path / "new"
    root.mkdir()
    (root / "project.json").write_text(json.dumps({"schema_version": 99, "classes": []}))
    with pytest.raises(ProjectError, match="newer FashionSeg Studio"):
        Project.open(root)
    old = tmp_path / "old"
    (old / "images").mkdir(parents=True)
    v0 = {
        "classes": ["background", "boho"],
        "images": [{"file": "a.jpg", "width": 4, "height": 3, "labelled": True}],
    }
    (old / "project.json").write_text(json.dumps(v0))
    p = Project.open(old)
    assert [c.name for c in p.classes] == ["background", "boho"]
    (rec,) = p.images.values()
    assert rec.status == "labelled" and rec.file == "a.jpg"
    assert json.loads((old / "project.json.v0.bak").read_text()) == v0
    assert json.loads((old / "project.json").read_text())["schema_version"] == SCHEMA_VERSION
    p.close()


def test_second_instance_is_read_only_and_stale_lock_taken_over(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    iid = _add_fake_image(p)
    before = (tmp_path / "p" / "project.json").read_bytes()
    code = textwrap.dedent(f"""
        from fashionseg_gui.core.project import Project, ReadOnlyError
        q = Project.open({str(tmp_path / "p")!r})
        assert q.read_only, "second instance must be read-only"
        print(q.read_only_reason)
        try:
            q.set_status({iid!r}, "labelled")
        except ReadOnlyError:
            print("refused")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "open in process" in out.stdout and "refused" in out.stdout
    assert (tmp_path / "p" / "project.json").read_bytes() == before
    p.close()
    # A lock left by a dead process (same host) is taken over.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    import socket

    (tmp_path / "p" / ".fashionseg.lock").write_text(
        json.dumps({"pid": int(dead), "host": socket.gethostname(), "time": time.time()})
    )
    q = Project.open(tmp_path / "p")
    assert not q.read_only
    q.close()
    assert not (tmp_path / "p" / ".fashionseg.lock").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_opens_read_only(tmp_path: Path) -> None:  # pragma: no cover - non-root
    p = Project.create(tmp_path / "p")
    p.close()
    os.chmod(tmp_path / "p", 0o555)
    try:
        q = Project.open(tmp_path / "p")
        assert q.read_only
    finally:
        os.chmod(tmp_path / "p", 0o755)


def test_unwritable_folder_opens_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores permission bits, so the unwritable folder is simulated at os.access."""
    p = Project.create(tmp_path / "p")
    p.close()
    root = tmp_path / "p"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != root)
    q = Project.open(root)
    assert q.read_only and "not writable" in q.read_only_reason
    assert not (root / ".fashionseg.lock").exists()
    with pytest.raises(ReadOnlyError):
        q.save()


def test_read_only_open_refuses_writes_and_changes_nothing(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    iid = _add_fake_image(p)
    p.close()
    snapshot = {f: f.read_bytes() for f in (tmp_path / "p").rglob("*") if f.is_file()}
    q = Project.open(tmp_path / "p", read_only=True)
    with pytest.raises(ReadOnlyError):
        q.write_mask(iid, np.zeros((6, 8), np.uint8))
    with pytest.raises(ReadOnlyError):
        q.add_class("x")
    after = {f: f.read_bytes() for f in (tmp_path / "p").rglob("*") if f.is_file()}
    assert after == snapshot


def test_disk_full_keeps_old_file_and_no_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Project.create(tmp_path / "p")
    iid = _add_fake_image(p)
    p.write_mask(iid, np.zeros((6, 8), np.uint8))
    old_json = p.project_file.read_bytes()
    old_mask = p.mask_path(iid).read_bytes()
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, fh):
            self._fh = fh

        def write(self, data):
            self._fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self._fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: FullFile(real_fdopen(fd, mode)))
    with pytest.raises(OSError) as info:
        p.write_mask(iid, np.ones((6, 8), np.uint8), status="corrected")
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(OSError):
        p.set_setting("x", 1)
    monkeypatch.undo()
    assert p.mask_path(iid).read_bytes() == old_mask
    assert p.project_file.read_bytes() == old_json
    assert not [f for f in p.root.rglob("*.tmp")]
    p.close()


KILL_WRITER = textwrap.dedent("""
    import sys
    from fashionseg_gui.core.project import Project
    p = Project.open(sys.argv[1])
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        p.settings["counter"] = n
        p.settings["payload"] = "x" * (1000 + n % 5000)
        p.save()
""")


def test_sigkill_mid_save_leaves_old_or_new_state(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    for _ in range(30):
        _add_fake_image(p)
    p.close()
    rng = np.random.default_rng(0)
    kills = 60
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_WRITER, str(tmp_path / "p")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 0.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        q = Project.open(tmp_path / "p")  # takes over the dead process's lock
        assert not q.read_only
        assert len(q.images) == 30
        assert not q.open_warnings, q.open_warnings
        q.close()


def test_importing_core_imports_neither_qt_nor_tensorflow() -> None:
    code = textwrap.dedent("""
        import sys, importlib, pkgutil
        import fashionseg_gui.core as core
        for m in pkgutil.iter_modules(core.__path__):
            if m.name not in ("data", "model", "losses", "train", "train_callback", "predict"):
                importlib.import_module("fashionseg_gui.core." + m.name)
        bad = [m for m in sys.modules if m.split(".")[0] in
               ("PySide6", "shiboken6", "tensorflow", "keras", "pyqtgraph", "cv2")]
        print(",".join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_no_pickle_in_the_package() -> None:
    root = Path(__file__).resolve().parents[2] / "fashionseg_gui"
    offenders = []
    for f in root.rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        if "import pickle" in text or "allow_pickle=True" in text:
            offenders.append(str(f))
    assert offenders == []


def test_non_utf8_file_name_imports_and_project_still_saves(tmp_path: Path) -> None:
    """Linux allows any bytes in a name; a surrogate-escaped str must not poison project.json."""
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), b"\xff photo.png")
    Image.new("RGB", (32, 24), (200, 10, 10)).save(raw, format="PNG")
    p = Project.create(tmp_path / "p")
    (outcome,) = p.import_images([os.fsdecode(raw)])
    assert outcome.ok, outcome.error
    rec = p.images[outcome.image_id]
    assert rec.original_name == "\ufffd photo.png"
    p.set_setting("after", 1)  # saving still works
    p.close()
    q = Project.open(tmp_path / "p")
    assert q.images[outcome.image_id].original_name == "\ufffd photo.png"
    q.close()
