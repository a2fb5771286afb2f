"""Label masks in and out: read label PNGs, import a folder of them, export PNG / overlay / COCO.

A label mask is a uint8 (H, W) array: value = class id (0 = background, 1..N user classes),
255 (:data:`IGNORE`) = not labelled. Nothing here imports Qt; OpenCV is imported inside the
functions that need it.

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

COCO polygons and holes
-----------------------
COCO polygons have no holes. :func:`mask_to_polygons` traces each connected component with
``cv2.findContours(RETR_CCOMP)`` and joins every hole ring to the outer ring with a zero-width
bridge (the bridge goes from the hole to the nearest point of the polygon built so far and
comes back along the same segment). Filling the result with ``cv2.fillPoly`` (as
:func:`coco_to_masks` does) gives the component back, holes included; only the pixels on a
bridge segment are added. Coordinates are OpenCV pixel-centre coordinates (x, y).

Export file names
-----------------
``<original stem>__<image id>.<ext>``: the stem is NFC-normalised, characters other than
letters, digits, ``-``, ``_`` and ``.`` become ``_``, it is shortened to 60 characters, and the
image id makes every name unique (two photos both named ``photo.jpg`` never collide).
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from fashionseg_gui.core.atomic import atomic_save_png, atomic_write_bytes, atomic_write_json
from fashionseg_gui.core.images import read_input_bytes

if TYPE_CHECKING:
    from fashionseg_gui.core.project import ClassInfo, Project

IGNORE = 255
MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".jpg", ".jpeg")
"""File types :func:`import_mask_folder` looks at (JPEG only to refuse it with a reason)."""
_STEM_TAGS = ("_mask", "-mask", ".mask", "_label", "-label", "_labels", "_gt", "_seg")
_MAX_LISTED = 8

ProgressFn = Callable[[int, int, str], None]


class MaskRejected(Exception):
    """A mask (or mapping / COCO) file that cannot be used; ``str(exc)`` names the file."""


# --------------------------------------------------------------------------- reading


def _hist_text(values: np.ndarray, counts: np.ndarray) -> str:
    order = np.argsort(-counts, kind="stable")
    parts = [f"{int(values[i])}: {int(counts[i])} px" for i in order[:_MAX_LISTED]]
    if len(order) > _MAX_LISTED:
        parts.append(f"... {len(order) - _MAX_LISTED} more")
    return ", ".join(parts)


def _is_lossy_webp(raw: bytes) -> bool:
    return raw[:4] == b"RIFF" and raw[8:12] == b"WEBP" and b"VP8L" not in raw[12:4096]


def _colour_lookup(rgb: np.ndarray, colour_map: dict[tuple[int, int, int], int],
                   name: str) -> np.ndarray:
    code = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    keys = {(int(r) << 16) | (int(g) << 8) | int(b): int(v)
            for (r, g, b), v in colour_map.items()}
    uniq, inverse, counts = np.unique(code.ravel(), return_inverse=True, return_counts=True)
    unknown = [(int(u), int(c)) for u, c in zip(uniq, counts, strict=True) if int(u) not in keys]
    if unknown:
        unknown.sort(key=lambda t: -t[1])
        listed = ", ".join(f"#{u:06x} ({c} px)" for u, c in unknown[:_MAX_LISTED])
        more = f", ... {len(unknown) - _MAX_LISTED} more" if len(unknown) > _MAX_LISTED else ""
        raise MaskRejected(f"{name}: {len(unknown)} colours not in the colour map: {listed}{more}")
    values = np.array([keys[int(u)] for u in uniq], dtype=np.int64)
    return values[inverse].reshape(code.shape)


def _mask_values(im: Image.Image, name: str, colour_map: dict[tuple[int, int, int], int] | None,
                 warnings: list[str]) -> np.ndarray:
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
        if getattr(im, "n_frames", 1) > 1:
            warnings.append(f"{name}: {im.n_frames} frames, only the first is used")
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MaskRejected(f"{name}: damaged or truncated mask ({exc})") from None
        values = _mask_values(im, name, colour_map, warnings)
    return _to_class_ids(values, name, num_classes, mapping, warnings), warnings


def _to_class_ids(values: np.ndarray, name: str, num_classes: int,
                  mapping: dict[int, int] | None, warnings: list[str]) -> np.ndarray:
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
        what = "values not in the mapping" if mapping is not None else (
            f"values outside 0..{num_classes - 1}")
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
        raise MaskRejected(f"{p.name}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list) \
            or not isinstance(data.get("map"), dict):
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
        if isinstance(val, bool) or not isinstance(val, int) or not (
                0 <= val < len(classes) or val == IGNORE):
            raise MaskRejected(
                f"{p.name}: map[{key!r}] = {val!r} is not a class index 0..{len(classes) - 1} or 255"
            )
        mapping[k] = val
    return [c.strip() for c in classes], mapping


# --------------------------------------------------------------------------- folder import


@dataclass
class MaskImportReport:
    """What :func:`import_mask_folder` did, for the import dialog or the CLI.

    Attributes
    ----------
    imported : list[tuple[str, Path]]
        (image id, mask file) stored.
    unmatched : list[tuple[Path, str]]
        Mask files not matched to a project image, with the reason.
    refused : list[tuple[Path, str]]
        Matched mask files that could not be used, with the reason.
    skipped : list[tuple[Path, str]]
        Matched files left alone (e.g. the image already has a mask and overwrite is off).
    warnings : list[str]
        Per-file warnings (unexpected values, ignored alpha, ...).
    classes_added : list[str]
        Class names added to the project for the mapping.
    cancelled : bool
        True if the job stopped early on request.
    """

    imported: list[tuple[str, Path]] = field(default_factory=list)
    unmatched: list[tuple[Path, str]] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        """One line: counts of each outcome."""
        return (f"{len(self.imported)} masks imported, {len(self.refused)} refused, "
                f"{len(self.unmatched)} unmatched, {len(self.skipped)} skipped, "
                f"{len(self.warnings)} warnings")

    def lines(self, limit: int = 50) -> list[str]:
        """The summary, then each problem with its reason (at most ``limit`` of each kind)."""
        out = [self.summary()]
        if self.classes_added:
            out.append("classes added: " + ", ".join(self.classes_added))
        for label, items in (("refused", self.refused), ("unmatched", self.unmatched),
                             ("skipped", self.skipped)):
            out += [f"{label}: {Path(p).name}: {why}" for p, why in items[:limit]]
            if len(items) > limit:
                out.append(f"... and {len(items) - limit} more {label}")
        out += [f"warning: {w}" for w in self.warnings[:limit]]
        if self.cancelled:
            out.append("cancelled before the end")
        return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _match_keys(stem: str) -> list[str]:
    keys = [_norm(stem)]
    low = keys[0].casefold()
    for tag in _STEM_TAGS:
        if low.endswith(tag) and len(low) > len(tag):
            keys.append(keys[0][: -len(tag)])
    return keys


def import_mask_folder(
    project: Project,
    folder: str | Path,
    mapping: dict[int, int] | None = None,
    class_names: list[str] | None = None,
    status: str = "labelled",
    *,
    colour_map: dict[tuple[int, int, int], int] | None = None,
    overwrite: bool = True,
    on_progress: ProgressFn | None = None,
    cancel_token: Any = None,
) -> MaskImportReport:
    """Import a folder of label masks into a project, one mask per project image.

    A mask file matches an image by the stem of the image's original file name (NFC, then
    case-insensitive; a trailing ``_mask``/``_label``/``_gt`` is allowed), or by an exported
    name ``<stem>__<image id>``. A stem shared by two project images is ambiguous and is
    refused rather than attached to the wrong one.

    Parameters
    ----------
    project : Project
        Open, writable project.
    folder : str or Path
        Folder holding the mask files (not searched recursively).
    mapping : dict[int, int], optional
        File value -> class index. With ``class_names`` the index refers to ``class_names``
        (translated to project classes by name; missing classes are added to the project),
        otherwise directly to project class ids.
    class_names : list[str], optional
        Names for the mapping's class indices (as read by :func:`load_mapping_json`).
    status : str
        Status given to every image that receives a mask.
    colour_map : dict, optional
        (r, g, b) -> value for colour-coded masks (see :func:`read_label_mask`).
    overwrite : bool
        Replace masks that exist already (default) or skip those images.
    on_progress : callable, optional
        ``on_progress(done, total, file_name)`` after each file.
    cancel_token : object, optional
        Anything with a ``cancelled`` attribute; checked before each file.

    Returns
    -------
    MaskImportReport

    Raises
    ------
    MaskRejected
        If ``folder`` is not a folder, or the mapping refers to a class index that
        ``class_names`` does not have.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MaskRejected(f"{folder}: not a folder")
    report = MaskImportReport()

    # Translate mapping targets (class_names indices) to project class ids.
    if class_names is not None:
        name_to_id: dict[int, int] = {}
        for idx, cname in enumerate(class_names):
            info = project.class_by_name(cname)
            if info is None:
                info = project.add_class(cname)
                report.classes_added.append(cname)
            name_to_id[idx] = info.id
        if mapping is None:
            mapping = {i: i for i in range(len(class_names))}
        composed: dict[int, int] | None = {}
        for value, idx in mapping.items():
            if idx == IGNORE:
                composed[int(value)] = IGNORE
            elif idx in name_to_id:
                composed[int(value)] = name_to_id[idx]
            else:
                raise MaskRejected(f"mapping sends value {value} to class index {idx}, "
                                   f"but only {len(class_names)} class names are given")
    else:
        composed = dict(mapping) if mapping is not None else None
    num_classes = len(project.classes)

    # Index project images by original stem and by id.
    by_stem: dict[str, list[str]] = {}
    by_stem_fold: dict[str, list[str]] = {}
    for image_id, rec in project.images.items():
        stem = _norm(Path(rec.original_name or rec.file).stem)
        by_stem.setdefault(stem, []).append(image_id)
        by_stem_fold.setdefault(stem.casefold(), []).append(image_id)

    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in MASK_SUFFIXES
                   and not p.name.startswith("."))
    used: dict[str, str] = {}  # image id -> mask file used in this run
    with project.batch():  # one save of project.json for the whole folder
        _import_mask_files(project, files, composed, colour_map, num_classes, status, overwrite,
                           by_stem, by_stem_fold, used, report, on_progress, cancel_token)
    return report


def _import_mask_files(project: Project, files: list[Path], composed: dict[int, int] | None,
                       colour_map: dict[tuple[int, int, int], int] | None, num_classes: int,
                       status: str, overwrite: bool, by_stem: dict[str, list[str]],
                       by_stem_fold: dict[str, list[str]], used: dict[str, str],
                       report: MaskImportReport, on_progress: ProgressFn | None,
                       cancel_token: Any) -> None:
    for n, path in enumerate(files, 1):
        if cancel_token is not None and getattr(cancel_token, "cancelled", False):
            report.cancelled = True
            break
        image_id, reason = _match(path.stem, project, by_stem, by_stem_fold)
        if image_id is None:
            report.unmatched.append((path, reason))
        elif image_id in used:
            report.skipped.append((path, f"{used[image_id]} was already imported for this image"))
        elif not overwrite and project.has_mask(image_id):
            report.skipped.append((path, "the image has a mask already"))
        else:
            rec = project.images[image_id]
            try:
                mask, warns = read_label_mask(path, (rec.width, rec.height), num_classes,
                                              mapping=composed, colour_map=colour_map)
            except MaskRejected as exc:
                report.refused.append((path, str(exc)))
            else:
                project.write_mask(image_id, mask, status=status)
                report.imported.append((image_id, path))
                used[image_id] = path.name
                report.warnings.extend(warns)
        if on_progress is not None:
            on_progress(n, len(files), path.name)


def _match(stem: str, project: Project, by_stem: dict[str, list[str]],
           by_stem_fold: dict[str, list[str]]) -> tuple[str | None, str]:
    if "__" in stem:  # our own export name: <stem>__<id>
        candidate = stem.rsplit("__", 1)[1]
        for tag in _STEM_TAGS:  # tolerate a tag added after the id
            if candidate.casefold().endswith(tag):
                candidate = candidate[: -len(tag)]
        if candidate in project.images:
            return candidate, ""
    for key in _match_keys(stem):
        for index, k in ((by_stem, key), (by_stem_fold, key.casefold())):
            ids = index.get(k, [])
            if len(ids) == 1:
                return ids[0], ""
            if len(ids) > 1:
                return None, (f"ambiguous: {len(ids)} project images are named {key}.*; "
                              "rename the mask <stem>__<image id>")
    return None, "no project image with this name"


# --------------------------------------------------------------------------- export


def safe_stem(name: str, max_len: int = 60) -> str:
    """A file-name stem safe on Windows, macOS and Linux, from an original file name.

    Parameters
    ----------
    name : str
        Original file name (with or without extension).
    max_len : int
        Longest stem returned.

    Returns
    -------
    str
        Letters (any script), digits, ``-``, ``_`` and ``.`` only; never empty.
    """
    stem = _norm(Path(name).stem if "." in name else name)
    out = "".join(ch if (ch.isalnum() or ch in "-_.") else "_" for ch in stem)
    out = re.sub(r"_+", "_", out).strip("._ ")[:max_len].rstrip("._ ")
    return out or "image"


def export_name(project: Project, image_id: str, ext: str) -> str:
    """``<original stem>__<image id><ext>``, unique per image and safe on every OS."""
    rec = project.images[image_id]
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", image_id)
    return f"{safe_stem(rec.original_name or rec.file)}__{safe_id}{ext}"


def _export_ids(project: Project, ids: Iterable[str] | None) -> list[str]:
    if ids is None:
        return [i for i in project.images if project.has_mask(i)]
    out = []
    for i in ids:
        if i not in project.images:
            raise MaskRejected(f"no image with id {i!r} in the project")
        if project.has_mask(i):
            out.append(i)
    return out


def colourise(mask: np.ndarray, classes: Sequence[ClassInfo]) -> np.ndarray:
    """Colour a label mask with the class colours.

    Parameters
    ----------
    mask : np.ndarray
        uint8 (H, W) class ids.
    classes : sequence of ClassInfo
        Project classes (``id`` and ``color`` ``#rrggbb``).

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3); 255 (ignore) and ids without a class are black.
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    for c in classes:
        if 0 <= c.id < IGNORE:
            h = c.color.lstrip("#")
            lut[c.id] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    return lut[np.asarray(mask, dtype=np.uint8)]


def _write_classes_file(project: Project, out_dir: Path) -> None:
    """``classes.json`` in :func:`load_mapping_json` format, so the export can be re-imported."""
    atomic_write_json(out_dir / "classes.json", {
        "classes": [c.name for c in project.classes],
        "colors": [c.color for c in project.classes],
        "map": {str(c.id): c.id for c in project.classes},
        "ignore": IGNORE,
    })


def _run_export(project: Project, out_dir: str | Path, ids: Iterable[str] | None, ext: str,
                write: Callable[[str, Path], None], on_progress: ProgressFn | None,
                cancel_token: Any) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    todo = _export_ids(project, ids)
    written: list[Path] = []
    for n, image_id in enumerate(todo, 1):
        if cancel_token is not None and getattr(cancel_token, "cancelled", False):
            break
        dest = out / export_name(project, image_id, ext)
        write(image_id, dest)
        written.append(dest)
        if on_progress is not None:
            on_progress(n, len(todo), dest.name)
    return written


def export_label_pngs(project: Project, out_dir: str | Path, ids: Iterable[str] | None = None,
                      *, on_progress: ProgressFn | None = None,
                      cancel_token: Any = None) -> list[Path]:
    """Write each mask as an 8-bit label PNG (value = class id, 255 = not labelled).

    Also writes ``classes.json`` (names, colours and an identity map, the format of
    :func:`load_mapping_json`) so the folder can be imported again.

    Parameters
    ----------
    project : Project
    out_dir : str or Path
        Created if needed.
    ids : iterable of str, optional
        Images to export; default every image that has a mask. Images without a mask are
        skipped.

    Returns
    -------
    list[Path]
        The PNG files written, in project order.
    """
    def write(image_id: str, dest: Path) -> None:
        atomic_save_png(dest, project.read_mask(image_id))

    written = _run_export(project, out_dir, ids, ".png", write, on_progress, cancel_token)
    _write_classes_file(project, Path(out_dir))
    return written


def export_colour_pngs(project: Project, out_dir: str | Path, ids: Iterable[str] | None = None,
                       *, on_progress: ProgressFn | None = None,
                       cancel_token: Any = None) -> list[Path]:
    """Write each mask as an RGB PNG in the class colours (see :func:`colourise`).

    Returns
    -------
    list[Path]
        The PNG files written.
    """
    def write(image_id: str, dest: Path) -> None:
        atomic_save_png(dest, colourise(project.read_mask(image_id), project.classes))

    return _run_export(project, out_dir, ids, ".png", write, on_progress, cancel_token)


def overlay(image: np.ndarray, mask: np.ndarray, classes: Sequence[ClassInfo],
            alpha: float = 0.5) -> np.ndarray:
    """Blend class colours over a photo; background (0) and ignore (255) stay untouched.

    Parameters
    ----------
    image : np.ndarray
        uint8 (H, W, 3) RGB.
    mask : np.ndarray
        uint8 (H, W) class ids.
    classes : sequence of ClassInfo
    alpha : float
        Opacity of the class colour, 0..1.

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within 0..1, got {alpha}")
    if image.shape[:2] != mask.shape:
        raise ValueError(f"image {image.shape[:2]} and mask {mask.shape} differ in size")
    colour = colourise(mask, classes).astype(np.float32)
    out = image.astype(np.float32)
    sel = (mask != 0) & (mask != IGNORE)
    out[sel] = (1.0 - alpha) * out[sel] + alpha * colour[sel]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def export_overlays(project: Project, out_dir: str | Path, ids: Iterable[str] | None = None,
                    alpha: float = 0.5, *, quality: int = 90,
                    on_progress: ProgressFn | None = None,
                    cancel_token: Any = None) -> list[Path]:
    """Write JPEG previews: the photo with the class colours blended in (see :func:`overlay`).

    Returns
    -------
    list[Path]
        The JPEG files written.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within 0..1, got {alpha}")

    def write(image_id: str, dest: Path) -> None:
        blended = overlay(project.read_image(image_id), project.read_mask(image_id),
                          project.classes, alpha)
        buf = io.BytesIO()
        Image.fromarray(blended, "RGB").save(buf, format="JPEG", quality=quality)
        atomic_write_bytes(dest, buf.getvalue())

    return _run_export(project, out_dir, ids, ".jpg", write, on_progress, cancel_token)


# --------------------------------------------------------------------------- COCO


def _nearest_pair(ring: np.ndarray, poly: np.ndarray) -> tuple[int, int]:
    """Indices (i in ring, j in poly) of the closest pair of points."""
    best = (np.inf, 0, 0)
    polyf = poly.astype(np.float64)
    step = max(1, 2_000_000 // max(len(poly), 1))
    for start in range(0, len(ring), step):
        chunk = ring[start:start + step].astype(np.float64)
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


def export_coco(project: Project, out_path: str | Path, ids: Iterable[str] | None = None,
                *, on_progress: ProgressFn | None = None, cancel_token: Any = None) -> dict:
    """Export masks as a COCO instance-segmentation JSON (polygons).

    ``categories`` are classes 1..N (background is not a category; 255 pixels are left out).
    Every connected component (8-connectivity) of a class is one annotation with
    ``segmentation`` (one polygon, holes bridged), ``bbox`` ``[x, y, w, h]`` in pixels,
    ``area`` (its pixel count) and ``iscrowd`` 0. Images carry ``file_name`` (the project copy,
    relative to the project's ``images/`` folder), ``original_name`` and ``fashionseg_id``.

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

    todo = _export_ids(project, ids)
    coco: dict[str, Any] = {
        "info": {"description": f"FashionSeg Studio export of {project.root.name}",
                 "version": "1.0"},
        "licenses": [],
        "images": [],
        "categories": [{"id": c.id, "name": c.name, "supercategory": "", "color": c.color}
                       for c in project.classes if 0 < c.id < IGNORE],
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
        coco["images"].append({"id": coco_image_id, "file_name": rec.file,
                               "width": rec.width, "height": rec.height,
                               "original_name": rec.original_name,
                               "fashionseg_id": image_id})
        for cid in class_ids:
            binary = (mask == cid).astype(np.uint8)
            if not binary.any():
                continue
            count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
            for comp in range(1, count):
                x, y, w, h, area = (int(v) for v in stats[comp])
                crop = labels[y:y + h, x:x + w] == comp
                polys = mask_to_polygons(np.pad(crop, 1))
                shifted = []
                for poly in polys:
                    arr = np.asarray(poly).reshape(-1, 2) + (x - 1, y - 1)
                    shifted.append([float(v) for v in arr.ravel()])
                if not shifted:
                    continue
                coco["annotations"].append({
                    "id": ann_id, "image_id": coco_image_id, "category_id": cid,
                    "segmentation": shifted, "area": float(area),
                    "bbox": [float(x), float(y), float(w), float(h)], "iscrowd": 0,
                })
                ann_id += 1
        if on_progress is not None:
            on_progress(n, len(todo), rec.original_name)
    atomic_write_json(out_path, coco)
    return coco


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
            flat[pos:pos + c] = True
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
