"""core.images: every hostile file in shared/data/bad_inputs behaves as its README says."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from fashionseg_gui.core import images
from fashionseg_gui.core.images import (
    MAX_ASPECT,
    MIN_SIDE,
    ImageRejected,
    decode_for_import,
    load_rgb,
    make_thumbnail,
)

# file -> (size (w, h), store_original, required warning fragment or None)
ACCEPTED = {
    "base_64x48.png": ((64, 48), True, None),
    "gray8.png": ((64, 48), True, None),
    "webp.webp": ((64, 48), True, None),
    "avif.avif": ((64, 48), False, None),
    "webp_named_as.jpg": ((64, 48), True, None),
    "png_named_as.jpg": ((64, 48), True, None),
    "corrupt_middle.jpg": ((200, 150), True, None),
    "image (1).jpg": ((64, 48), True, None),
    "é_ü_日本.jpg": ((64, 48), True, None),
    "dup_a/photo.jpg": ((64, 48), True, None),
    "dup_b/photo.jpg": ((64, 48), True, None),
    "exif_rotated_6.jpg": ((40, 60), False, None),
    "exif_rotated_8.jpg": ((40, 60), False, None),
    "cmyk.jpg": ((64, 48), False, "CMYK converted to RGB"),
    "rgba.png": ((64, 48), False, "alpha composited on white"),
    "gray_alpha_la.png": ((64, 48), False, None),
    "gray16.png": ((64, 48), False, "16-bit scaled to 8-bit (max 4095)"),
    "rgb48_16bit.png": ((16, 16), False, "precision lost"),
    "palette.png": ((64, 48), False, None),
    "palette_transparency.png": ((64, 48), False, "transparency composited on white"),
    "animated.gif": ((32, 24), False, "3 frames, only the first is used"),
    "animated.webp": ((32, 24), False, "3 frames, only the first is used"),
}

# file -> fragment of the one-line message (which always starts with the file name)
REFUSED = {
    "zero_bytes.jpg": "empty file",
    "not_an_image.jpg": "not an image (looks like HTML/text)",
    "fake_iphone.heic": "HEIC/HEIF is not supported - export the photo as JPEG",
    "truncated.jpg": "truncated",
    "truncated.png": "truncated",
    "png_bad_crc.png": "damaged",
    "bomb_header.png": "too large, 20000x20000",
    "extreme_aspect_1x200000.png": "extreme aspect ratio 1x200000",
    "tiny_1x1.png": f"too small, 1x1 (minimum side {MIN_SIDE} px)",
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_files(bad: Path, name: str) -> None:
    size, store_original, warning = ACCEPTED[name]
    dec = decode_for_import(bad / name)
    assert dec.image.mode == "RGB"
    assert dec.image.size == size
    assert dec.store_original is store_original
    arr = np.asarray(dec.image)
    assert arr.dtype == np.uint8 and arr.shape == (size[1], size[0], 3)
    raw = (bad / name).read_bytes()
    assert dec.raw == raw
    import hashlib

    assert dec.sha256 == hashlib.sha256(raw).hexdigest()
    if warning is None:
        assert not any("frames" in w or "CMYK" in w for w in dec.warnings)
    else:
        assert any(warning in w for w in dec.warnings), dec.warnings
    data, ext = dec.project_copy()
    with Image.open(io.BytesIO(data)) as stored:
        stored_fmt = stored.format
    assert ext == (dec.ext if store_original else ".png")
    assert stored_fmt == (dec.format if store_original else "PNG")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files(bad: Path, name: str) -> None:
    with pytest.raises(ImageRejected) as info:
        decode_for_import(bad / name)
    msg = str(info.value)
    assert msg.startswith(Path(name).name + ":")
    assert REFUSED[name] in msg
    assert "\n" not in msg


def test_every_bad_input_image_is_covered(bad: Path) -> None:
    listed = set(ACCEPTED) | set(REFUSED)
    on_disk = {
        str(p.relative_to(bad))
        for p in bad.rglob("*")
        if p.is_file()
        and p.suffix.lower() not in (".json", ".md", ".py")
        and not p.name.startswith("mask_")
        and p.name != "exif_rotated_mask_upright.png"
    }
    assert on_disk <= listed, on_disk - listed


def test_real_format_and_extension_from_content(bad: Path) -> None:
    assert (
        decode_for_import(bad / "webp_named_as.jpg").format,
        decode_for_import(bad / "webp_named_as.jpg").ext,
    ) == ("WEBP", ".webp")
    dec = decode_for_import(bad / "png_named_as.jpg")
    assert (dec.format, dec.ext) == ("PNG", ".png")


@pytest.mark.parametrize("name,orientation", [("exif_rotated_6.jpg", 6), ("exif_rotated_8.jpg", 8)])
def test_exif_orientation_applied_once(bad: Path, name: str, orientation: int) -> None:
    dec = decode_for_import(bad / name)
    assert dec.orientation == orientation
    assert dec.original_size == (60, 40)
    with Image.open(bad / "exif_rotated_mask_upright.png") as m:
        block = np.asarray(m).astype(bool)
    arr = np.asarray(dec.image).astype(int)
    red = (arr[..., 0] > 180) & (arr[..., 1] < 90) & (arr[..., 2] < 90)
    # The red block lines up with the upright mask (JPEG edges tolerated).
    agree = (red == block).mean()
    assert agree > 0.97, agree
    assert red[block].mean() > 0.9
    # The stored upright copy has no orientation left to apply: reading it back is identical.
    data, ext = dec.project_copy()
    assert ext == ".png"
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (40, 60)
        assert im.getexif().get(0x0112, 1) == 1


def test_rgba_and_la_hidden_colour_not_visible(bad: Path) -> None:
    arr = np.asarray(decode_for_import(bad / "rgba.png").image)
    magenta = (arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] > 200)
    assert not magenta.any()
    assert (arr[:, :20] == 255).all()  # alpha 0 -> white (the documented rule)
    la = np.asarray(decode_for_import(bad / "gray_alpha_la.png").image)
    assert (la[..., 0] == la[..., 1]).all() and (la[..., 1] == la[..., 2]).all()


def test_gray16_scaled_not_clipped(bad: Path) -> None:
    arr = np.asarray(decode_for_import(bad / "gray16.png").image)[..., 0]
    assert (arr == 255).mean() < 0.10
    assert arr.max() == 255 and arr.min() == 0
    with Image.open(bad / "gray16.png") as im:
        src = np.asarray(im).astype(int)
    np.testing.assert_array_equal(arr, (src >> 4).astype(np.uint8))  # 12-bit data: >> 4


def test_palette_image_expanded_to_colours(bad: Path) -> None:
    dec = decode_for_import(bad / "palette.png")
    with Image.open(bad / "palette.png") as im:
        expected = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(np.asarray(dec.image), expected)


def test_animated_uses_frame_zero(bad: Path) -> None:
    arr = np.asarray(decode_for_import(bad / "animated.gif").image).astype(int)
    # frame 0 is red (frame 1 green, frame 2 blue)
    assert arr[..., 0].mean() > 150 and arr[..., 1].mean() < 100 and arr[..., 2].mean() < 100


def test_duplicates_differ_by_content(bad: Path) -> None:
    a = decode_for_import(bad / "dup_a" / "photo.jpg")
    b = decode_for_import(bad / "dup_b" / "photo.jpg")
    assert a.sha256 != b.sha256


def test_cmyk_gives_rgb_close_to_the_source(bad: Path) -> None:
    arr = np.asarray(decode_for_import(bad / "cmyk.jpg").image).astype(int)
    with Image.open(bad / "base_64x48.png") as im:
        base = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(arr - base).mean() < 20


def test_load_rgb_and_thumbnail(bad: Path, tmp_path: Path) -> None:
    dec = decode_for_import(bad / "exif_rotated_6.jpg")
    data, ext = dec.project_copy()
    stored = tmp_path / f"copy{ext}"
    stored.write_bytes(data)
    np.testing.assert_array_equal(load_rgb(stored), np.asarray(dec.image))
    # Loading the original applies the same rules (upright, RGB).
    assert load_rgb(bad / "exif_rotated_6.jpg").shape == (60, 40, 3)
    assert load_rgb(bad / "gray16.png").shape == (48, 64, 3)
    thumb = make_thumbnail(bad / "exif_rotated_6.jpg", 30)
    assert thumb.dtype == np.uint8 and thumb.shape == (30, 20, 3)
    assert make_thumbnail(bad / "base_64x48.png", (32, 32)).shape == (24, 32, 3)
    assert make_thumbnail(bad / "base_64x48.png", 500).shape == (48, 64, 3)  # never enlarged
    with pytest.raises(ImageRejected, match="truncated"):
        load_rgb(bad / "truncated.jpg")
    with pytest.raises(ImageRejected, match="file not found"):
        load_rgb(tmp_path / "missing.png")


def test_thumbnail_of_big_jpeg_uses_draft(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    big = Image.fromarray(rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8))
    path = tmp_path / "big.jpg"
    big.save(path, quality=80)
    thumb = make_thumbnail(path, 100)
    assert thumb.shape == (75, 100, 3)


def test_unicode_path_copied(bad: Path, tmp_path: Path) -> None:
    dest = tmp_path / "ünïcødé dir (2)" / "фото 1.JPG"
    dest.parent.mkdir()
    shutil.copy(bad / "image (1).jpg", dest)
    assert decode_for_import(dest).image.size == (64, 48)


def test_limits_are_checked_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (MIN_SIDE * (MAX_ASPECT + 1), MIN_SIDE)).save(path)
    with pytest.raises(ImageRejected, match="extreme aspect ratio"):
        decode_for_import(path)
    ok = tmp_path / "ok.png"
    Image.new("RGB", (200, 100)).save(ok)
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    loaded = []
    real_load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:  # records that pixels were decoded
        loaded.append(1)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    with pytest.raises(ImageRejected, match=r"too large, 200x100"):
        decode_for_import(ok)
    assert not loaded
    monkeypatch.setattr(images, "MAX_PIXELS", 80_000_000)
    decode_for_import(ok)
    assert loaded  # the spy does see a real decode


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageRejected, match="file not found"):
        decode_for_import(tmp_path / "nope.jpg")
    with pytest.raises(ImageRejected, match="not a file"):
        decode_for_import(tmp_path)


def test_plain_text_and_random_bytes(tmp_path: Path) -> None:
    txt = tmp_path / "notes.png"
    txt.write_text("just some notes, not a picture\n" * 5, encoding="utf-8")
    with pytest.raises(ImageRejected, match=r"looks like HTML/text"):
        decode_for_import(txt)
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 600, dtype=np.uint8)))
    with pytest.raises(ImageRejected, match="not an image"):
        decode_for_import(noise)


def test_sixteen_bit_full_range_and_float(tmp_path: Path) -> None:
    full = tmp_path / "full16.png"
    Image.fromarray(np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)).save(full)
    dec = decode_for_import(full)
    assert any("max 65535" in w for w in dec.warnings)
    assert np.asarray(dec.image)[..., 0].max() == 255
    flt = tmp_path / "float.tif"
    Image.fromarray(np.linspace(-1, 1, 32 * 32).reshape(32, 32).astype(np.float32), "F").save(flt)
    dec = decode_for_import(flt)
    arr = np.asarray(dec.image)[..., 0]
    assert arr.min() == 0 and arr.max() == 255
    assert any("floating-point" in w for w in dec.warnings)


def test_mpo_camera_jpeg_is_a_plain_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    first = Image.new("RGB", (64, 48), (200, 30, 30))
    first.save(path, format="MPO", save_all=True, append_images=[Image.new("RGB", (32, 24))])
    dec = decode_for_import(path)
    assert dec.format == "MPO" and dec.ext == ".jpg"
    assert dec.store_original and dec.warnings == []
    assert dec.image.size == (64, 48)
