"""VIA import/export: every real file of the corpus, the hostile samples, round trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashionseg_gui.core.project import Project
from fashionseg_gui.core.via import (
    ViaError,
    export_via,
    guess_class_attribute,
    import_via,
    mask_to_shapes,
    read_via,
    region_label,
    region_labels,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
VIA = SHARED_DATA / "via"
BAD = SHARED_DATA / "bad_inputs"
HERE_DATA = Path(__file__).resolve().parents[1] / "data"

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared data folder absent")

# (file, version, entries, regions) as counted in via/SOURCES.md
REAL_FILES = [
    ("01_rice_leaf_via1/via_region_data.json", "1", 16, 149),
    ("01_rice_leaf_via1/via_region_data.csv", "csv", 16, 149),
    ("02_titanium_grains_via1/via_region_data.json", "1", 23, 47),
    ("03_receipts_via2/via_export_json.json", "2", 6, 18),
    ("03_receipts_via2/via_export_csv.csv", "csv", 6, 18),
    ("04_larvae_mixed_via2/via_region_data.json", "2", 12, 124),
    ("05_craters_circle_via2/via_region_data.json", "2", 229, 4190),
    ("06_crowd_points_via2/via_export_json.json", "2", 63, 7898),
    ("07_pollinators_via2project/Centaurea-scabiosa-01-jc-vs.json", "2-project", 1803, 353),
    ("08_headpose_via2project/EVA_Assignment_16(shiv_vignesh).json", "2-project", 121, 128),
    ("09_demo_ellipse_via2project/via_project_19Mar2019_16h36m.json", "2-project", 2, 5),
    ("11_eip4_attributes_csv/via_export_csv.csv", "csv", 103, 104),
]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


@pytest.mark.parametrize(("rel", "version", "n_entries", "n_regions"), REAL_FILES)
def test_real_files_import_with_counts(
    rel: str, version: str, n_entries: int, n_regions: int
) -> None:
    via = read_via(VIA / rel)
    assert via.version == version
    assert len(via.entries) == n_entries
    assert via.region_count == n_regions
    assert via.skipped == []


def test_json_and_csv_exports_hold_the_same_shapes() -> None:
    for folder, a, b in [
        ("01_rice_leaf_via1", "via_region_data.json", "via_region_data.csv"),
        ("03_receipts_via2", "via_export_json.json", "via_export_csv.csv"),
    ]:
        ja, cb = read_via(VIA / folder / a), read_via(VIA / folder / b)
        by_name = {e.filename: e for e in cb.entries}
        for e in ja.entries:
            other = by_name[e.filename]
            assert other.size == e.size
            assert [r.shape for r in e.regions] == [r.shape for r in other.regions]
            assert [r.attributes for r in e.regions] == [r.attributes for r in other.regions]


def test_class_attribute_guess_and_labels() -> None:
    rice = read_via(VIA / "01_rice_leaf_via1/via_region_data.json")
    assert guess_class_attribute(rice, ["background"]) == "class_id"
    assert set(region_labels(rice, "class_id")) == {"bacteria", "brown_spot", "leaf_smut"}
    grains = read_via(VIA / "02_titanium_grains_via1/via_region_data.json")
    assert "β matrix grain boundary" in region_labels(grains, guess_class_attribute(grains, []))
    receipts = read_via(VIA / "03_receipts_via2/via_export_json.json")
    assert guess_class_attribute(receipts, []) == "Info"
    assert region_labels(receipts, "Info") == {"Date": 6, "Header": 6, "Total": 6}
    # a matching class name beats a class-like attribute name
    demo = read_via(VIA / "09_demo_ellipse_via2project/via_project_19Mar2019_16h36m.json")
    assert guess_class_attribute(demo, []) == "type"
    assert guess_class_attribute(demo, ["Swan", "Plato"]) == "name"
    craters = read_via(VIA / "05_craters_circle_via2/via_region_data.json")
    assert guess_class_attribute(craters, ["crater"]) is None


def test_07_project_attributes() -> None:
    via = read_via(VIA / "07_pollinators_via2project/Centaurea-scabiosa-01-jc-vs.json")
    assert via.region_count == 353
    assert len(via.attribute_options) == 13  # 21 attributes, 8 of them free text
    assert sum(region_labels(via, "order").values()) == 353
    assert sum(1 for e in via.entries if not e.regions) == 1469


def test_08_option_ids_with_stray_spaces_become_labels() -> None:
    via = read_via(VIA / "08_headpose_via2project/EVA_Assignment_16(shiv_vignesh).json")
    labels = region_labels(via, "Label")
    assert labels["Right"] == 14 and "Right " not in labels
    assert labels["Up"] == 17  # option label "" falls back to the id
    assert sum(labels.values()) == 127  # one region has no attributes
    assert all(lab == lab.strip() for lab in labels)
    ys = [r.shape["y"] for e in via.entries for r in e.regions]
    assert ys.count(-1) == 3


def test_09_ellipse_and_checkbox_dicts() -> None:
    via = read_via(VIA / "09_demo_ellipse_via2project/via_project_19Mar2019_16h36m.json")
    assert via.entries[0].size == -1
    shapes = [r.shape for e in via.entries for r in e.regions]
    assert {"kind": "ellipse", "cx": 316, "cy": 180, "rx": 17, "ry": 12, "theta": 0} in shapes
    quality = region_labels(via, "image_quality")
    assert quality["Good Illumination"] == 4 and quality["Object in Frontal View"] == 2
    swan = via.entries[0].regions[0]
    assert region_label(via, swan, "image_quality") == ("Good Illumination", None)
    label, why = region_label(via, via.entries[0].regions[1], "image_quality")
    assert label is None and "several" in why


def test_10_video_project_has_no_image_regions(tmp_path: Path, project: Project) -> None:
    path = VIA / "10_echo_video_via3/01NVb-003-065-3-4CV.json"
    via = read_via(path)
    assert via.version == "3" and via.entries == []
    reasons = [r for _, r in via.skipped]
    assert reasons.count("video file, not an image") == 1
    assert reasons.count("temporal segment (video/audio), no spatial region") == 5
    report = import_via(project, path)
    assert "no image regions (video/audio project)" in report.lines()
    assert report.regions_imported == 0 and not project.images


def test_11_csv_undefined_cells() -> None:
    via = read_via(VIA / "11_eip4_attributes_csv/via_export_csv.csv")
    assert any("17 attribute value(s) were `undefined`" in n for n in via.notes)
    first = via.entries[0]
    assert first.filename == "images/Set1/3000_2 (2).jpg" and first.size == -1
    assert "Emotion" not in first.regions[0].attributes
    assert first.regions[0].attributes["Accessories"] == {"Nothing": True}
    assert sum(region_labels(via, "Emotion").values()) == 104 - 17


def test_via3_hand_made_image_project() -> None:
    via = read_via(HERE_DATA / "via3_image_project.json")
    assert via.version == "3"
    assert via.skipped == [("base_64x48.png, metadata 1_bad_shape", "unknown VIA 3 shape id 42")]
    (entry,) = via.entries
    assert entry.file_attributes == {"scene": "studio"}
    shapes = [r.shape for r in entry.regions]
    assert shapes[:4] == [
        {"kind": "point", "x": 5, "y": 5},
        {"kind": "rect", "x": 2, "y": 3, "w": 4, "h": 5},
        {"kind": "circle", "cx": 20, "cy": 20, "r": 8},
        {"kind": "ellipse", "cx": 45.5, "cy": 30, "rx": 10, "ry": 5, "theta": 0},
    ]
    assert shapes[4] == {"kind": "polyline", "points": [[1, 1], [10, 10]]}  # LINE
    assert shapes[6]["kind"] == "polygon" and len(shapes[6]["points"]) == 4
    assert shapes[7] == {"kind": "rect", "x": 40, "y": 1, "w": 20, "h": 11}  # extreme rect
    assert shapes[8] == {"kind": "circle", "cx": 14.0, "cy": 40.0, "r": 4.0}  # extreme circle
    assert [region_label(via, r, "class")[0] for r in entry.regions[:4]] == [
        "leaf",
        "leaf",
        "stem",
        "leaf",
    ]
    assert region_labels(via, "quality") == {"good": 2, "blurred": 1}


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("via_truncated.json", "not valid JSON"),
        ("via_not_json.json", "not a VIA JSON file"),
        ("via_empty.json", "no annotations found"),
        ("via_zero_bytes.json", "empty file"),
    ],
)
def test_bad_whole_files_raise_one_clear_line(name: str, message: str) -> None:
    with pytest.raises(ViaError) as info:
        read_via(BAD / name)
    text = str(info.value)
    assert message in text and "\n" not in text
    if name == "via_truncated.json":
        assert "line 41, column 6" in text


def test_truncated_file_changes_nothing(project: Project) -> None:
    with pytest.raises(ViaError):
        import_via(project, BAD / "via_truncated.json")
    assert not project.images and len(project.classes) == 4


@pytest.mark.parametrize("name", ["via_bom.json", "via_utf16.json", "via_valid_v2_project.json"])
def test_encodings_and_baseline_import_two_regions(project: Project, name: str) -> None:
    report = import_via(project, BAD / name)
    assert report.regions_imported == 2 and not report.regions_skipped
    (image_id,) = project.images
    mask = project.read_mask(image_id)
    leaf, stem = project.class_by_name("leaf").id, project.class_by_name("stem").id
    assert (mask[10:31, 10:31] == leaf).all() and int((mask == leaf).sum()) == 21 * 21
    assert (mask[25:45, 35:60] == stem).all() and int((mask == stem).sum()) == 25 * 20
    assert project.images[image_id].status == "labelled"
    assert [s["kind"] for s in project.read_shapes(image_id)] == ["polygon", "rect"]


def test_read_only_project_is_refused(tmp_path: Path, project: Project) -> None:
    from fashionseg_gui.core.project import ReadOnlyError

    viewer = Project.open(project.root, read_only=True)
    with pytest.raises(ReadOnlyError):
        import_via(viewer, BAD / "via_valid_v2_project.json")
    assert not viewer.images


def test_regions_dict_container(project: Project) -> None:
    via = read_via(BAD / "via_regions_dict.json")
    assert via.version == "1" and via.region_count == 2
    report = import_via(project, BAD / "via_regions_dict.json")
    assert report.attribute == "name" and report.regions_imported == 2


def test_nan_coordinates_skip_only_those_regions(project: Project) -> None:
    report = import_via(project, BAD / "via_nan_coords.json")
    assert report.regions_imported == 1
    reasons = dict(report.regions_skipped)
    assert "not finite (NaN)" in reasons["base_64x48.png, region 0"]
    assert "null" in reasons["base_64x48.png, region 1"]


def test_degenerate_polygons_are_skipped(project: Project) -> None:
    report = import_via(project, BAD / "via_two_points_polygon.json")
    assert report.regions_imported == 1
    reasons = [r for _, r in report.regions_skipped]
    assert sum("needs at least 3" in r for r in reasons) == 3
    assert sum("zero area" in r for r in reasons) == 1


def test_points_outside_clipped_and_reported(project: Project) -> None:
    report = import_via(project, BAD / "via_points_outside.json")
    assert report.regions_imported == 3
    assert "entirely outside" in dict(report.regions_skipped)["base_64x48.png, region 1"]
    assert any("region 3: empty after clipping" in n for n in report.notes)
    (image_id,) = project.images
    mask = project.read_mask(image_id)
    assert mask[0, 0] == project.class_by_name("leaf").id
    assert mask[47, 63] == project.class_by_name("stem").id


def test_missing_shape_parts_are_skipped_with_reasons(project: Project) -> None:
    report = import_via(project, BAD / "via_missing_shape.json")
    assert report.regions_imported == 1
    reasons = [r for _, r in report.regions_skipped]
    for expected in (
        "no shape_attributes",
        "empty shape_attributes",
        "missing 'all_points_y'",
        "differ in length",
        "no 'name'",
        "entry is null",
    ):
        assert any(expected in r for r in reasons), expected


def test_unusual_shapes(project: Project) -> None:
    report = import_via(project, BAD / "via_unusual_shapes.json")
    assert report.regions_imported == 5  # circle, ellipse, point, polyline, float polygon
    reasons = dict(report.regions_skipped)
    assert "unknown shape 'hexagon'" in reasons["base_64x48.png, region 6"]
    assert "zero width" in reasons["base_64x48.png, region 4"]
    assert sum("has no area" in n for n in report.notes) == 2
    (image_id,) = project.images
    mask = project.read_mask(image_id)
    leaf = project.class_by_name("leaf").id
    assert mask[20, 20] == leaf and mask[30, 45] == leaf
    assert mask[5, 5] == 255  # the point is not drawn
    kinds = [s["kind"] for s in project.read_shapes(image_id)]
    assert kinds == ["circle", "ellipse", "point", "polyline", "polygon"]


def test_self_intersecting_flagged_vertices_kept(project: Project) -> None:
    report = import_via(project, BAD / "via_self_intersecting.json")
    assert sum("self-intersecting" in n for n in report.notes) == 2
    (image_id,) = project.images
    ring = project.read_shapes(image_id)[1]["points"]
    assert ring == [[5, 5], [55, 5], [55, 43], [5, 43], [5, 5], [45, 15], [45, 33], [15, 33]]


def test_unknown_labels_never_become_class_0(project: Project) -> None:
    project.add_class("leaf")
    report = import_via(project, BAD / "via_labels_unknown.json", create_unknown_classes=False)
    assert report.regions_imported == 1  # "Leaf " -> class "leaf"
    assert report.unknown_labels == {"flower": 1}
    reasons = [r for _, r in report.regions_skipped]
    assert "unknown label 'flower'" in reasons
    assert "no 'class' label" in reasons
    assert any("several 'class' labels" in r for r in reasons)
    (image_id,) = project.images
    assert 0 not in np.unique(project.read_mask(image_id))


def test_label_map_and_created_classes(project: Project) -> None:
    report = import_via(
        project, BAD / "via_labels_unknown.json", label_map={"Leaf": 2, "flower": None}
    )
    assert report.regions_imported == 1 and not report.classes_created
    assert "label 'flower' is mapped to nothing" in [r for _, r in report.regions_skipped]
    other = Project.create(project.root.parent / "other")
    try:
        report = import_via(other, BAD / "via_labels_unknown.json")
        assert report.classes_created == ["Leaf", "flower"]
        assert report.unknown_labels == {"Leaf": 1, "flower": 1}
    finally:
        other.close()


def test_file_matching_nfc_case_paths_urls_and_twins(project: Project) -> None:
    path = BAD / "via_unknown_files.json"
    report = import_via(project, path, image_dirs=[BAD, BAD / "dup_a", BAD / "dup_b"])
    assert len(report.matched) == 3  # NFD name, upper-case name, Windows path
    assert len(set(report.matched.values())) == 2
    unmatched = "\n".join(report.unmatched)
    assert "ef.jpg" in unmatched or "pinimg" in unmatched
    assert "photo.jpg: ambiguous: 2 images with this name" in report.unmatched
    assert not any(r.original_name == "photo.jpg" for r in project.images.values())


def test_matching_existing_project_images_and_twins(project: Project) -> None:
    for sub in ("dup_a", "dup_b"):
        assert project.add_image_file(BAD / sub / "photo.jpg").image_id
    project.add_image_file(BAD / "base_64x48.png")
    report = import_via(project, BAD / "via_unknown_files.json", image_dirs=[])
    assert "photo.jpg: ambiguous: 2 images with this name" in report.unmatched
    assert len(report.matched) == 2  # upper-case name + Windows path, no NFC file on disk searched
    for rid in project.images:
        if project.images[rid].original_name == "photo.jpg":
            assert not project.has_mask(rid) and project.read_shapes(rid) == []


def test_file_names_never_escape_the_chosen_folders(tmp_path: Path, project: Project) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(BAD / "base_64x48.png", outside / "secret.png")
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    region = {
        "shape_attributes": {"name": "rect", "x": 1, "y": 1, "width": 5, "height": 5},
        "region_attributes": {"class": "leaf"},
    }
    names = [
        "../outside/secret.png",
        str(outside / "secret.png"),
        "file://" + str(outside / "secret.png"),
        "..\\outside\\secret.png",
        "..",
    ]
    doc = {f"k{i}": {"filename": n, "size": -1, "regions": [region]} for i, n in enumerate(names)}
    (chosen / "via.json").write_text(json.dumps(doc), encoding="utf-8")
    report = import_via(project, chosen / "via.json")
    assert not report.matched and len(report.unmatched) == len(names)
    assert not project.images


def test_exif_image_uses_upright_frame(project: Project) -> None:
    report = import_via(project, BAD / "via_on_exif_image.json")
    (image_id,) = project.images
    rec = project.images[image_id]
    assert (rec.width, rec.height) == (40, 60)
    assert report.regions_imported == 1
    mask = project.read_mask(image_id)
    assert int((mask != 255).sum()) == 15 * 20


# --------------------------------------------------------------------------- round trips


def _copy_tree(src: Path, dst: Path, names: list[str]) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(src / n, dst / n)
    return dst


def test_round_trip_via_project_export_project(tmp_path: Path, project: Project) -> None:
    import_via(project, VIA / "03_receipts_via2/via_export_json.json")
    import_via(project, BAD / "via_unusual_shapes.json")
    import_via(project, HERE_DATA / "via3_image_project.json", image_dirs=[BAD])
    out = tmp_path / "export" / "via_project.json"
    notes = export_via(project, out)
    assert notes == []
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["_via_data_format_version"] == "2.0.10"
    assert doc["_via_image_id_list"] == list(doc["_via_img_metadata"])
    assert doc["_via_attributes"]["region"]["class"]["type"] == "dropdown"
    for key, meta in doc["_via_img_metadata"].items():
        assert key == f"{meta['filename']}{meta['size']}"

    # the images next to the exported file, as a VIA user would have them
    folder = out.parent
    for rid, rec in project.images.items():
        shutil.copy(project.image_path(rid), folder / rec.original_name)
    second = Project.create(tmp_path / "second")
    try:
        report = import_via(second, out)
        assert not report.unmatched and not report.regions_skipped
        assert [c.name for c in second.classes] == [c.name for c in project.classes]
        by_name = {r.original_name: rid for rid, r in second.images.items()}
        assert len(by_name) == len(project.images)
        for rid, rec in project.images.items():
            other = by_name[rec.original_name]
            assert np.array_equal(second.read_mask(other), project.read_mask(rid))
            assert second.read_shapes(other) == project.read_shapes(rid)
    finally:
        second.close()


def test_export_mask_only_images_as_polygons(tmp_path: Path, project: Project) -> None:
    image_id = project.add_image_file(BAD / "base_64x48.png").image_id
    mask = np.full((48, 64), 255, np.uint8)
    mask[5:20, 5:30] = 1
    mask[10:15, 10:15] = 2  # inside a hole of class 1
    mask[30:44, 40:60] = 3
    mask[33:36, 2:4] = 2
    mask[40, 10] = 1  # a single pixel
    project.write_mask(image_id, mask)
    out = tmp_path / "x" / "mask.json"
    assert export_via(project, out) == []
    _copy_tree(BAD, out.parent, ["base_64x48.png"])
    second = Project.create(tmp_path / "second")
    try:
        report = import_via(second, out)
        assert report.regions_imported == 5
        (other,) = second.images
        assert np.array_equal(second.read_mask(other), mask)
    finally:
        second.close()
    shapes = mask_to_shapes(mask)
    assert [s["class_id"] for s in shapes][:2] == [1, 3]  # largest first


def test_export_reports_unlabelled_holes(tmp_path: Path, project: Project) -> None:
    image_id = project.add_image_file(BAD / "base_64x48.png").image_id
    mask = np.full((48, 64), 255, np.uint8)
    mask[5:20, 5:30] = 1
    mask[10:15, 10:15] = 255
    project.write_mask(image_id, mask)
    notes = export_via(project, tmp_path / "holes.json")
    assert notes == ["base_64x48.png: 25 mask pixels differ after conversion to polygons"]


# --------------------------------------------------------------------------- fuzzing

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(
        ["polygon", "rect", "circle", "ellipse", "point", "polyline", "name", "regions"]
    ),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "filename",
                    "size",
                    "regions",
                    "shape_attributes",
                    "region_attributes",
                    "name",
                    "all_points_x",
                    "all_points_y",
                    "x",
                    "y",
                    "width",
                    "height",
                    "cx",
                    "cy",
                    "r",
                    "_via_img_metadata",
                    "_via_attributes",
                    "project",
                    "file",
                    "metadata",
                    "view",
                    "xy",
                    "z",
                    "av",
                    "vid",
                    "fid_list",
                    "fname",
                    "type",
                    "options",
                    "a.jpg1",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=_json, suffix=st.sampled_from(["", "NaN", "]"]))
def test_random_documents_raise_only_via_error(tmp_path: Path, doc: object, suffix: str) -> None:
    path = tmp_path / "fuzz.json"
    text = json.dumps(doc)
    if suffix and text.endswith("}"):
        text = text[:-1] + (', "n": NaN}' if suffix == "NaN" else "]}")
    path.write_text(text, encoding="utf-8")
    try:
        via = read_via(path)
    except ViaError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for entry in via.entries:
        for region in entry.regions:
            for attr in region.attributes:
                region_label(via, region, attr)
    guess_class_attribute(via, ["a"])


# --------------------------------------------------------------------------- import semantics

# every variant of the corpus, imported from its own folder (the photos that are there)
IMPORTABLE = [rel for rel, *_ in REAL_FILES] + ["10_echo_video_via3/via_project_echo.json"]


def _matched_regions(via, report) -> int:
    return sum(len(e.regions) for e in via.entries if e.key in report.matched)


@pytest.mark.parametrize("rel", IMPORTABLE)
def test_every_corpus_file_imports(tmp_path: Path, rel: str) -> None:
    path = VIA / rel
    if not path.is_file():  # the video project's file name
        (path,) = (VIA / rel.split("/")[0]).glob("*.json")
    p = Project.create(tmp_path / "p")
    try:
        via = read_via(path)
        report = import_via(p, path, unlabelled_class=1)
        # every region is accounted for: imported, or skipped with a reason
        assert report.regions_imported + len(report.regions_skipped) == _matched_regions(
            via, report
        ) + len(via.skipped)
        photos = [f for f in path.parent.iterdir() if f.suffix.lower() in (".jpg", ".png")]
        assert len(report.images_added) == len(photos)
        if photos:
            assert report.regions_imported > 0
        "\n".join(report.lines()).encode("utf-8")
    finally:
        p.close()


def test_polyline_closed_rule() -> None:
    from fashionseg_gui.core.via import polyline_closed

    assert polyline_closed([[0, 0], [10, 0], [10, 10], [0, 0]])  # first point repeated
    assert polyline_closed([[0, 0], [40, 0], [40, 40], [0, 40], [0, 3]])  # ends nearly meet
    assert not polyline_closed([[2, 40], [30, 20], [60, 40]])  # an open line
    assert not polyline_closed([[0, 0], [10, 10], [0, 0]])  # two distinct points only
    assert not polyline_closed([[0, 0], [40, 0], [40, 40], [0, 40], [0, 20]])


def test_closed_polylines_are_filled_and_reported(tmp_path: Path) -> None:
    path = VIA / "04_larvae_mixed_via2/via_region_data.json"
    classes = [("background", "#000000"), ("larvae", "#ff0000")]
    filled = Project.create(tmp_path / "filled", classes)
    kept = Project.create(tmp_path / "kept", classes)
    try:
        # the outlines carry no class (region_attributes {}): give them "larvae"
        report = import_via(filled, path, unlabelled_class=1)
        assert len(report.filled_polylines) == 41  # every larva outline in the corpus
        line = next(ln for ln in report.lines() if "closed polylines filled" in ln)
        assert line.startswith("41 closed polylines filled as polygons: ")
        assert report.filled_polylines[0] in line
        kinds = [s["kind"] for i in filled.images for s in filled.read_shapes(i)]
        assert "polyline" not in kinds
        assert not any("has no area" in n for n in report.notes)

        report_kept = import_via(kept, path, unlabelled_class=1, fill_closed_polylines=False)
        assert report_kept.filled_polylines == []
        assert sum("polyline has no area" in n for n in report_kept.notes) == 41
        # one line for the 41 outlines, not 41 lines
        grouped = [ln for ln in report_kept.lines() if "polyline has no area" in ln]
        assert grouped == [next(g for g in grouped if g.startswith("imported 41 regions: "))]
        labelled = sum(kept.images[i].status == "labelled" for i in kept.images)
        assert sum(filled.images[i].status == "labelled" for i in filled.images) > labelled
        for rid in filled.images:
            drawn = int((filled.read_mask(rid) != 255).sum())
            other = next(
                k
                for k in kept.images
                if kept.images[k].original_name == filled.images[rid].original_name
            )
            assert drawn >= int((kept.read_mask(other) != 255).sum())
    finally:
        filled.close()
        kept.close()


def test_regions_without_a_class_skip_or_take_the_chosen_class(tmp_path: Path) -> None:
    path = VIA / "05_craters_circle_via2/via_region_data.json"
    skip = Project.create(tmp_path / "skip", [("background", "#000000"), ("crater", "#ff0000")])
    chosen = Project.create(tmp_path / "chosen", [("background", "#000000"), ("crater", "#ff0000")])
    try:
        r_skip = import_via(skip, path)
        assert r_skip.regions_imported == 0 and r_skip.regions_skipped
        lines = r_skip.lines()
        skipped = [ln for ln in lines if ln.startswith("skipped ")]
        assert skipped == [
            f"skipped {len(r_skip.regions_skipped)} regions: no class attribute "
            f"in this file (e.g. {'; '.join(w for w, _ in r_skip.regions_skipped[:3])}"
            "; …)"
        ]
        assert (
            f"{len(r_skip.regions_skipped)} of the skipped regions carry no class: they can "
            "be given a class instead (regions without a class)"
        ) in lines
        r_cls = import_via(chosen, path, unlabelled_class=1)
        assert r_cls.regions_imported == len(r_skip.regions_skipped) and not r_cls.regions_skipped
        assert all(s["class_id"] == 1 for i in chosen.images for s in chosen.read_shapes(i))
    finally:
        skip.close()
        chosen.close()


@pytest.mark.parametrize("background", [False, True])
def test_pixels_outside_regions_background_or_unlabelled(
    project: Project, background: bool
) -> None:
    import_via(project, BAD / "via_valid_v2_project.json", background_rest=background)
    (image_id,) = project.images
    mask = project.read_mask(image_id)
    assert mask[0, 0] == (0 if background else 255)
    assert set(np.unique(mask)) == ({0} if background else {255}) | {
        project.class_by_name("leaf").id,
        project.class_by_name("stem").id,
    }


def test_report_has_no_contradictions(tmp_path: Path) -> None:
    created = Project.create(tmp_path / "created")
    refused = Project.create(tmp_path / "refused")
    try:
        lines = import_via(created, BAD / "via_labels_unknown.json").lines()
        assert "new classes: Leaf (1 region), flower (1 region)" in lines
        assert not any(ln.startswith("labels not in the project") for ln in lines)
        assert "1 photo added to the project with the VIA file" in lines
        lines = import_via(
            refused, BAD / "via_labels_unknown.json", create_unknown_classes=False
        ).lines()
        assert not any(ln.startswith("new classes") for ln in lines)
        assert "labels not in the project (regions skipped): Leaf (1), flower (1)" in lines
    finally:
        created.close()
        refused.close()


def test_one_report_line_per_kind_of_skipped_region(project: Project) -> None:
    report = import_via(project, BAD / "via_two_points_polygon.json")
    assert len(report.regions_skipped) == 4
    skipped = [ln for ln in report.lines() if ln.startswith("skipped ")]
    assert len(skipped) == 2
    assert skipped[0] == (
        "skipped 3 regions: too few points (base_64x48.png, region 0; "
        "base_64x48.png, region 1; base_64x48.png, region 2)"
    )
    # a kind with one reason shows the reason itself
    assert skipped[1] == (
        "skipped 1 region: polygon has zero area (all points on one line) "
        "(base_64x48.png, region 3)"
    )


def _one_region_file(
    tmp_path: Path,
    shape: dict,
    attrs: dict,
    filename: str = "base_64x48.png",
) -> Path:
    shutil.copy(BAD / "base_64x48.png", tmp_path / "base_64x48.png")
    doc = {
        "_via_img_metadata": {
            "k": {
                "filename": filename,
                "size": -1,
                "regions": [{"shape_attributes": shape, "region_attributes": attrs}],
            }
        }
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="ascii")  # \ud800 stays a JSON escape
    return path


RECT = {"name": "rect", "x": 2, "y": 2, "width": 10, "height": 10}


def test_lone_surrogate_label_is_sanitised_and_saved(tmp_path: Path, project: Project) -> None:
    path = _one_region_file(tmp_path, RECT, {"class": "bad\ud800label"})
    report = import_via(project, path)
    assert report.classes_created == ["bad\ufffdlabel"]
    "\n".join(report.lines()).encode("utf-8")
    project.close()
    again = Project.open(project.root, read_only=True)
    assert again.class_by_name("bad\ufffdlabel") is not None


def test_huge_integer_label_is_refused_with_a_reason(tmp_path: Path, project: Project) -> None:
    path = _one_region_file(tmp_path, RECT, {"class": int("9" * 400)})
    report = import_via(project, path, attribute="class")
    assert report.regions_imported == 0
    (reason,) = [r for _, r in report.regions_skipped]
    assert reason == "'class' label is too long (more than 200 digits, at most 200)"
    assert f"skipped 1 region: {reason} (base_64x48.png, region 0)" in report.lines()
    assert region_label(read_via(path), read_via(path).entries[0].regions[0], "class")[0] is None


@pytest.mark.parametrize(
    "shape",
    [
        {"name": "ellipse", "cx": 1e308, "cy": 1e308, "rx": 1e308, "ry": 1e307, "theta": 0},
        {"name": "circle", "cx": 10, "cy": 10, "r": 1.7e308},
        {"name": "polygon", "all_points_x": [0, 1e308, 5], "all_points_y": [0, 5, -1e308]},
        {"name": "rect", "x": -1e300, "y": 0, "width": 1e300, "height": 5},
    ],
)
def test_coordinates_near_the_float_limit_are_skipped(
    tmp_path: Path, project: Project, shape: dict
) -> None:
    path = _one_region_file(tmp_path, shape, {"class": "leaf"})
    report = import_via(project, path)
    assert report.regions_imported == 0
    (reason,) = [r for _, r in report.regions_skipped]
    assert "out of range" in reason
    assert any(
        ln.startswith("skipped 1 region: '") and "out of range" in ln for ln in report.lines()
    )


def test_surrogate_file_name_in_the_report(
    tmp_path: Path, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    from fashionseg_gui.cli import main

    path = _one_region_file(tmp_path, RECT, {"class": "leaf"}, filename="\ud800.jpg")
    report = import_via(project, path)
    assert report.unmatched == ["\ufffd.jpg: no image with this name"]
    "\n".join(report.lines()).encode("utf-8")
    project.close()
    assert main(["import", str(project.root), "--via", str(path)]) == 0
    assert "not matched: \ufffd.jpg" in capsys.readouterr().out


def test_a_parsed_file_is_not_read_again(tmp_path: Path, project: Project, monkeypatch) -> None:
    from fashionseg_gui.core.via import importer

    via = read_via(BAD / "via_valid_v2_project.json")

    def refuse(_path: object) -> None:
        raise AssertionError("read a second time")

    monkeypatch.setattr(importer, "read_via", refuse)
    report = import_via(project, BAD / "via_valid_v2_project.json", via_file=via)
    assert report.regions_imported == 2


def test_existing_unreadable_mask_skips_its_regions(tmp_path: Path, project: Project) -> None:
    import_via(project, BAD / "via_valid_v2_project.json")
    (image_id,) = project.images
    shutil.copy(BAD / "bomb_header.png", project.mask_path(image_id))
    report = import_via(project, BAD / "via_valid_v2_project.json")
    assert report.regions_imported == 0
    assert all("decompression bomb" in r for _, r in report.regions_skipped)
    assert len(report.regions_skipped) == 2


def test_cli_via_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fashionseg_gui.cli import main

    proj = tmp_path / "p"
    assert main(["new", str(proj), "--classes", "crater"]) == 0
    craters = VIA / "05_craters_circle_via2" / "via_region_data.json"
    assert main(["import", str(proj), "--via", str(craters), "--unclassified", "skip"]) == 0
    assert "0 regions imported" in capsys.readouterr().out
    assert (
        main(
            [
                "import",
                str(proj),
                "--via",
                str(craters),
                "--unclassified",
                "crater",
                "--outside",
                "background",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "regions imported, 0 skipped" in out and " 0 regions imported" not in out
    project = Project.open(proj, read_only=True)
    for rid in project.images:
        assert 255 not in np.unique(project.read_mask(rid))  # outside = background
    project.close()
    assert main(["import", str(proj), "--via", str(craters), "--unclassified", "nope"]) == 2
    assert "no class named 'nope'" in capsys.readouterr().err

    larvae = VIA / "04_larvae_mixed_via2" / "via_region_data.json"
    for flag, expected in (
        ("--no-fill-closed-polylines", False),
        ("--fill-closed-polylines", True),
    ):
        proj2 = tmp_path / f"larvae{expected}"
        assert main(["new", str(proj2), "--classes", "larvae"]) == 0
        assert (
            main(["import", str(proj2), "--via", str(larvae), flag, "--unlabelled-class", "larvae"])
            == 0
        )
        out = capsys.readouterr().out
        assert ("41 closed polylines filled as polygons" in out) is expected


def test_out_of_range_coordinates_in_via3_and_csv(tmp_path: Path) -> None:
    doc = json.loads((HERE_DATA / "via3_image_project.json").read_text(encoding="utf-8"))
    mid = next(iter(doc["metadata"]))
    doc["metadata"][mid]["xy"] = [4, 1e308, 1e308, 1e308, 1e307]  # an ellipse
    (tmp_path / "v3.json").write_text(json.dumps(doc), encoding="utf-8")
    via = read_via(tmp_path / "v3.json")
    assert any("out of range" in r for w, r in via.skipped if mid in w)
    header = (
        "filename,file_size,file_attributes,region_count,region_id,"
        "region_shape_attributes,region_attributes\n"
    )
    row = (
        'a.png,10,"{}",1,0,"{""name"":""circle"",""cx"":1e308,""cy"":2,""r"":3}",'
        '"{""class"":""x\\ud800""}"\n'
    )
    (tmp_path / "v.csv").write_text(header + row, encoding="utf-8")
    via = read_via(tmp_path / "v.csv")
    assert via.skipped == [("a.png, region 0", "'cx' is out of range (1e+308; at most 1e+06)")]


def test_reason_kinds_group_different_reasons() -> None:
    from fashionseg_gui.core.via.report import ViaImportReport, reason_kind

    assert (
        reason_kind("'all_points_x[3]' is not finite (NaN)")
        == reason_kind("'cy' is not finite (Infinity)")
        == "coordinates not finite (NaN/Infinity)"
    )
    assert reason_kind("unknown label 'flower'") == "unknown label 'flower'"
    report = ViaImportReport(
        regions_skipped=[(f"a.jpg, region {i}", f"'x[{i}]' is null") for i in range(5)]
    )
    assert report.lines()[-1] == (
        "skipped 5 regions: coordinates missing (null) "
        "(e.g. a.jpg, region 0; a.jpg, region 1; a.jpg, region 2; …)"
    )


_number = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 5, 30, 63, 1e308, -1e308, 2**63]),
)
_value = st.one_of(
    _number,
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.sampled_from(["\ud800", "a\udfffb", "leaf", " Leaf "]),
)
_shape = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["polygon", "polyline", "rect", "circle", "ellipse", "point", "x"]),
    },
    optional={
        "x": _value,
        "y": _value,
        "width": _value,
        "height": _value,
        "cx": _value,
        "cy": _value,
        "r": _value,
        "rx": _value,
        "ry": _value,
        "theta": _value,
        "all_points_x": st.lists(_value, max_size=6),
        "all_points_y": st.lists(_value, max_size=6),
    },
)
_region = st.fixed_dictionaries(
    {
        "shape_attributes": _shape,
        "region_attributes": st.dictionaries(
            st.sampled_from(["class", "name", "\ud800"]),
            st.one_of(_value, st.dictionaries(st.text(max_size=3), st.booleans(), max_size=3)),
            max_size=2,
        ),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    regions=st.lists(_region, max_size=5),
    filename=st.sampled_from(["base_64x48.png", "\ud800.jpg", "BASE_64x48.PNG", "../x.png"]),
)
def test_random_regions_import_without_a_traceback(
    tmp_path: Path, project: Project, regions: list, filename: str
) -> None:
    shutil.copy(BAD / "base_64x48.png", tmp_path / "base_64x48.png")
    path = tmp_path / "fuzz.json"
    doc = {"_via_img_metadata": {"k": {"filename": filename, "size": -1, "regions": regions}}}
    path.write_text(json.dumps(doc), encoding="ascii")
    try:
        report = import_via(project, path)
    except ViaError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    "\n".join(report.lines()).encode("utf-8")  # printable and savable
    if report.matched:  # every region imported or skipped with a reason
        assert report.regions_imported + len(report.regions_skipped) == len(regions)
    else:
        assert report.regions_imported == 0 and len(report.unmatched) == 1
    project.save()


def test_cyclic_collection_pauses_during_a_parse_and_comes_back(
    tmp_path: Path, monkeypatch
) -> None:
    """A big parse must not be walked by full collections (they hold the interpreter lock
    and froze the window); the collector's state is restored, also after an error."""
    import gc

    from fashionseg_gui.core import gcpause
    from fashionseg_gui.core.via import reader

    seen = []
    real = reader.parse_via_text

    def spy(text: str, name: str):
        seen.append(gcpause.is_paused() and not gc.isenabled())
        return real(text, name)

    monkeypatch.setattr(reader, "parse_via_text", spy)
    good = tmp_path / "v.json"
    good.write_text(
        json.dumps(
            {
                "a.jpg1": {
                    "filename": "a.jpg",
                    "size": 1,
                    "regions": [
                        {
                            "shape_attributes": {
                                "name": "polygon",
                                "all_points_x": [1, 5, 5],
                                "all_points_y": [1, 1, 5.5],
                            },
                            "region_attributes": {},
                        }
                    ],
                    "file_attributes": {},
                }
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    before = gc.isenabled()  # off for good once a GUI collects by hand (workers.gc_guard)
    via = reader.read_via(good)
    assert via.entries[0].regions[0].shape["points"] == [[1, 1], [5, 1], [5, 5.5]]
    with pytest.raises(ViaError):
        reader.read_via(bad)
    assert seen == [True, True] and gc.isenabled() == before
    gc.disable()
    try:
        reader.read_via(good)
        assert not gc.isenabled()  # a caller's own pause is left as it was
    finally:
        if before:
            gc.enable()


@pytest.mark.parametrize(
    ("rel", "version", "entries", "regions"),
    [f for f in REAL_FILES if f[1] in ("1", "2", "2-project", "3", "csv")],
)
def test_a_parse_hands_the_interpreter_lock_over_per_entry(
    rel: str, version: str, entries: int, regions: int, monkeypatch
) -> None:
    """Parsed on a worker, a big VIA file froze the window for 0.2-0.9 s at a time: each
    variant's reader (and the text clean-up after it) offers the lock once per entry, and
    the VIA 1/2 readers free the parsed JSON entry by entry."""
    from fashionseg_gui.core.via import model, read_csv, read_json, read_v3

    calls = {"n": 0}

    def count() -> None:
        calls["n"] += 1

    for module in (model, read_csv, read_json, read_v3):
        monkeypatch.setattr(module, "let_others_run", count)
    via = read_via(VIA / rel)
    assert via.version == version
    assert calls["n"] >= 2 * len(via.entries) > 0  # reading, then sanitising


def test_read_entries_consumes_the_parsed_json() -> None:
    from fashionseg_gui.core.via.model import ViaFile
    from fashionseg_gui.core.via.read_json import read_entries

    meta = {
        "a.jpg1": {"filename": "a.jpg", "size": 1, "regions": []},
        "b.jpg2": {"filename": "b.jpg", "size": 2, "regions": []},
    }
    via = ViaFile(version="2")
    read_entries(via, meta)
    assert [e.filename for e in via.entries] == ["a.jpg", "b.jpg"]
    assert meta == {"a.jpg1": None, "b.jpg2": None}
