"""Image browser: lists images with status, filters, steps, thumbnails off the GUI thread."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fashionseg_gui.core.project import ImageRecord, Project  # noqa: E402
from fashionseg_gui.views.browser import ImageBrowser, StatusRole  # noqa: E402
from fashionseg_gui.workers import thumbnails  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "projects" / "demo"


@pytest.fixture
def demo(tmp_path: Path):
    if not (DEMO / "project.json").is_file():
        pytest.skip("projects/demo is not present")
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fashionseg.lock", ".cache"))
    project = Project.open(root)
    yield project
    project.close()


@pytest.fixture
def browser(qtbot, demo):
    w = ImageBrowser()
    qtbot.addWidget(w)
    w.resize(300, 600)
    w.set_project(demo)
    yield w
    w.thumbs.shutdown()


def test_lists_every_image_with_its_status(browser, demo):
    ids = browser.visible_ids()
    assert ids == list(demo.images)
    statuses = [browser.proxy.index(r, 0).data(StatusRole) for r in range(len(ids))]
    assert statuses == [r.status for r in demo.images.values()]
    assert "24 images" in browser.count_label.text()


def test_status_and_name_filters(browser, demo):
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("labelled"))
    labelled = [i for i, r in demo.images.items() if r.status == "labelled"]
    assert browser.visible_ids() == labelled
    assert f"{len(labelled)} of 24" in browser.count_label.text()
    first = next(iter(demo.images.values()))
    browser.search.setText(first.original_name.upper()[:4])  # case-insensitive fragment
    assert all(first.original_name[:4].casefold() in demo.images[i].original_name.casefold()
               for i in browser.visible_ids())
    browser.search.clear()
    browser.status_combo.setCurrentIndex(0)
    assert len(browser.visible_ids()) == 24


def test_status_change_updates_filter(browser, demo):
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("unlabelled"))
    before = browser.visible_ids()
    demo.set_status(before[0], "labelled")
    browser.on_image_changed(before[0])
    assert browser.visible_ids() == before[1:]


def test_next_previous_and_selection_signal(qtbot, browser, demo):
    ids = list(demo.images)
    with qtbot.waitSignal(browser.sigImageSelected) as blocker:
        browser.next_image()
    assert blocker.args == [ids[0]]
    browser.next_image()
    assert browser.current_image_id() == ids[1]
    assert browser.position() == (2, 24)
    browser.previous_image()
    assert browser.current_image_id() == ids[0]
    assert browser.previous_image() is None  # stays on the first
    assert browser.select_image(ids[5], emit=False)
    assert browser.current_image_id() == ids[5]


def test_thumbnails_made_off_gui_thread_and_cached(qtbot, browser, demo, monkeypatch):
    threads = []
    real = thumbnails.load_or_make_thumbnail

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(thumbnails, "load_or_make_thumbnail", spy)
    image_id = next(iter(demo.images))
    with qtbot.waitSignal(browser.thumbs.sigThumbnailReady, timeout=10000):
        assert browser.model.data(browser.model.index(0), 1) is None  # DecorationRole
    img = browser.thumbs.get(image_id)
    assert img is not None and max(img.width(), img.height()) <= thumbnails.THUMB_SIZE
    assert threads and threading.main_thread() not in threads
    assert thumbnails.thumb_cache_path(demo.root, image_id).is_file()


def test_broken_image_file_gets_no_thumbnail_and_no_crash(qtbot, browser, demo):
    image_id = list(demo.images)[3]
    demo.image_path(image_id).write_bytes(b"<html>not a photo</html>")
    with qtbot.waitSignal(browser.thumbs.sigThumbnailReady, timeout=10000,
                          check_params_cb=lambda i: i == image_id):
        browser.thumbs.request(image_id, demo.image_path(image_id))
    assert browser.thumbs.has_failed(image_id)
    assert browser.thumbs.get(image_id) is None


def test_5000_images_only_visible_thumbnails_requested(qtbot, tmp_path, demo, monkeypatch):
    """A big project opens without touching every image: only painted rows ask for one."""
    big = Project.create(tmp_path / "big")
    src = next(iter(demo.images.values()))
    shutil.copy(demo.image_path(src.id), big.root / "images" / src.file)
    for n in range(5000):
        rid = f"img{n:05d}"
        big.images[rid] = ImageRecord(id=rid, file=src.file, width=src.width, height=src.height,
                                      original_name=f"photo_{n:05d}.jpg")
    requested: list[str] = []
    w = ImageBrowser()
    qtbot.addWidget(w)
    monkeypatch.setattr(w.thumbs, "request", lambda i, p: requested.append(i))
    w.resize(300, 600)
    w.set_project(big)
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(50)
    assert w.proxy.rowCount() == 5000
    assert 0 < len(set(requested)) < 30
    w.view.scrollToBottom()
    qtbot.wait(50)
    assert "img04999" in requested
    assert len(set(requested)) < 60
    w.thumbs.shutdown()
    big.close()
