"""Decode photos for import: sniff the real format, refuse broken files, make one upright RGB copy.

Every image that enters a project goes through :func:`decode_for_import`; every image read back
from a project goes through :func:`load_rgb` (same conversion rules), and thumbnails through
:func:`make_thumbnail`. Nothing here imports Qt or OpenCV (files are opened by path or bytes with
Pillow, so Unicode names and names such as ``image (1).jpg`` work on every OS).

Conversion rules (one place, used for the UI, training and export alike)
-----------------------------------------------------------------------
* The format is taken from the file content, never from the extension.
* EXIF orientation is applied exactly once (``ImageOps.exif_transpose``); the upright copy is the
  source of truth and the original orientation is recorded.
* CMYK is converted to RGB (through its ICC profile when it has one and LittleCMS is available).
* Palette images are expanded (``P`` -> ``RGB``, or ``RGBA`` when they carry transparency).
* Alpha (``RGBA``, ``LA``, ``PA``, palette transparency) is **composited on white**: a fully
  transparent pixel becomes white whatever colour is stored under it.
* 16-bit (and 32-bit integer) grayscale is scaled by its real bit depth: the smallest ``b`` with
  ``max < 2**b`` (at least 8) and a right shift by ``b - 8``; e.g. 12-bit data (max 4095) is
  shifted by 4, so nothing is clipped. Floating-point images are scaled min..max to 0..255.
* 48/64-bit RGB(A) is reduced to 8 bits per channel by Pillow; a warning notes the precision loss.
* Animated files: frame 0 is used, with a warning.

Limits
------
``MAX_PIXELS``  largest accepted image (width * height), checked from the header *before* the
                pixels are decoded (Pillow's own decompression-bomb limit is caught too).
``MIN_SIDE``    smallest accepted width or height, in pixels (a U-Net needs room to downsample).
``MAX_ASPECT``  largest accepted ratio of the long side to the short side.
``MAX_DEEP_PIXELS``  largest accepted image with more than 8 bits per sample (16/32-bit integer
                or floating-point gray, e.g. scientific TIFFs): scaling those to 8 bits
                needs several bytes per pixel, so an 80-megapixel float TIFF (0.6 MB when
                compressed) would need gigabytes; checked from the header too.
``MAX_INPUT_BYTES``  largest file read for import; the size is checked before reading, and
                the first bytes are sniffed (text, HEIF) before the rest is read.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 80_000_000
"""Largest accepted image, in pixels (width * height)."""
MIN_SIDE = 16
"""Smallest accepted width or height, in pixels."""
MAX_ASPECT = 20
"""Largest accepted ratio long side / short side."""
MAX_DEEP_PIXELS = 24_000_000
"""Largest accepted image (pixels) whose samples have more than 8 bits."""
MAX_INPUT_BYTES = 512 << 20
"""Largest input file read for import, in bytes."""
_DEEP_MODES = ("F", "I", "I;16", "I;16B", "I;16L", "I;16N", "I;32", "I;32B", "I;32L")

# Real format (Pillow's name) -> extension used for the stored copy.
FORMAT_EXT: dict[str, str] = {
    "JPEG": ".jpg",
    "MPO": ".jpg",  # camera/phone JPEG with extra pictures (Multi-Picture Object)
    "PNG": ".png",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
    "GIF": ".gif",
    "AVIF": ".avif",
}
# Formats whose original bytes can be the project copy (if 8-bit RGB/L, upright, opaque, 1 frame).
_STORE_AS_IS = {"JPEG", "MPO", "PNG", "WEBP", "BMP"}
_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
    b"heif",
}
_AVIF_BRANDS = {b"avif", b"avis"}
_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRejected(Exception):
    """An image file that cannot be imported; ``str(exc)`` names the file and the reason."""


@dataclass
class DecodedImage:
    """The result of :func:`decode_for_import`.

    Attributes
    ----------
    image : PIL.Image.Image
        RGB, upright (EXIF orientation applied once), frame 0, no metadata attached.
    format : str
        Real format sniffed from the content ("JPEG", "PNG", "WEBP", ...).
    ext : str
        Extension matching the real format (".jpg", ".png", ".webp", ...).
    raw : bytes
        The original file bytes.
    sha256 : str
        Hex SHA-256 of ``raw``.
    original_size : tuple[int, int]
        (width, height) as stored in the file, before orientation.
    orientation : int
        EXIF orientation of the original (1 if none).
    store_original : bool
        True when ``raw`` can be stored unchanged as the project copy (8-bit RGB/L
        JPEG/PNG/WEBP/BMP, orientation 1, no alpha, one frame); otherwise the project stores
        ``image`` as PNG (see :meth:`project_copy`).
    warnings : list[str]
        What was changed on the way, for the import report.
    """

    image: Image.Image
    format: str
    ext: str
    raw: bytes
    sha256: str
    original_size: tuple[int, int]
    orientation: int
    store_original: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """Upright (width, height)."""
        return self.image.size

    def project_copy(self) -> tuple[bytes, str]:
        """Return the bytes to store in the project and their extension.

        Returns
        -------
        tuple[bytes, str]
            ``(raw, ext)`` when :attr:`store_original`, else the upright RGB copy encoded
            as PNG and ``".png"``.
        """
        if self.store_original:
            return self.raw, self.ext
        buf = io.BytesIO()
        self.image.save(buf, format="PNG", compress_level=6)
        return buf.getvalue(), ".png"


# --------------------------------------------------------------------------- sniffing


def _looks_like_text(head: bytes) -> bool:
    """True for HTML, XML, JSON or plain text (what a browser saves instead of a picture)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"<":
        return True
    if not stripped or b"\x00" in stripped:
        return False
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        # Cut in the middle of a multi-byte character at the end of the sample.
        try:
            text = stripped[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def _is_heif(head: bytes) -> bool:
    """True for an ISO-BMFF ``ftyp`` HEIC/HEIF file (AVIF, which Pillow reads, is excluded)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    major = head[8:12]
    if major in _AVIF_BRANDS:
        return False
    (box_len,) = struct.unpack(">I", head[:4])
    box_len = min(max(box_len, 16), len(head))
    brands = {major} | {head[i : i + 4] for i in range(16, box_len - 3, 4)}
    return bool(brands & _HEIF_BRANDS) and not (brands & _AVIF_BRANDS and major not in _HEIF_BRANDS)


def _png_header(raw: bytes) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) from a PNG IHDR, or None."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR" and len(raw) >= 26:
        w, h, depth, ctype = struct.unpack(">IIBB", raw[16:26])
        return w, h, depth, ctype
    return None


def _size_text(raw: bytes, exc: Exception) -> str:
    hdr = _png_header(raw)
    if hdr is not None:
        return f"{hdr[0]}x{hdr[1]} ({hdr[0] * hdr[1] / 1e6:.0f} MP)"
    m = re.search(r"\((\d+) pixels\)", str(exc))
    if m:
        return f"{int(m.group(1)) / 1e6:.0f} MP"
    return "unknown size"


# --------------------------------------------------------------------------- decoding


def _open(raw: bytes, name: str) -> Image.Image:
    """Open from bytes (header only); turn every Pillow failure into ImageRejected."""
    try:
        return Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise ImageRejected(
            f"{name}: image too large, {_size_text(raw, exc)} "
            f"(limit {MAX_PIXELS / 1e6:.0f} MP); possible decompression bomb"
        ) from None
    except UnidentifiedImageError:
        head = raw[:512]
        if _is_heif(head):
            raise ImageRejected(
                f"{name}: HEIC/HEIF is not supported - export the photo as JPEG"
            ) from None
        if _looks_like_text(head):
            raise ImageRejected(f"{name}: not an image (looks like HTML/text)") from None
        raise ImageRejected(f"{name}: not an image, or a format that cannot be read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageRejected(f"{name}: damaged image file ({exc})") from None


def _check_size(w: int, h: int, name: str, *, shape_rules: bool) -> None:
    if w * h > MAX_PIXELS:
        raise ImageRejected(
            f"{name}: image too large, {w}x{h} ({w * h / 1e6:.0f} MP; limit {MAX_PIXELS / 1e6:.0f} MP)"
        )
    if not shape_rules:
        return
    if w <= 0 or h <= 0:
        raise ImageRejected(f"{name}: image has no pixels ({w}x{h})")
    if max(w, h) / min(w, h) > MAX_ASPECT:
        raise ImageRejected(
            f"{name}: extreme aspect ratio {w}x{h} (more than {MAX_ASPECT}:1), cannot be segmented"
        )
    if min(w, h) < MIN_SIDE:
        raise ImageRejected(f"{name}: image too small, {w}x{h} (minimum side {MIN_SIDE} px)")


def _orientation(im: Image.Image, warnings: list[str]) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # malformed EXIF blocks raise many different errors in Pillow
        warnings.append("EXIF data unreadable, orientation ignored")
        return 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = 0
    if value not in range(1, 9):
        warnings.append(f"invalid EXIF orientation {value!r} ignored")
        return 1
    return value


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation once (``ImageOps.exif_transpose``; by the table if that fails)."""
    if orientation == 1:
        return im
    expected = im.size[::-1] if orientation >= 5 else im.size
    try:
        out = ImageOps.exif_transpose(im)
    except Exception:  # broken EXIF that Pillow cannot rewrite: rotate the pixels ourselves
        out = None
    if out is None or out.size != expected:
        out = im.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
    return out


def _composite_on_white(rgba: Image.Image) -> Image.Image:
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _has_transparency(rgba: Image.Image) -> bool:
    # One band: (min, max) as ints, not the per-band tuples of a multi-band image.
    lo, _hi = cast("tuple[int, int]", rgba.getchannel("A").getextrema())
    return lo < 255


def _scale_integer_gray(im: Image.Image, warnings: list[str]) -> Image.Image:
    arr = np.asarray(im).astype(np.int64)
    bits_label = "16-bit" if im.mode.startswith("I;16") else "32-bit"
    if arr.size and arr.min() < 0:
        warnings.append(f"{bits_label} image has negative values, set to 0")
        arr = np.clip(arr, 0, None)
    mx = int(arr.max()) if arr.size else 0
    shift = max(8, mx.bit_length()) - 8
    out = (arr >> shift).astype(np.uint8)
    warnings.append(f"{bits_label} scaled to 8-bit (max {mx})")
    return Image.fromarray(out, "L").convert("RGB")


def _scale_float_gray(im: Image.Image, warnings: list[str]) -> Image.Image:
    arr = np.asarray(im)  # float32, as Pillow stores mode F; scaled in bands of rows
    lo, hi = np.inf, -np.inf
    rows = max(1, (4 << 20) // max(1, arr.shape[1]))
    for r in range(0, arr.shape[0], rows):
        band = arr[r : r + rows]
        finite = band[np.isfinite(band)]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if not np.isfinite(lo):
        lo = hi = 0.0
    out = np.zeros(arr.shape, np.uint8)
    if hi > lo:
        for r in range(0, arr.shape[0], rows):
            band = (arr[r : r + rows].astype(np.float64) - lo) * (255.0 / (hi - lo))
            band[~np.isfinite(band)] = 0
            out[r : r + rows] = np.clip(np.rint(band), 0, 255).astype(np.uint8)
    warnings.append(f"floating-point image scaled to 8-bit (range {lo:g}..{hi:g})")
    return Image.fromarray(out, "L").convert("RGB")


def _cmyk_to_rgb(im: Image.Image, warnings: list[str]) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if out is not None:
                warnings.append("CMYK converted to RGB (with its ICC profile)")
                return out
        except Exception:  # no LittleCMS, or a broken profile: fall back to the plain formula
            pass
    warnings.append("CMYK converted to RGB")
    return im.convert("RGB")


def _to_rgb(im: Image.Image, warnings: list[str]) -> tuple[Image.Image, bool]:
    """Convert a loaded frame to RGB following the module rules; return (rgb, had_alpha)."""
    mode = im.mode
    if mode == "RGB":
        return im, False
    if mode in ("L", "1"):
        return im.convert("L").convert("RGB") if mode == "1" else im.convert("RGB"), False
    if mode == "P" or mode == "PA":
        if mode == "PA" or "transparency" in im.info:
            rgba = im.convert("RGBA")
            if _has_transparency(rgba):
                warnings.append("transparency composited on white")
            return _composite_on_white(rgba), True
        return im.convert("RGB"), False
    if mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        if _has_transparency(rgba):
            warnings.append("alpha composited on white")
        return _composite_on_white(rgba), True
    if mode == "CMYK":
        return _cmyk_to_rgb(im, warnings), False
    if mode.startswith("I;16") or mode == "I":
        return _scale_integer_gray(im, warnings), False
    if mode == "F":
        return _scale_float_gray(im, warnings), False
    try:
        out = im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageRejected(f"unsupported colour mode {mode} ({exc})") from None
    warnings.append(f"{mode} converted to RGB")
    return out, False


def _decode(
    raw: bytes, name: str, *, shape_rules: bool, draft_box: tuple[int, int] | None = None
) -> tuple[Image.Image, dict]:
    """Shared pipeline: open, check size, frame 0, load, orient, convert to RGB.

    Returns the upright RGB image and facts used by :func:`decode_for_import`.
    """
    warnings: list[str] = []
    im = _open(raw, name)
    with im:
        fmt = (im.format or "").upper()
        w, h = im.size
        _check_size(w, h, name, shape_rules=shape_rules)
        if im.mode in _DEEP_MODES and w * h > MAX_DEEP_PIXELS:
            raise ImageRejected(
                f"{name}: {w}x{h} image with {im.mode!r} samples is too large to convert "
                f"({w * h / 1e6:.0f} MP; limit {MAX_DEEP_PIXELS / 1e6:.0f} MP for images with "
                "more than 8 bits per sample)"
            )
        if fmt not in FORMAT_EXT:
            raise ImageRejected(f"{name}: unsupported image format {fmt or 'unknown'}")
        n_frames = int(getattr(im, "n_frames", 1) or 1)
        if n_frames > 1 and fmt != "MPO":  # MPO extra frames are previews/depth, not animation
            warnings.append(f"{n_frames} frames, only the first is used")
        orientation = None
        if draft_box is not None and fmt in ("JPEG", "MPO"):
            # JPEG EXIF sits in the header, so reading it does not decode pixels; the draft
            # box is in stored (not upright) orientation.
            orientation = _orientation(im, warnings)
            box = draft_box if orientation < 5 else (draft_box[1], draft_box[0])
            im.draft("RGB", box)
        try:
            if n_frames > 1:
                im.seek(0)
            # Decode now, before anything else touches the pixels (PNG getexif() may load
            # them and swallow a damaged-stream error), so truncated files are refused here.
            im.load()
        except Image.DecompressionBombError as exc:
            raise ImageRejected(
                f"{name}: image too large, {_size_text(raw, exc)} (limit {MAX_PIXELS / 1e6:.0f} MP)"
            ) from None
        except MemoryError:
            raise ImageRejected(f"{name}: not enough memory to decode a {w}x{h} image") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError) as exc:
            reason = str(exc) or type(exc).__name__
            raise ImageRejected(f"{name}: damaged or truncated image file ({reason})") from None
        if orientation is None:
            orientation = _orientation(im, warnings)
        orig_mode = im.mode
        upright = _upright(im, orientation)
        try:
            rgb, had_alpha = _to_rgb(upright, warnings)
        except ImageRejected as exc:
            raise ImageRejected(f"{name}: {exc}") from None
        if rgb is im:  # detach from the (soon closed) file object
            rgb = im.copy()
    if rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    rgb.info = {}
    hdr = _png_header(raw) if fmt == "PNG" else None
    deep_rgb = hdr is not None and hdr[2] == 16 and hdr[3] in (2, 6)
    if deep_rgb:
        warnings.append("16 bits per channel reduced to 8-bit (precision lost)")
    facts = {
        "format": fmt,
        "size": (w, h),
        "orientation": orientation,
        "mode": orig_mode,
        "frames": n_frames,
        "had_alpha": had_alpha,
        "deep": deep_rgb,
        "warnings": warnings,
    }
    return rgb, facts


def read_input_bytes(path: str | os.PathLike[str], error: type[Exception] = ImageRejected) -> bytes:
    """The bytes of a file the user chose to import, or ``error`` with a one-line reason.

    Reasons: file not found, not a file, empty file, cannot read (with the OS's words).
    """
    p = Path(path)
    name = p.name
    try:
        st = p.stat()
    except FileNotFoundError:
        raise error(f"{name}: file not found") from None
    except OSError as exc:
        raise error(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not p.is_file():
        raise error(f"{name}: not a file")
    if st.st_size == 0:
        raise error(f"{name}: empty file")
    if st.st_size > MAX_INPUT_BYTES:
        raise error(
            f"{name}: file too large ({st.st_size / 2**20:.0f} MB; limit "
            f"{MAX_INPUT_BYTES >> 20} MB)"
        )
    try:
        with open(p, "rb") as fh:
            head = fh.read(512)
            if error is ImageRejected and _looks_like_text(head) and not _is_heif(head):
                raise error(f"{name}: not an image (looks like HTML/text)")
            return head + fh.read(MAX_INPUT_BYTES + 1 - len(head))
    except OSError as exc:
        raise error(f"{name}: cannot read ({exc.strerror or exc})") from None


def decode_for_import(path: str | os.PathLike[str]) -> DecodedImage:
    """Read and check one image file for import into a project.

    Parameters
    ----------
    path : str or Path
        The file to import; its content decides the format, not its extension.

    Returns
    -------
    DecodedImage
        The upright RGB image, the original bytes with their SHA-256, and what was changed.

    Raises
    ------
    ImageRejected
        With a one-line message naming the file: empty, not an image (HTML/text), HEIC,
        too large / too small / extreme aspect ratio, damaged or truncated, unsupported.
    """
    p, raw = Path(path), read_input_bytes(path)
    rgb, facts = _decode(raw, p.name, shape_rules=True)
    fmt = facts["format"]
    store_original = (
        fmt in _STORE_AS_IS
        and facts["mode"] in ("RGB", "L")
        and not facts["deep"]
        and facts["orientation"] == 1
        and (facts["frames"] == 1 or fmt == "MPO")  # MPO extra pictures are not stored
        and not facts["had_alpha"]
    )
    return DecodedImage(
        image=rgb,
        format=fmt,
        ext=FORMAT_EXT[fmt],
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        original_size=facts["size"],
        orientation=facts["orientation"],
        store_original=store_original,
        warnings=facts["warnings"],
    )


def load_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Load an image stored in a project as an upright uint8 (H, W, 3) RGB array.

    Uses the same conversion rules as :func:`decode_for_import` (but not the minimum-side and
    aspect checks, which were made at import).

    Raises
    ------
    ImageRejected
        If the stored file is missing, damaged or unreadable.
    """
    p, raw = Path(path), read_input_bytes(path)
    rgb, _facts = _decode(raw, p.name, shape_rules=False)
    return np.array(rgb, dtype=np.uint8)


def make_thumbnail(path: str | os.PathLike[str], size: int | tuple[int, int]) -> np.ndarray:
    """A small upright RGB copy that fits in ``size`` (aspect ratio kept, never enlarged).

    JPEGs are decoded at reduced scale (``Image.draft``), so this is fast for big photos.

    Parameters
    ----------
    path : str or Path
        Image file (project copy or an original).
    size : int or tuple[int, int]
        Largest side, or the (width, height) box to fit in.

    Returns
    -------
    np.ndarray
        uint8 (h, w, 3).
    """
    box = (
        (int(size), int(size))
        if isinstance(size, int | np.integer)
        else (int(size[0]), int(size[1]))
    )
    if box[0] < 1 or box[1] < 1:
        raise ValueError(f"thumbnail size must be positive, got {size!r}")
    p, raw = Path(path), read_input_bytes(path)
    rgb, _facts = _decode(raw, p.name, shape_rules=False, draft_box=box)
    rgb.thumbnail(box, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.array(rgb, dtype=np.uint8)
