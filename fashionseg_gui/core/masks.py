"""Label masks in: read label PNGs (any mode, with value or colour maps) and stored project masks.

A label mask is a uint8 (H, W) array: value = class id (0 = background, 1..N user classes),
255 (:data:`~fashionseg_gui.core.labels.IGNORE`) = not labelled. Nothing here imports Qt.
Importing a folder of masks lives in :mod:`fashionseg_gui.core.mask_import`, the exports in
:mod:`fashionseg_gui.core.export`, COCO polygons in :mod:`fashionseg_gui.core.coco`.

Reading rules (:func:`read_label_mask`)
---------------------------------------
* ``P`` (palette) masks: the **indices** are the values (never ``convert('L')``).
* ``LA``: channel 0 is the value, alpha is ignored (with a warning).
* ``RGB``/``RGBA``: only with a colour -> class map; colours not in the map are refused and
  listed. (An RGB file whose three channels are equal is read as grayscale.)
* JPEG masks are refused: lossy compression invents new values along every edge.
* The size must equal the image size; otherwise both sizes are shown.
* Values that are not in ``mapping`` (when given) or not below ``num_classes`` are set to 255
  and reported as a histogram in the warnings; they never reach training.

A stored project mask (:func:`read_stored_mask`) that is damaged, not an image, of the wrong
size or a decompression bomb (a header claiming a huge size) raises :class:`MaskRejected` with
the file named, before any large buffer is decoded.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fashionseg_gui.core.filetypes import MASK_SUFFIXES
from fashionseg_gui.core.images import read_input_bytes
from fashionseg_gui.core.labels import IGNORE

__all__ = [
    "IGNORE",
    "MASK_SUFFIXES",
    "MaskRejected",
    "load_mapping_json",
    "read_label_mask",
    "read_stored_mask",
]

_MAX_LISTED = 8


class MaskRejected(Exception):
    """A mask (or mapping / COCO) file that cannot be used; ``str(exc)`` names the file."""


def _hist_text(values: np.ndarray, counts: np.ndarray) -> str:
    order = np.argsort(-counts, kind="stable")
    parts = [f"{int(values[i])}: {int(counts[i])} px" for i in order[:_MAX_LISTED]]
    if len(order) > _MAX_LISTED:
        parts.append(f"... {len(order) - _MAX_LISTED} more")
    return ", ".join(parts)


def _is_lossy_webp(raw: bytes) -> bool:
    return raw[:4] == b"RIFF" and raw[8:12] == b"WEBP" and b"VP8L" not in raw[12:4096]


def _colour_lookup(
    rgb: np.ndarray, colour_map: dict[tuple[int, int, int], int], name: str
) -> np.ndarray:
    code = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    keys = {(int(r) << 16) | (int(g) << 8) | int(b): int(v) for (r, g, b), v in colour_map.items()}
    uniq, inverse, counts = np.unique(code.ravel(), return_inverse=True, return_counts=True)
    unknown = [(int(u), int(c)) for u, c in zip(uniq, counts, strict=True) if int(u) not in keys]
    if unknown:
        unknown.sort(key=lambda t: -t[1])
        listed = ", ".join(f"#{u:06x} ({c} px)" for u, c in unknown[:_MAX_LISTED])
        more = f", ... {len(unknown) - _MAX_LISTED} more" if len(unknown) > _MAX_LISTED else ""
        raise MaskRejected(f"{name}: {len(unknown)} colours not in the colour map: {listed}{more}")
    values = np.array([keys[int(u)] for u in uniq], dtype=np.int64)
    return values[inverse].reshape(code.shape)


def _mask_values(
    im: Image.Image,
    name: str,
    colour_map: dict[tuple[int, int, int], int] | None,
    warnings: list[str],
) -> np.ndarray:
    """Integer label values (H, W) from an opened, loaded mask image."""
    mode = im.mode
    if mode in ("L", "P"):
        return np.asarray(im).astype(np.int64)
    if mode == "1":
        return np.asarray(im).astype(np.int64)
    if mode in ("LA", "PA", "La"):
        warnings.append(f"{name}: alpha channel ignored (values read from channel 0)")
        return np.asarray(im)[..., 0].astype(np.int64)
    if mode.startswith("I;16") or mode == "I":
        return np.asarray(im).astype(np.int64)
    if mode in ("RGB", "RGBA"):
        arr = np.asarray(im)
        rgb = arr[..., :3]
        if mode == "RGBA":
            warnings.append(f"{name}: alpha channel ignored")
        if colour_map is not None:
            return _colour_lookup(rgb, colour_map, name)
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
            warnings.append(f"{name}: gray mask stored as RGB, read as grayscale")
            return rgb[..., 0].astype(np.int64)
        raise MaskRejected(
            f"{name}: colour (RGB) mask needs a colour-to-class map; "
            "or save masks as 8-bit grayscale/palette PNG with class ids as values"
        )
    raise MaskRejected(f"{name}: unsupported mask mode {mode} (use 8-bit grayscale or palette PNG)")


def read_label_mask(
    path: str | Path,
    expected_size: tuple[int, int] | None,
    num_classes: int,
    mapping: dict[int, int] | None = None,
    colour_map: dict[tuple[int, int, int], int] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Read a label mask file and turn it into project class ids.

    Parameters
    ----------
    path : str or Path
        Lossless image file (PNG, BMP, TIFF, GIF, lossless WebP).
    expected_size : tuple[int, int] or None
        (width, height) of the image the mask belongs to; None skips the check.
    num_classes : int
        Number of project classes; valid ids are ``0 .. num_classes - 1``.
    mapping : dict[int, int], optional
        File value -> class id. Values not in it become 255 (reported in the warnings).
        A mapping may send a value to 255 on purpose (no warning).
    colour_map : dict[tuple[int, int, int], int], optional
        (r, g, b) -> value, required for colour-coded RGB masks; the value then goes through
        ``mapping`` if given.

    Returns
    -------
    tuple[np.ndarray, list[str]]
        uint8 (H, W) class ids with 255 = ignore, and warnings for the import report.

    Raises
    ------
    MaskRejected
        Missing/empty/unreadable file, JPEG (lossy) mask, wrong size, RGB without a colour
        map, or colours not in the colour map.
    """
    p = Path(path)
    name = p.name
    raw = read_input_bytes(p, MaskRejected)
    warnings: list[str] = []
    try:
        im = Image.open(io.BytesIO(raw))
    except UnidentifiedImageError:
        raise MaskRejected(f"{name}: not an image") from None
    except Image.DecompressionBombError:
        raise MaskRejected(f"{name}: image too large") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MaskRejected(f"{name}: damaged image file ({exc})") from None
    with im:
        fmt = (im.format or "").upper()
        if fmt in ("JPEG", "MPO"):
            raise MaskRejected(
                f"{name}: JPEG masks are lossy (edges get wrong values); save masks as PNG"
            )
        if fmt == "WEBP" and _is_lossy_webp(raw):
            raise MaskRejected(f"{name}: lossy WebP mask; save masks as PNG")
        w, h = im.size
        if expected_size is not None and (w, h) != tuple(expected_size):
            ew, eh = expected_size
            raise MaskRejected(f"{name}: mask is {w}x{h} but the image is {ew}x{eh}")
        n_frames = int(getattr(im, "n_frames", 1))
        if n_frames > 1:
            warnings.append(f"{name}: {n_frames} frames, only the first is used")
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MaskRejected(f"{name}: damaged or truncated mask ({exc})") from None
        values = _mask_values(im, name, colour_map, warnings)
    return _to_class_ids(values, name, num_classes, mapping, warnings), warnings


def _to_class_ids(
    values: np.ndarray,
    name: str,
    num_classes: int,
    mapping: dict[int, int] | None,
    warnings: list[str],
) -> np.ndarray:
    flat = values.ravel()
    lookup: np.ndarray | None = None
    if flat.dtype.kind in "ui" and flat.size and int(flat.min()) >= 0 and int(flat.max()) < 65536:
        # Integer labels: a histogram and a lookup table, no sort (≈20x faster than np.unique).
        hist = np.bincount(flat)
        uniq = np.flatnonzero(hist)
        counts = hist[uniq]
        lookup = np.full(len(hist), IGNORE, dtype=np.uint8)
    else:
        uniq, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    out_vals = np.full(len(uniq), IGNORE, dtype=np.uint8)
    bad = np.zeros(len(uniq), dtype=bool)
    for i, v in enumerate(uniq.tolist()):
        if mapping is not None:
            if v not in mapping:
                bad[i] = True
                continue
            target = int(mapping[v])
            if target == IGNORE:
                continue
        else:
            target = v
        if 0 <= target < num_classes:
            out_vals[i] = target
        else:
            bad[i] = True
    if bad.any():
        what = (
            "values not in the mapping"
            if mapping is not None
            else (f"values outside 0..{num_classes - 1}")
        )
        warnings.append(
            f"{name}: {int(counts[bad].sum())} px with {what} set to ignore (255): "
            + _hist_text(uniq[bad], counts[bad])
        )
    if lookup is not None:
        lookup[uniq] = out_vals
        return lookup[flat].reshape(values.shape)
    return out_vals[inverse].reshape(values.shape)


def load_mapping_json(path: str | Path) -> tuple[list[str], dict[int, int]]:
    """Read a value -> class mapping file such as ``ccp5.json``.

    The file is ``{"classes": ["background", ...], "map": {"41": 1, ...}}``; ``map`` keys are
    the values found in the mask files, its values index ``classes`` (or 255 = ignore).

    Returns
    -------
    tuple[list[str], dict[int, int]]
        Class names and the mapping.

    Raises
    ------
    MaskRejected
        Unreadable JSON or a malformed mapping, with the reason.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MaskRejected(f"{p.name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MaskRejected(f"{p.name}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise MaskRejected(
            f"{p.name}: not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("classes"), list)
        or not isinstance(data.get("map"), dict)
    ):
        raise MaskRejected(f'{p.name}: expected {{"classes": [...], "map": {{value: class}}}}')
    classes = data["classes"]
    if not classes or not all(isinstance(c, str) and c.strip() for c in classes):
        raise MaskRejected(f"{p.name}: 'classes' must be a non-empty list of names")
    mapping: dict[int, int] = {}
    for key, val in data["map"].items():
        try:
            k = int(key)
        except (TypeError, ValueError):
            raise MaskRejected(f"{p.name}: map key {key!r} is not an integer") from None
        if (
            isinstance(val, bool)
            or not isinstance(val, int)
            or not (0 <= val < len(classes) or val == IGNORE)
        ):
            raise MaskRejected(
                f"{p.name}: map[{key!r}] = {val!r} is not a class index 0..{len(classes) - 1} or 255"
            )
        mapping[k] = val
    return [c.strip() for c in classes], mapping


def read_stored_mask(path: str | Path, shape: tuple[int, int], name: str) -> np.ndarray:
    """Read a project mask (``masks/<id>.png``) of the given ``(height, width)``.

    Parameters
    ----------
    path : str or Path
        The mask file (must exist).
    shape : tuple[int, int]
        ``(height, width)`` of the image it belongs to.
    name : str
        The image's name, for messages.

    Returns
    -------
    np.ndarray
        uint8 (H, W) class ids.

    Raises
    ------
    MaskRejected
        Not an image, damaged or truncated, a decompression bomb, not single-channel, or a size
        other than ``shape`` (checked from the header, before the pixels are decoded).
    """
    h, w = shape
    try:
        im = Image.open(path)
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError:
        raise MaskRejected(
            f"mask of {name}: the file claims a huge image size (decompression bomb), not read"
        ) from None
    except UnidentifiedImageError:
        raise MaskRejected(f"mask of {name}: the mask file is not an image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MaskRejected(f"mask of {name}: damaged mask file ({exc})") from None
    with im:
        if im.size != (w, h):
            raise MaskRejected(f"mask of {name} is {im.size[0]}x{im.size[1]}, expected {w}x{h}")
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MaskRejected(f"mask of {name}: damaged or truncated mask file ({exc})") from None
        mask = np.asarray(im)
    if mask.ndim != 2:
        raise MaskRejected(f"mask of {name} has shape {mask.shape}, expected {(h, w)}")
    if mask.dtype != np.uint8:
        if mask.dtype.kind not in "uib" or (mask.size and (mask.min() < 0 or mask.max() > 255)):
            raise MaskRejected(f"mask of {name} holds values that are not 8-bit class ids")
    return mask.astype(np.uint8, copy=False)


# Names that lived in this module before the formats were split; they stay importable from
# here (loaded on first use, so that importing this module stays light and cycle-free).
_MOVED = {
    "MaskImportReport": "fashionseg_gui.core.mask_import",
    "import_mask_folder": "fashionseg_gui.core.mask_import",
    "mask_to_polygons": "fashionseg_gui.core.coco",
    "coco_to_masks": "fashionseg_gui.core.coco",
    "safe_stem": "fashionseg_gui.core.export.common",
    "export_name": "fashionseg_gui.core.export.common",
    "colourise": "fashionseg_gui.core.export.common",
    "export_label_pngs": "fashionseg_gui.core.export.label_png",
    "export_colour_pngs": "fashionseg_gui.core.export.colour_png",
    "overlay": "fashionseg_gui.core.export.overlay",
    "export_overlays": "fashionseg_gui.core.export.overlay",
    "export_coco": "fashionseg_gui.core.export.coco",
    "ProgressFn": "fashionseg_gui.core.export.common",
}


def __getattr__(name: str) -> object:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
