"""Image browser: lists images with status, filters, steps, thumbnails off the GUI thread."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402

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
    assert all(
        first.original_name[:4].casefold() in demo.images[i].original_name.casefold()
        for i in browser.visible_ids()
    )
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
    with qtbot.waitSignal(
        browser.thumbs.sigThumbnailReady, timeout=10000, check_params_cb=lambda i: i == image_id
    ):
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
        big.images[rid] = ImageRecord(
            id=rid,
            file=src.file,
            width=src.width,
            height=src.height,
            original_name=f"photo_{n:05d}.jpg",
        )
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


# --- rows fit the dock -------------------------------------------------------------------------
LONG = "street_fashion_photo_from_the_summer_collection_2026_final_version_{}.jpg"


@pytest.fixture
def long_names(demo):
    """The demo with long, almost identical names and every split shown."""
    splits = ["train", "val", "test", None]
    for n, rec in enumerate(demo.images.values()):
        rec.original_name = LONG.format(n)
        rec.split = splits[n % 4]
    demo.save()
    return demo


@pytest.mark.parametrize("width", [190, 300])
def test_rows_fit_the_list_width_without_horizontal_scrolling(qtbot, long_names, width):
    from fashionseg_gui.views.browser import NameRole

    w = ImageBrowser()
    qtbot.addWidget(w)
    w.resize(width, 500)
    w.set_project(long_names)
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(30)
    try:
        view = w.view
        assert view.horizontalScrollBar().maximum() == 0  # nothing to scroll sideways
        assert w.minimumSizeHint().width() <= 190
        delegate = view.itemDelegate()
        viewport = view.viewport().rect()
        for row in range(4):  # train, val, test, no split
            idx = w.proxy.index(row, 0)
            rect = view.visualRect(idx)
            assert rect.left() >= 0 and rect.right() <= viewport.right()
            parts = delegate.layout(rect, view.font(), idx)
            full = idx.data(NameRole)
            name_rect, name = parts["name"]
            fm = view.fontMetrics()
            assert name != full and "…" in name  # elided...
            assert name.startswith(full[:4]) and name.endswith(full[-4:])  # ...in the middle
            assert fm.horizontalAdvance(name) <= name_rect.width()
            for part in ("badge", "split"):
                if part not in parts:
                    continue
                box, text = parts[part]
                assert rect.contains(box), (part, box, rect)
                small = delegate.small_font(view.font())
                from PySide6.QtGui import QFontMetrics

                assert QFontMetrics(small).horizontalAdvance(text) <= box.width(), part
            expected = ["train", "val", "test", None][row]
            assert ("split" in parts) == (expected is not None)
            if expected:
                assert parts["split"][1] == expected
    finally:
        w.thumbs.shutdown()


def test_old_fixed_row_width_would_scroll_sideways(qtbot, long_names):
    """A row asks for no more than the narrowest dock (it used to ask for 220 px)."""
    from fashionseg_gui.views.browser import MIN_ROW_WIDTH

    w = ImageBrowser()
    qtbot.addWidget(w)
    w.set_project(long_names)
    idx = w.proxy.index(0, 0)
    from PySide6.QtWidgets import QStyleOptionViewItem

    hint = w.view.itemDelegate().sizeHint(QStyleOptionViewItem(), idx)
    assert hint.width() <= MIN_ROW_WIDTH <= 150
    w.thumbs.shutdown()


# --- two photos of the same name -----------------------------------------------------------------
def test_same_name_photos_are_told_apart_by_their_tooltip(qtbot, tmp_path):
    from PIL import Image

    for folder, colour in (("summer", (200, 30, 30)), ("winter", (30, 30, 200))):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (32, 24), colour).save(tmp_path / folder / "photo.jpg")
    project = Project.create(tmp_path / "p")
    a = project.add_image_file(tmp_path / "summer" / "photo.jpg").image_id
    b = project.add_image_file(tmp_path / "winter" / "photo.jpg").image_id
    project.save()
    w = ImageBrowser()
    qtbot.addWidget(w)
    w.set_project(project)
    try:
        tips = [w.proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) for r in range(2)]
        assert tips[0] != tips[1]
        assert str(tmp_path / "summer") in tips[0] and a in tips[0]
        assert str(tmp_path / "winter") in tips[1] and b in tips[1]
    finally:
        w.thumbs.shutdown()
        project.close()


# --- the position follows the filtered list --------------------------------------------------------
def test_position_signal_follows_filtering(qtbot, browser, demo):
    ids = list(demo.images)
    labelled = [i for i, r in demo.images.items() if r.status == "labelled"]
    browser.select_image(labelled[2])
    assert browser.position() == (ids.index(labelled[2]) + 1, 24)
    seen = []
    browser.sigPositionChanged.connect(lambda pos, n: seen.append((pos, n)))
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("labelled"))
    assert seen[-1] == (3, len(labelled))
    browser.search.setText("zzzz-no-such-name")
    assert seen[-1] == (0, 0)
    browser.search.clear()
    assert seen[-1][1] == len(labelled)


# --- splits ------------------------------------------------------------------------------------
def test_move_selected_photos_between_train_and_val(qtbot, browser, demo):
    ids = list(demo.images)
    browser.set_selected_ids(ids[:3])
    assert browser.selected_ids() == ids[:3]
    menu = browser.context_menu()
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "Remove 3 photos from project…" in texts
    val = next(a for a in menu.actions() if a.text() == "Move to validation set")
    val.trigger()
    assert [demo.images[i].split for i in ids[:3]] == ["val"] * 3
    reopened = Project.open(demo.root, read_only=True)
    assert [reopened.images[i].split for i in ids[:3]] == ["val"] * 3  # saved at once
    reopened.close()
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("split:val"))
    assert browser.visible_ids() == ids[:3]
    browser.set_selected_ids(ids[1:2])
    next(
        a for a in browser.context_menu().actions() if a.text() == "Move to training set"
    ).trigger()
    assert demo.images[ids[1]].split == "train"
    assert browser.visible_ids() == [ids[0], ids[2]]  # the split filter follows


def test_a_split_set_by_hand_is_kept_by_the_next_split(qtbot, browser, demo):
    from fashionseg_gui.core.data import assign_splits

    ids = list(demo.images)
    browser.set_selected_ids(ids[:2])
    browser.move_selected_to("val")
    browser.set_selected_ids(ids[2:4])
    browser.move_selected_to("train")
    existing = {i: r.split for i, r in demo.images.items()}
    splits = assign_splits(ids, existing=existing, val_fraction=0.5)
    assert [splits[i] for i in ids[:4]] == ["val", "val", "train", "train"]


def test_read_only_project_cannot_remove_or_move(qtbot, tmp_path, demo):
    demo.close()
    ro = Project.open(demo.root, read_only=True)
    w = ImageBrowser()
    qtbot.addWidget(w)
    w.set_project(ro)
    try:
        w.select_image(next(iter(ro.images)))
        menu = w.context_menu()
        assert not w.remove_action.isEnabled() and not w.to_val_action.isEnabled()
        assert menu.actions()
        with qtbot.assertNotEmitted(w.sigRemoveRequested):
            w.request_remove()
        assert w.move_selected_to("val") == []
    finally:
        w.thumbs.shutdown()
        ro.close()


# --- scores (review queues) ------------------------------------------------------------------------
def test_scores_sort_filter_and_select_next(qtbot, browser, demo):
    from fashionseg_gui.views.browser import ScoreRole

    ids = list(demo.images)
    scores = {ids[5]: 0.9, ids[2]: 0.4, ids[7]: 0.7, "not-an-id": 5.0}
    browser.set_scores(scores, "uncertainty")
    shown = browser.visible_ids()
    assert shown[:3] == [ids[5], ids[7], ids[2]]  # highest first
    assert sorted(shown[3:]) == sorted(set(ids) - {ids[5], ids[7], ids[2]})
    assert shown[3:] == [i for i in ids if i not in scores]  # unscored keep project order
    assert browser.sort_combo.currentText() == "By uncertainty (highest first)"
    assert browser.proxy.index(0, 0).data(ScoreRole) == 0.9
    tip = browser.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Score: 0.9" in tip
    parts = browser.view.itemDelegate().layout(
        browser.view.visualRect(browser.proxy.index(0, 0)),
        browser.view.font(),
        browser.proxy.index(0, 0),
    )
    assert parts["score"][1] == "uncertainty 0.9"
    with qtbot.waitSignal(browser.sigImageSelected) as blocker:
        assert browser.select_next() == ids[5]
    assert blocker.args == [ids[5]]
    assert browser.select_next() == ids[7]
    assert browser.position() == (2, 24)
    browser.status_combo.setCurrentIndex(browser.status_combo.findData("scored"))
    assert browser.visible_ids() == [ids[5], ids[7], ids[2]]
    assert browser.position() == (2, 3)
    assert browser.select_next() == ids[2]
    assert browser.select_next() is None  # the end of the queue
    browser.clear_scores()
    assert browser.visible_ids() == ids  # project order, no score filter
    assert browser.sort_combo.findData("score") < 0
    assert browser.status_combo.findData("scored") < 0
    assert browser.proxy.index(0, 0).data(ScoreRole) is None


def test_sort_by_name_and_back(qtbot, browser, demo):
    ids = list(demo.images)
    browser.sort_combo.setCurrentIndex(browser.sort_combo.findData("name"))
    names = [demo.images[i].original_name.casefold() for i in browser.visible_ids()]
    assert names == sorted(names)
    browser.sort_combo.setCurrentIndex(browser.sort_combo.findData("order"))
    assert browser.visible_ids() == ids
