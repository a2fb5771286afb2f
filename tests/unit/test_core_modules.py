"""The modules split out of project, data, shapes and model: TensorFlow-free, names kept."""

from __future__ import annotations

import subprocess
import sys


def test_split_modules_import_without_tensorflow() -> None:
    code = (
        "import sys\n"
        "from fashionseg_gui.core import (class_table, confusion, project, project_files,\n"
        "    project_import, project_json, records, recovery, samples, shape_model, shapes,\n"
        "    splits)\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""


def test_old_import_paths_give_the_same_objects() -> None:
    from fashionseg_gui.core import (
        project,
        project_json,
        records,
        recovery,
        shape_model,
        shapes,
    )

    for name in (
        "ClassInfo",
        "ImageRecord",
        "ImportOutcome",
        "Leftovers",
        "ProjectError",
        "ReadOnlyError",
        "STATUSES",
        "SPLITS",
        "PALETTE",
        "DEFAULT_CLASSES",
        "MAX_CLASSES",
        "displayable",
    ):
        assert getattr(project, name) is getattr(records, name), name
    for name in ("SCHEMA_VERSION", "PROJECT_FILE", "N_BACKUPS", "MAX_PROJECT_BYTES", "migrate"):
        assert getattr(project, name) is getattr(project_json, name), name
    assert project.NEXT_SUFFIX is recovery.NEXT_SUFFIX
    for name in (
        "Shape",
        "Polygon",
        "Rect",
        "Circle",
        "Ellipse",
        "Point",
        "Polyline",
        "ShapeError",
        "AREA_KINDS",
        "KINDS",
        "MAX_CHECKED_POINTS",
        "finite_number",
        "number_fields",
        "polygon_self_intersects",
    ):
        assert getattr(shapes, name) is getattr(shape_model, name), name
    assert set(shapes.__all__) <= set(dir(shapes))
    assert set(project.__all__) <= set(dir(project))


def test_data_and_model_keep_the_moved_names() -> None:
    from fashionseg_gui.core import confusion, data, model, samples, splits

    for name in (
        "split_samples",
        "move_to_split",
        "assign_splits",
        "dominant_class",
        "min_val_images",
        "MIN_TWO_VAL_FROM",
    ):
        assert getattr(data, name) is getattr(splits, name), name
    for name in (
        "Sample",
        "DataError",
        "SPLITS",
        "load_mapping",
        "samples_from_folder",
        "samples_from_project",
    ):
        assert getattr(data, name) is getattr(samples, name), name
    for name in (
        "confusion_matrix",
        "iou_per_class",
        "mean_iou",
        "pixel_accuracy",
        "background_baseline_miou",
    ):
        assert getattr(model, name) is getattr(confusion, name), name
    assert set(data.__all__) <= set(dir(data))
    assert set(model.__all__) <= set(dir(model))
