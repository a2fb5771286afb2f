"""A project folder that can be trusted: paths, schema, locks, transactions, leftovers."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionseg_gui.core import recovery
from fashionseg_gui.core.annotation import AnnotationDocument
from fashionseg_gui.core.cancel import Cancelled, CancelSource
from fashionseg_gui.core.lock import ProjectLock
from fashionseg_gui.core.paths import UnsafePathError, safe_join
from fashionseg_gui.core.project import IGNORE, ImageRecord, Project, ProjectError


def _fake(project: Project, n: int = 1, w: int = 8, h: int = 6) -> list[str]:
    ids = []
    for _ in range(n):
        image_id = f"img{len(project.images):04d}"
        Image.new("RGB", (w, h), (10, 20, 30 + len(project.images))).save(
            project.root / "images" / f"{image_id}.png"
        )
        project.images[image_id] = ImageRecord(
            id=image_id, file=f"{image_id}.png", width=w, height=h, original_name=f"{image_id}.png"
        )
        ids.append(image_id)
    project.save()
    return ids


def _doc(root: Path) -> dict:
    return json.loads((root / "project.json").read_text())


def _write_doc(root: Path, data: dict | str) -> None:
    (root / "project.json").write_text(data if isinstance(data, str) else json.dumps(data))


# --- 2: paths never escape -----------------------------------------------------------------
def test_safe_join_refuses_escapes(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "images", "a.png") == tmp_path / "images" / "a.png"
    for bad in ("../x", "/etc/passwd", "images/../../x"):
        with pytest.raises(UnsafePathError):
            safe_join(tmp_path, bad)
    (tmp_path / "out").mkdir()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "link").symlink_to(tmp_path / "out")
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path / "in", "link", "f.png")


@pytest.mark.parametrize(
    "field,value",
    [
        ("id", "../../x/notes"),
        ("id", "a/b"),
        ("file", "/etc/passwd"),
        ("file", "../../notes.png"),
        ("file", "sub/../../x.png"),
    ],
)
def test_hostile_ids_and_files_are_refused_on_open(tmp_path: Path, field: str, value: str) -> None:
    root = tmp_path / "p"
    p = Project.create(root)
    p.close()  # only one valid version on disk: no backup holds an image
    data = _doc(root)
    data["images"] = [{"id": "abc", "file": "abc.png", "width": 4, "height": 4}]
    data["images"][0][field] = value
    _write_doc(root, data)
    for b in root.glob("project.json.bak*"):
        b.unlink()
    with pytest.raises(ProjectError):
        Project.open(root)


def test_remove_image_never_deletes_outside(tmp_path: Path) -> None:
    """The old code deleted ``masks/../../victim.png`` for an id ``../../victim``."""
    root = tmp_path / "p"
    p = Project.create(root)
    (iid,) = _fake(p)
    p.set_setting("saved", 2)
    p.close()
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"precious")
    data = _doc(root)
    data["images"][0]["id"] = "../../victim"
    _write_doc(root, data)
    q = Project.open(root)  # falls back to the backup that validates
    assert "recovered from project.json.bak" in " ".join(q.open_warnings)
    assert list(q.images) == [iid]
    q.remove_images(list(q.images))
    assert victim.read_bytes() == b"precious"
    q.close()


# --- 7: the whole document is validated ----------------------------------------------------
@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("images", [1, 2]),
        lambda d: d.__setitem__("settings", [1]),
        lambda d: d["classes"][1].__setitem__("id", 1e300),
        lambda d: d["classes"].__setitem__(1, "x"),
        lambda d: d.__setitem__("classes", []),
    ],
)
def test_wrong_shape_falls_back_to_a_valid_backup(tmp_path: Path, mutate) -> None:
    root = tmp_path / "p"
    p = Project.create(root)
    _fake(p)
    p.set_setting("saved", 2)  # so that the newest backup holds the image too
    p.close()
    data = _doc(root)
    mutate(data)
    _write_doc(root, data)
    q = Project.open(root)
    assert len(q.classes) == 4 and len(q.images) == 1
    assert any("recovered from" in w for w in q.open_warnings)
    q.close()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"schema_version": 1, "classes": [{"id": 1e400, "name": "b", "color": "#000000"}]}',
        '{"schema_version": 0, "images": [{"file": 3, "width": "x"}]}',
    ],
)
def test_hostile_text_gives_a_project_error(tmp_path: Path, text: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    _write_doc(root, text)
    with pytest.raises(ProjectError):
        Project.open(root)


def test_nan_is_repaired_and_bad_colour_replaced(tmp_path: Path) -> None:
    root = tmp_path / "p"
    p = Project.create(root)
    p.close()
    text = (root / "project.json").read_text()
    data = _doc(root)
    data["classes"][1]["color"] = "red"
    text = json.dumps(data).replace('"settings": {', '"settings": {"lr": NaN, ')
    _write_doc(root, text)
    q = Project.open(root)
    assert q.settings["lr"] is None and q.classes[1].color.startswith("#")
    assert any("not numbers" in w for w in q.open_warnings)
    q.save()  # the old code loaded NaN and then every save failed
    q.close()


def test_nan_in_shapes_drops_that_shape(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    (iid,) = _fake(p)
    p.shapes_path(iid).write_text(
        '{"version": 1, "shapes": [{"kind": "polygon", "class_id": 1,'
        ' "points": [[0, 0], [NaN, 1], [2, 2]]}, {"kind": "polygon",'
        ' "class_id": 1, "points": [[0, 0], [4, 1], [2, 2]]}]}'
    )
    shapes = p.read_shapes(iid)
    assert len(shapes) == 1 and shapes[0]["points"][1] == [4, 1]
    p.close()


def test_failed_save_rotates_no_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    p = Project.create(root)
    for i in range(4):
        p.set_setting("k", i)
    before = {b.name: b.read_bytes() for b in root.glob("project.json*")}

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        p.set_setting("k", 99)
    monkeypatch.undo()
    assert {b.name: b.read_bytes() for b in root.glob("project.json*")} == before
    p.close()


# --- 9: umask --------------------------------------------------------------------------------
def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    from fashionseg_gui.core.atomic import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644


def test_npz_never_pickles_and_a_refused_save_leaves_no_file(tmp_path: Path) -> None:
    from fashionseg_gui.core.atomic import atomic_save_npz

    atomic_save_npz(tmp_path / "ok.npz", probs=np.zeros((2, 3), np.float32))
    with np.load(tmp_path / "ok.npz") as z:  # np.load refuses pickles by default
        assert z["probs"].shape == (2, 3)
    with pytest.raises(ValueError):
        atomic_save_npz(tmp_path / "obj.npz", probs=np.array([{"a": 1}], dtype=object))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.npz"]


# --- 3, 4: locks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage\x00",
        b'{"pid": 0}',
        b'{"pid": -1}',
        b'{"pid": 1, "host": "HOST", "time": 1}',
        b'{"pid": 1000000000000000000000000000000, "host": "HOST"}',
        b'{"pid": 12, "host": "HOST", "time": "yesterday"}',
        b"[[[[[[[[[[",
        b'{"pid": PPID, "host": "HOST", "time": 1.0}',
    ],
)
def test_implausible_or_dead_locks_never_block(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "p"
    Project.create(root).close()
    # PPID: a live process that is not a FashionSeg instance (a reused pid).
    content = content.replace(b"HOST", socket.gethostname().encode())
    (root / ".fashionseg.lock").write_bytes(content.replace(b"PPID", str(os.getppid()).encode()))
    q = Project.open(root)
    assert not q.read_only, q.read_only_reason
    q.close()
    assert not (root / ".fashionseg.lock").exists()


_HOLDER = textwrap.dedent("""
    import sys, time
    from fashionseg_gui.core.project import Project
    p = Project.open(sys.argv[1])
    print("ready", flush=True)
    time.sleep(60)
""")


def test_live_holder_reported_and_take_over(tmp_path: Path) -> None:
    root = tmp_path / "p"
    Project.create(root).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        q = Project.open(root)
        assert q.read_only
        who = q.lock_holder()
        assert who is not None and who.pid == holder.pid and who.host == socket.gethostname()
        assert f"process {holder.pid}" in q.read_only_reason
        q.take_over()
        assert not q.read_only and q.lock_owned
        q.set_setting("taken", True)
        r = Project.open(root)  # a third instance sees the new holder
        assert r.read_only and r.lock_holder().pid == os.getpid()
        r.close()
        q.close()
    finally:
        holder.kill()
        holder.wait()


_RACER = textwrap.dedent("""
    import os, sys, time
    from fashionseg_gui.core.lock import ProjectLock
    lock_path, marker, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    got = clashes = 0
    for _ in range(rounds):
        lock = ProjectLock(lock_path)
        if lock.acquire():
            got += 1
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                clashes += 1
            else:
                time.sleep(0.002)
                os.close(fd)
                os.unlink(marker)
            lock.release()
        else:
            time.sleep(0.001)
    print(got, clashes)
""")


def test_racing_processes_never_hold_the_lock_together(tmp_path: Path) -> None:
    """8 processes x 20 rounds; a garbage lock file to start with (taken over, never shared)."""
    lock_path = tmp_path / ".fashionseg.lock"
    lock_path.write_bytes(b"")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(lock_path), str(tmp_path / "writer"), "20"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        for _ in range(8)
    ]
    results = [tuple(map(int, p.communicate(timeout=120)[0].split())) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(c for _g, c in results) == 0
    assert sum(g for g, _c in results) > 0


def test_lock_api_in_process(tmp_path: Path) -> None:
    a, b = ProjectLock(tmp_path / "l"), ProjectLock(tmp_path / "l")
    assert a.acquire() and not b.acquire()
    assert b.holder().pid == os.getpid()
    assert b.take_over() and b.owned
    a.release()  # a no longer owns the file: it must not remove b's
    assert (tmp_path / "l").exists()
    b.release()
    assert not (tmp_path / "l").exists()


# --- 1: class deletion is a transaction -------------------------------------------------------
def _labelled(p: Project, n: int) -> list[str]:
    ids = _fake(p, n)
    for k, iid in enumerate(ids):
        m = np.zeros((6, 8), np.uint8)
        m[:, :4] = 1 + k % 3
        m[0, 0] = 3
        p.write_mask(iid, m)
    return ids


def test_unreadable_mask_leaves_class_delete_wholly_undone(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    ids = _labelled(p, 5)
    before = {i: p.read_mask(i).copy() for i in ids}
    p.mask_path(ids[3]).write_bytes(b"not a png")
    with pytest.raises(ProjectError):
        p.delete_class(1)
    assert len(p.classes) == 4
    for i in ids:
        if i != ids[3]:
            assert np.array_equal(p.read_mask(i), before[i])
    assert not list((p.root / "masks").glob("*.next"))
    p.close()
    q = Project.open(tmp_path / "p")
    assert len(q.classes) == 4
    q.close()


def test_class_delete_cancel_and_progress(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    ids = _labelled(p, 4)
    src = CancelSource()
    seen = []

    def progress(done: int, total: int, _name: str) -> None:
        seen.append((done, total))
        if done == 2:
            src.cancel()

    with pytest.raises(Cancelled):
        p.delete_class(1, on_progress=progress, cancel_token=src.token)
    assert seen == [(1, 4), (2, 4)] and len(p.classes) == 4
    assert p.read_mask(ids[1])[0, 4] == 0 and p.read_mask(ids[1])[0, 1] == 2
    p.delete_class(1)
    assert [c.name for c in p.classes] == ["background", "preppy", "streetwear"]
    assert p.read_mask(ids[1])[0, 1] == 1 and p.read_mask(ids[0])[0, 1] == IGNORE
    p.close()


def test_class_delete_interrupted_after_commit_completes_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Project.create(tmp_path / "p")
    ids = _labelled(p, 3)
    real_replace = os.replace
    calls = []

    def dying_replace(src, dst):  # the process "dies" after switching one mask
        if str(src).endswith(".png.next"):
            calls.append(src)
            if len(calls) > 1:
                raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        p.delete_class(2)
    monkeypatch.undo()
    p._lock.release()
    q = Project.open(tmp_path / "p")
    assert [c.name for c in q.classes] == ["background", "bohemian", "streetwear"]
    assert [int(q.read_mask(i)[0, 1]) for i in ids] == [1, IGNORE, 2]
    assert all(int(q.read_mask(i)[0, 0]) == 2 for i in ids)  # class 3 became 2, once
    assert "transaction" not in _doc(tmp_path / "p")
    q.close()


# --- 5 and issue 12 item 7: status follows the files --------------------------------------------
def test_undo_to_empty_saves_unlabelled(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    (iid,) = _fake(p)
    doc = AnnotationDocument(p, iid)
    doc.paint_disk(3, 3, 2, 1)
    doc.save()
    assert p.images[iid].status == "labelled"
    doc.undo()
    doc.save()
    assert p.images[iid].status == "unlabelled" and iid not in p.labelled_ids()
    assert not p.has_mask(iid)
    p.close()


def test_mask_written_before_status_is_labelled_on_open(tmp_path: Path) -> None:
    """A mask-folder import killed before its final save left masks with 'unlabelled'."""
    p = Project.create(tmp_path / "p")
    ids = _fake(p, 2)
    p.close()
    Image.fromarray(np.ones((6, 8), np.uint8)).save(tmp_path / "p" / "masks" / f"{ids[0]}.png")
    q = Project.open(tmp_path / "p")
    assert q.images[ids[0]].status == "labelled" and q.images[ids[1]].status == "unlabelled"
    assert _doc(tmp_path / "p")["images"][0]["status"] == "labelled"
    q.close()


def test_staged_shapes_follow_their_mask(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    ids = _fake(p, 2)
    for iid in ids:
        doc = AnnotationDocument(p, iid)
        doc.add_shape({"kind": "rect", "class_id": 1, "x": 1, "y": 1, "w": 3, "h": 3})
        doc.save()
    old_shapes = p.read_shapes(ids[0])
    # A kill after staging the new shapes but before the mask: the staged file is dropped.
    (p.root / "shapes" / f"{ids[0]}.json.next").write_text(
        json.dumps({"version": 1, "shapes": [], "mask_sha256": "0" * 64})
    )
    # A kill after the mask but before the switch: the staged file is switched in.
    sha = recovery.mask_sha(p, ids[1])
    (p.root / "shapes" / f"{ids[1]}.json.next").write_text(
        json.dumps({"version": 1, "shapes": [], "mask_sha256": sha})
    )
    p.close()
    q = Project.open(tmp_path / "p")
    assert q.read_shapes(ids[0]) == old_shapes and q.read_shapes(ids[1]) == []
    assert not list((q.root / "shapes").glob("*.next"))
    q.close()


# --- issue 12 item 9: the trash ------------------------------------------------------------------
def test_remove_goes_to_trash_and_restores(tmp_path: Path) -> None:
    src = tmp_path / "outside.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(src)
    p = Project.create(tmp_path / "p")
    (out,) = p.import_images([src])
    iid = out.image_id
    p.write_mask(iid, np.ones((30, 40), np.uint8))
    file = p.images[iid].file
    stamp = p.remove_images([iid])
    assert iid not in p.images and not (p.root / "images" / file).exists()
    assert src.exists() and (p.root / "trash" / stamp / "images" / file).exists()
    assert [t.image_id for t in p.trash_entries()] == [iid]
    p.close()
    q = Project.open(tmp_path / "p")
    assert iid not in q.images
    assert q.restore_from_trash(iid) == [iid]
    assert q.images[iid].status == "labelled" and q.read_mask(iid)[0, 0] == 1
    assert q.trash_entries() == []
    q.remove_images([iid])
    assert q.empty_trash() == 1 and q.trash_entries() == []
    assert src.exists()
    q.close()


def test_removal_interrupted_before_the_move_finishes_on_open(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    ids = _fake(p, 2)
    stamp = p.remove_images([ids[0]])
    # Simulate a kill after the commit, before the files moved: put them back in place.
    for f in (p.root / "trash" / stamp / "images").iterdir():
        os.replace(f, p.root / "images" / f.name)
    p.close()
    q = Project.open(tmp_path / "p")
    assert not (q.root / "images" / f"{ids[0]}.png").exists()
    assert q.find_leftovers().orphans == []
    q.close()


# --- 6: crash leftovers ---------------------------------------------------------------------------
def test_orphans_found_reattached_and_reimport_adopts_the_copy(tmp_path: Path) -> None:
    photos = []
    for k in range(3):
        photos.append(tmp_path / f"photo{k}.png")
        Image.new("RGB", (40, 30), (k * 50, 10, 10)).save(photos[-1])
    p = Project.create(tmp_path / "p")
    p.import_images(photos)
    p.close()
    # A killed import: the copies were written, project.json never saved.
    _write_doc(tmp_path / "p", json.loads((tmp_path / "p" / "project.json.bak1").read_text()))
    old_tmp = tmp_path / "p" / "masks" / ".x.png.abc.tmp"
    old_tmp.write_bytes(b"partial")
    os.utime(old_tmp, (time.time() - 3600, time.time() - 3600))
    q = Project.open(tmp_path / "p")
    left = q.find_leftovers()
    assert len(left.orphans) == 3 and left.temp_files == ["masks/.x.png.abc.tmp"]
    assert any("3 photo(s) in images/ belong to no image" in w for w in q.open_warnings)
    outcomes = q.import_images(photos[:2])  # re-import finds the copies
    assert all(o.ok for o in outcomes)
    assert len(list((q.root / "images").iterdir())) == 3
    assert len(q.find_leftovers().orphans) == 1
    assert [o.ok for o in q.reattach_orphans()] == [True]
    assert q.find_leftovers().orphans == [] and len(q.images) == 3
    assert q.remove_leftovers() == 1 and not old_tmp.exists()
    q.close()


# --- 9: images -------------------------------------------------------------------------------------
def test_deep_pixel_budget_refuses_a_huge_float_tiff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fashionseg_gui.core import images

    path = tmp_path / "f.tif"
    Image.fromarray(np.zeros((300, 400), np.float32), "F").save(path, compression="tiff_deflate")
    monkeypatch.setattr(images, "MAX_DEEP_PIXELS", 100_000)
    with pytest.raises(images.ImageRejected, match="more than 8 bits"):
        images.decode_for_import(path)
    monkeypatch.setattr(images, "MAX_DEEP_PIXELS", 200_000)
    assert images.decode_for_import(path).image.size == (400, 300)


def test_input_size_capped_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fashionseg_gui.core import images

    path = tmp_path / "big.jpg"
    path.write_bytes(b"\xff\xd8" + b"\0" * 5000)
    monkeypatch.setattr(images, "MAX_INPUT_BYTES", 4096)
    with pytest.raises(images.ImageRejected, match="file too large"):
        images.read_input_bytes(path)


def test_pickled_or_damaged_prediction_is_a_project_error(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    (iid,) = _fake(p)
    p.prediction_path(iid).write_bytes(b"\x80\x04garbage")
    with pytest.raises(ProjectError):
        p.read_prediction(iid)
    doc = AnnotationDocument(p, iid)  # the editor opens with an empty mask
    assert (doc.mask == IGNORE).all()
    p.close()


def test_lock_without_flock_support_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network share without flock: exclusive create with content, never an empty lock."""
    import fcntl

    def no_flock(_fd: int, _op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    a, b = ProjectLock(tmp_path / "l"), ProjectLock(tmp_path / "l")
    assert a.acquire()
    assert json.loads((tmp_path / "l").read_text())["pid"] == os.getpid()
    assert not b.acquire()  # a live holder on this host
    a.release()
    assert not (tmp_path / "l").exists() and b.acquire()
    b.release()
    (tmp_path / "l").write_bytes(b"")  # an empty lock older than the grace is stale
    os.utime(tmp_path / "l", (time.time() - 60, time.time() - 60))
    assert a.acquire()
    a.release()
    assert not list(tmp_path.iterdir())


def test_mask_bomb_or_garbage_is_a_project_error(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p")
    (iid,) = _fake(p)
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)  # a header claiming 400 MP
    header = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
    for content in (header, b"garbage"):
        p.mask_path(iid).write_bytes(content)
        with pytest.raises(ProjectError, match=r"mask of img0000\.png: "):
            p.read_mask(iid)
    p.close()


def test_open_refuses_a_photo_that_is_a_link_out_of_the_project(tmp_path: Path) -> None:
    """One directory read finds the links among the photos; a link that leaves the project
    makes project.json invalid (the open says so, naming the image, and falls back to the
    newest backup without it); a link that stays inside is fine."""
    project = Project.create(tmp_path / "p")
    image_id = _fake(project, 1, 64, 48)[0]
    name = project.images[image_id].file
    project.close()
    photo = tmp_path / "p" / "images" / name
    inside = tmp_path / "p" / "images" / "copy.png"
    inside.write_bytes(photo.read_bytes())
    secret = tmp_path / "secret.png"
    secret.write_bytes(photo.read_bytes())
    photo.unlink()
    photo.symlink_to(secret)
    opened = Project.open(tmp_path / "p", read_only=True)
    assert image_id not in opened.images
    assert any(image_id in w and "outside" in w for w in opened.open_warnings)
    opened.close()
    photo.unlink()
    photo.symlink_to(inside)
    opened = Project.open(tmp_path / "p", read_only=True)
    assert image_id in opened.images and not opened.open_warnings
    opened.close()
