"""Export a VIA 2.0.10 project file that VIA itself opens.

``_via_settings``, ``_via_img_metadata`` keyed by filename + size, ``_via_attributes`` with a
dropdown ``class`` attribute, ``_via_data_format_version``, ``_via_image_id_list``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.shapes import validate_shape

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def _via_shape(shape: dict) -> dict | None:
    kind = shape.get("kind")
    if kind in ("polygon", "polyline"):
        pts = shape.get("points") or []
        return {
            "name": kind,
            "all_points_x": [p[0] for p in pts],
            "all_points_y": [p[1] for p in pts],
        }
    if kind == "rect":
        return {
            "name": "rect",
            "x": shape["x"],
            "y": shape["y"],
            "width": shape["w"],
            "height": shape["h"],
        }
    if kind == "circle":
        return {"name": "circle", "cx": shape["cx"], "cy": shape["cy"], "r": shape["r"]}
    if kind == "ellipse":
        out = {
            "name": "ellipse",
            "cx": shape["cx"],
            "cy": shape["cy"],
            "rx": shape["rx"],
            "ry": shape["ry"],
        }
        out["theta"] = shape.get("theta", 0)
        return out
    if kind == "point":
        return {"name": "point", "cx": shape["x"], "cy": shape["y"]}
    return None


def mask_to_shapes(mask: np.ndarray, ignore_value: int = IGNORE) -> list[dict]:
    """Polygons (``cv2.findContours``) for every class region of a label mask.

    Only outer contours are kept; a region of another class inside a hole is its own polygon,
    listed after the larger one that surrounds it (polygons are sorted by area, largest first),
    so drawing them in order rebuilds the mask. An unlabelled hole is filled by the surrounding
    class (VIA has no holes).
    """
    import cv2

    polys: list[tuple[float, dict]] = []
    for value in np.unique(mask):
        if int(value) == ignore_value:
            continue
        binary = (mask == value).astype(np.uint8)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            pts = c.reshape(-1, 2)
            if len(pts) < 3:  # a 1- or 2-pixel blob: its contour is a line; outline it as a box
                shape = _bounding_rect(pts)
                area = float(shape["w"] * shape["h"])
            else:
                shape = {"kind": "polygon", "points": pts.astype(int).tolist()}
                area = float(cv2.contourArea(c)) + len(pts)  # outline pixels count too
                if validate_shape(shape) is not None:  # a straight line of pixels
                    shape = _bounding_rect(pts)
            shape["class_id"] = int(value)
            polys.append((area, shape))
    polys.sort(key=lambda t: -t[0])
    return [s for _, s in polys]


def _bounding_rect(pts: np.ndarray) -> dict:
    """The rect shape covering every pixel of ``pts`` (an (N, 2) array of x, y)."""
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return {
        "kind": "rect",
        "x": int(x0),
        "y": int(y0),
        "w": int(x1 - x0 + 1),
        "h": int(y1 - y0 + 1),
    }


def export_via(project: Project, out_path: str | Path, ids: list[str] | None = None) -> list[str]:
    """Write a VIA 2.0.10 project file for (some of) the project's images.

    Parameters
    ----------
    project : Project
        The project.
    out_path : str or Path
        Destination ``.json`` (written atomically).
    ids : list of str or None
        Image ids to export (default: all images, in project order).

    Returns
    -------
    list of str
        Notes: images whose mask could not be turned into polygons exactly, shapes that were
        left out (unknown class), renamed duplicate file names.

    Notes
    -----
    Regions come from ``shapes/<id>.json``; an image with a mask but no shapes gets polygons
    from the mask (:func:`mask_to_shapes`: outer contours only, holes are not separate regions).
    The file name is the original file name; the key is filename + size, where size is the
    stored file's byte size when it holds the original bytes, else -1. The class goes into a
    dropdown region attribute ``class`` whose option ids are the class names.
    """
    out_path = Path(out_path)
    ids = list(project.images) if ids is None else list(ids)
    notes: list[str] = []
    names = {c.id: c.name for c in project.classes}
    meta: dict[str, dict] = {}
    for image_id in ids:
        rec = project.images.get(image_id)
        if rec is None:
            notes.append(f"{image_id}: no such image, left out")
            continue
        shapes = project.read_shapes(image_id)
        if not shapes and project.has_mask(image_id):
            mask = project.read_mask(image_id)
            shapes = mask_to_shapes(mask)
            if shapes:
                from fashionseg_gui.core.shapes import rasterize

                back, _ = rasterize(shapes, rec.height, rec.width)
                diff = int((back != mask).sum())
                if diff:
                    notes.append(
                        f"{rec.original_name}: {diff} mask pixels differ after conversion to polygons"
                    )
        regions = []
        for k, shape in enumerate(shapes):
            sa = _via_shape(shape) if isinstance(shape, dict) else None
            cid = shape.get("class_id") if isinstance(shape, dict) else None
            if sa is None or cid not in names:
                notes.append(f"{rec.original_name}: shape {k + 1} left out (unknown kind or class)")
                continue
            regions.append({"shape_attributes": sa, "region_attributes": {"class": names[cid]}})
        filename = rec.original_name or rec.file
        size = _original_size(project, image_id)
        key = f"{filename}{size}"
        if key in meta:
            filename = rec.file
            key = f"{filename}{size}"
            notes.append(
                f"{rec.original_name}: name and size shared with another image, exported as {filename}"
            )
        meta[key] = {"filename": filename, "size": size, "regions": regions, "file_attributes": {}}
    doc = {
        "_via_settings": _via_settings(project.name),
        "_via_img_metadata": meta,
        "_via_attributes": {
            "region": {
                "class": {
                    "type": "dropdown",
                    "description": "class",
                    "options": {c.name: c.name for c in project.classes},
                    "default_options": {},
                }
            },
            "file": {},
        },
        "_via_data_format_version": "2.0.10",
        "_via_image_id_list": list(meta),
    }
    atomic_write_json(out_path, doc)
    return notes


def _original_size(project: Project, image_id: str) -> int:
    rec = project.images[image_id]
    path = project.image_path(image_id)
    try:
        data = path.read_bytes()
    except OSError:
        return -1
    return len(data) if hashlib.sha256(data).hexdigest() == rec.sha256 else -1


def _via_settings(name: str) -> dict:
    return {
        "ui": {
            "annotation_editor_height": 25,
            "annotation_editor_fontsize": 0.8,
            "leftsidebar_width": 18,
            "image_grid": {
                "img_height": 80,
                "rshape_fill": "none",
                "rshape_fill_opacity": 0.3,
                "rshape_stroke": "yellow",
                "rshape_stroke_width": 2,
                "show_region_shape": True,
                "show_image_policy": "all",
            },
            "image": {
                "region_label": "class",
                "region_color": "class",
                "region_label_font": "10px Sans",
                "on_image_annotation_editor_placement": "NEAR_REGION",
            },
        },
        "core": {"buffer_size": 18, "filepath": {}, "default_filepath": ""},
        "project": {"name": name},
    }
