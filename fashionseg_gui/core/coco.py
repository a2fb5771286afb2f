"""COCO polygons: binary masks to polygons (holes kept) and COCO annotations back to masks.

COCO polygons have no holes. :func:`mask_to_polygons` traces each connected component with
``cv2.findContours(RETR_CCOMP)`` and joins every hole ring to the outer ring with a zero-width
bridge (the bridge goes from the hole to the nearest point of the polygon built so far and
comes back along the same segment). Filling the result with ``cv2.fillPoly`` (as
:func:`coco_to_masks` does) gives the component back, holes included; only the pixels on a
bridge segment are added. Coordinates are OpenCV pixel-centre coordinates (x, y).

The COCO export itself is :mod:`fashionseg_gui.core.export.coco`.
"""

from __future__ import annotations

import numpy as np

from fashionseg_gui.core.labels import IGNORE
from fashionseg_gui.core.masks import MaskRejected


def _nearest_pair(ring: np.ndarray, poly: np.ndarray) -> tuple[int, int]:
    """Indices (i in ring, j in poly) of the closest pair of points."""
    best = (np.inf, 0, 0)
    polyf = poly.astype(np.float64)
    step = max(1, 2_000_000 // max(len(poly), 1))
    for start in range(0, len(ring), step):
        chunk = ring[start : start + step].astype(np.float64)
        d = ((chunk[:, None, :] - polyf[None, :, :]) ** 2).sum(-1)
        k = int(np.argmin(d))
        i, j = divmod(k, d.shape[1])
        if d[i, j] < best[0]:
            best = (float(d[i, j]), start + i, j)
    return best[1], best[2]


def _bridge_holes(outer: np.ndarray, holes: list[np.ndarray]) -> np.ndarray:
    """Join hole rings to the outer ring with zero-width bridges (one closed ring)."""
    poly = outer
    for hole in holes:
        i, j = _nearest_pair(hole, poly)
        ring = np.roll(hole, -i, axis=0)
        poly = np.concatenate([poly[: j + 1], ring, ring[:1], poly[j:]])
    return poly


def _flat(points: np.ndarray) -> list[float]:
    pts = points.reshape(-1, 2)
    while len(pts) < 3:  # COCO needs >= 3 points; a 1- or 2-pixel component repeats them
        pts = np.concatenate([pts, pts[-1:]])
    return [float(v) for v in pts.ravel()]


def mask_to_polygons(mask_bool: np.ndarray) -> list[list[float]]:
    """COCO polygons ``[x1, y1, x2, y2, ...]`` of a binary mask, holes kept.

    Each 8-connected component gives one polygon: its outer contour with every hole ring
    joined by a zero-width bridge (see the module docstring). Filling the polygons with
    ``cv2.fillPoly`` reproduces the mask except for the pixels on bridge segments.

    Parameters
    ----------
    mask_bool : np.ndarray
        (H, W) bool or 0/1 array.

    Returns
    -------
    list[list[float]]
        One flat coordinate list per component (at least 3 points each).
    """
    import cv2

    m = np.ascontiguousarray(np.asarray(mask_bool) != 0, dtype=np.uint8)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    if not m.any():
        return []
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]
    polygons: list[list[float]] = []
    for k, contour in enumerate(contours):
        if hier[k][3] != -1:  # a hole; handled with its parent
            continue
        holes = []
        child = hier[k][2]
        while child != -1:
            holes.append(contours[child].reshape(-1, 2))
            child = hier[child][0]
        ring = _bridge_holes(contour.reshape(-1, 2), holes) if holes else contour.reshape(-1, 2)
        polygons.append(_flat(ring))
    return polygons


def _rle_counts_from_string(s: str) -> list[int]:
    """Decode the compressed COCO RLE string (the LEB128-like format of pycocotools)."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = True
        while more:
            if p >= len(s):
                raise ValueError("truncated RLE string")
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _rle_decode(seg: dict, h: int, w: int) -> np.ndarray:
    counts = seg.get("counts")
    size = seg.get("size", [h, w])
    if list(size) != [h, w]:
        raise ValueError(f"RLE size {size} differs from the image size {[h, w]}")
    if isinstance(counts, str):
        counts = _rle_counts_from_string(counts)
    if not isinstance(counts, list) or any(not isinstance(c, int) or c < 0 for c in counts):
        raise ValueError("RLE counts must be non-negative integers")
    if sum(counts) != h * w:
        raise ValueError(f"RLE counts cover {sum(counts)} pixels, the image has {h * w}")
    flat = np.zeros(h * w, dtype=bool)
    pos = 0
    for i, c in enumerate(counts):
        if i % 2:
            flat[pos : pos + c] = True
        pos += c
    return flat.reshape(w, h).T  # COCO RLE runs column by column


def coco_to_masks(coco: dict) -> dict[int, np.ndarray]:
    """Rasterise COCO annotations back to label masks.

    Polygons are filled with ``cv2.fillPoly`` (coordinates as given, rounded to pixels), one
    polygon at a time (union); RLE segmentations (``counts`` list or compressed string) are
    decoded too. Annotations are drawn in file order, so a later one wins where they overlap.
    Pixels that no annotation covers are 0 (background).

    Parameters
    ----------
    coco : dict
        A COCO document (``images`` with ``id``/``width``/``height``; ``annotations`` with
        ``image_id``, ``category_id`` and ``segmentation``).

    Returns
    -------
    dict[int, np.ndarray]
        COCO image id -> uint8 (H, W) mask with the category ids as values.

    Raises
    ------
    MaskRejected
        If the document is malformed (the message says where).
    """
    import cv2

    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise MaskRejected("not a COCO document: no 'images' list")
    masks: dict[int, np.ndarray] = {}
    for k, img in enumerate(coco["images"]):
        try:
            iid, w, h = int(img["id"]), int(img["width"]), int(img["height"])
        except (KeyError, TypeError, ValueError):
            raise MaskRejected(f"COCO images[{k}] lacks a valid id/width/height") from None
        if w <= 0 or h <= 0:
            raise MaskRejected(f"COCO images[{k}] has size {w}x{h}")
        masks[iid] = np.zeros((h, w), dtype=np.uint8)
    for k, ann in enumerate(coco.get("annotations", [])):
        where = f"COCO annotations[{k}]"
        try:
            iid, cid = int(ann["image_id"]), int(ann["category_id"])
            seg = ann["segmentation"]
        except (KeyError, TypeError, ValueError):
            raise MaskRejected(f"{where} lacks image_id/category_id/segmentation") from None
        if iid not in masks:
            raise MaskRejected(f"{where} refers to unknown image id {iid}")
        if not 0 < cid < IGNORE:
            raise MaskRejected(f"{where} has category id {cid} outside 1..254")
        mask = masks[iid]
        if isinstance(seg, dict):
            try:
                mask[_rle_decode(seg, *mask.shape)] = cid
            except (ValueError, TypeError) as exc:
                raise MaskRejected(f"{where}: bad RLE ({exc})") from None
            continue
        if not isinstance(seg, list):
            raise MaskRejected(f"{where}: segmentation must be a list of polygons or RLE")
        for poly in seg:
            try:
                arr = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
            except (ValueError, TypeError):
                raise MaskRejected(f"{where}: a polygon is not a flat list of numbers") from None
            if len(arr) == 0 or not np.isfinite(arr).all():
                raise MaskRejected(f"{where}: empty polygon or non-finite coordinates")
            cv2.fillPoly(mask, [np.rint(arr).astype(np.int32)], int(cid))
    return masks
