"""``coco``: a COCO instance-segmentation JSON (polygons, holes bridged).

``file_name`` is the photo's original file name, made unique within the export (a second
``photo.jpg`` becomes ``photo__<image id>.jpg``), like the names of the PNG and VIA exports.
Background (0) is not a category and pixels that are not labelled (255) are in no annotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionseg_gui.core.atomic import atomic_write_json
from fashionseg_gui.core.coco import mask_to_polygons
from fashionseg_gui.core.export.common import (
    ProgressFn,
    images_with_mask,
    unique_original_names,
)
from fashionseg_gui.core.export.registry import ExportContext, ExportFormat, register
from fashionseg_gui.core.labels import IGNORE

if TYPE_CHECKING:
    from fashionseg_gui.core.cancel import CancelToken
    from fashionseg_gui.core.project import Project


def export_coco(
    project: Project,
    out_path: str | Path,
    ids: Iterable[str] | None = None,
    *,
    on_progress: ProgressFn | None = None,
    cancel_token: CancelToken | None = None,
) -> dict:
    """Export masks as a COCO instance-segmentation JSON (polygons).

    ``categories`` are classes 1..N (background is not a category; 255 pixels are left out).
    Every connected component (8-connectivity) of a class is one annotation with
    ``segmentation`` (one polygon, holes bridged), ``bbox`` ``[x, y, w, h]`` in pixels,
    ``area`` (its pixel count) and ``iscrowd`` 0. Images carry ``file_name`` (the original file name,
    made unique within the export), ``original_name`` and ``fashionseg_id``.

    Parameters
    ----------
    project : Project
    out_path : str or Path
        JSON file to write (atomically).
    ids : iterable of str, optional
        Images to export; default every image with a mask.

    Returns
    -------
    dict
        The COCO document written.
    """
    import cv2

    todo = images_with_mask(project, ids)
    names = unique_original_names(project, todo)
    coco: dict[str, Any] = {
        "info": {
            "description": f"FashionSeg Studio export of {project.root.name}",
            "version": "1.0",
        },
        "licenses": [],
        "images": [],
        "categories": [
            {"id": c.id, "name": c.name, "supercategory": "", "color": c.color}
            for c in project.classes
            if 0 < c.id < IGNORE
        ],
        "annotations": [],
    }
    class_ids = [c.id for c in project.classes if 0 < c.id < IGNORE]
    ann_id = 1
    for n, image_id in enumerate(todo, 1):
        if cancel_token is not None and getattr(cancel_token, "cancelled", False):
            break
        rec = project.images[image_id]
        mask = project.read_mask(image_id)
        coco_image_id = n
        coco["images"].append(
            {
                "id": coco_image_id,
                "file_name": names[image_id],
                "width": rec.width,
                "height": rec.height,
                "original_name": rec.original_name,
                "fashionseg_id": image_id,
            }
        )
        for cid in class_ids:
            binary = (mask == cid).astype(np.uint8)
            if not binary.any():
                continue
            count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
            for comp in range(1, count):
                x, y, w, h, area = (int(v) for v in stats[comp])
                crop = labels[y : y + h, x : x + w] == comp
                polys = mask_to_polygons(np.pad(crop, 1))
                shifted = []
                for poly in polys:
                    arr = np.asarray(poly).reshape(-1, 2) + (x - 1, y - 1)
                    shifted.append([float(v) for v in arr.ravel()])
                if not shifted:
                    continue
                coco["annotations"].append(
                    {
                        "id": ann_id,
                        "image_id": coco_image_id,
                        "category_id": cid,
                        "segmentation": shifted,
                        "area": float(area),
                        "bbox": [float(x), float(y), float(w), float(h)],
                        "iscrowd": 0,
                    }
                )
                ann_id += 1
        if on_progress is not None:
            on_progress(n, len(todo), rec.original_name)
    atomic_write_json(out_path, coco)
    return coco


def _write(project: Project, out: Path, ctx: ExportContext) -> list[Path]:
    export_coco(project, out, ctx.ids, on_progress=ctx.on_progress, cancel_token=ctx.cancel_token)
    return [out]


FORMAT = register(ExportFormat("coco", "COCO JSON…", True, _write))
