"""Loading, normalising, hashing, tiling and zooming images made with Pillow."""

from __future__ import annotations

import io
import itertools
import random
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from gemloom.tools.screen.image import (
    MAX_PIXELS,
    Box,
    ImageError,
    check,
    content_hash,
    from_image,
    load,
    tiles,
    zoom,
)


def png_bytes(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims a size, with no real pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def noise(width: int, height: int) -> Image.Image:
    """An image of seeded random pixels (incompressible, so a cut PNG is really cut)."""
    return Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))


def striped(width: int, height: int) -> Image.Image:
    """An image whose every pixel tells its own coordinates: R = x % 256, G = y % 256."""
    x = np.arange(width, dtype=np.uint16)[None, :].repeat(height, 0)
    y = np.arange(height, dtype=np.uint16)[:, None].repeat(width, 1)
    pixels = np.stack([x % 256, y % 256, (x // 256) * 16 + y // 256], axis=-1)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def test_load_reads_a_png_file_and_records_its_source(tmp_path):
    path = tmp_path / "shot.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(path)
    shot = load(path)
    assert shot.size == (40, 30)
    assert shot.image.getpixel((5, 5)) == (10, 200, 30)
    assert shot.source == str(path)


def test_the_hash_depends_on_pixels_not_on_the_encoding():
    image = striped(64, 48)
    as_png = load(png_bytes(image))
    as_webp = load(png_bytes(image, "WEBP", lossless=True))
    assert as_png.sha256 == as_webp.sha256 == content_hash(image)
    changed = image.copy()
    changed.putpixel((3, 3), (0, 0, 0))
    assert load(png_bytes(changed)).sha256 != as_png.sha256


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (60, 20), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 10, 20))  # blue strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs 90 degrees clockwise
    shot = load(png_bytes(image, "JPEG", exif=exif, quality=95))
    assert shot.size == (20, 60)
    r, _g, b = shot.image.getpixel((10, 3))  # the left strip is now at the top
    assert b > 200 and r < 60


def test_transparency_is_flattened_on_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image.putpixel((1, 1), (255, 0, 0, 255))
    shot = load(png_bytes(image))
    assert shot.image.mode == "RGB"
    assert shot.image.getpixel((5, 5)) == (255, 255, 255)
    assert shot.image.getpixel((1, 1)) == (255, 0, 0)


def test_palette_transparency_is_flattened_on_white():
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    image.putpixel((2, 2), 1)
    shot = load(png_bytes(image, transparency=0))
    assert shot.image.getpixel((0, 0)) == (255, 255, 255)
    assert shot.image.getpixel((2, 2)) == (0, 128, 0)


HEADER_REFUSALS = {  # what the header alone tells
    "text": (b"just some text, not pixels", "is not an image"),
    "zero-bytes": (b"", "is empty (0 bytes)"),
    "zero-width": (header_only_png(0, 10), "is empty (0x10 pixels)"),
    "enormous": (header_only_png(10_000, 6_000), f"more than the {MAX_PIXELS:,} allowed"),
    "bomb": (header_only_png(20_000, 20_000), "too large to open safely"),
}
REFUSALS = HEADER_REFUSALS | {
    "truncated": (png_bytes(noise(200, 200))[:60_000], "is truncated or corrupt"),
}


@pytest.mark.parametrize(("data", "expected"), REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_images_raise_one_clear_line(data, expected):
    with pytest.raises(ImageError, match=re.escape(expected)) as caught:
        load(data, name="upload.png")
    assert str(caught.value).startswith("upload.png ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("data", "expected"), HEADER_REFUSALS.values(), ids=HEADER_REFUSALS.keys())
def test_the_header_check_refuses_what_load_refuses_from_the_header(data, expected):
    with pytest.raises(ImageError, match=re.escape(expected)):
        check(data, name="upload.png")
    check(png_bytes(noise(200, 200))[:60_000])  # truncated pixels: only `load` decodes them
    check(png_bytes(noise(20, 20)))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ImageError, match=r"Cannot read .*nope\.png"):
        load(tmp_path / "nope.png")


def test_a_small_image_is_sent_whole():
    shot = from_image(striped(800, 600), "small")
    parts = tiles(shot)
    assert [(p.kind, p.box) for p in parts] == [("whole", Box(0, 0, 800, 600))]
    assert Image.open(io.BytesIO(parts[0].png)).size == (800, 600)


def test_a_full_hd_screenshot_becomes_an_overview_and_overlapping_full_resolution_tiles():
    shot = from_image(striped(1920, 1080), "fullhd")
    parts = tiles(shot)
    overview, rest = parts[0], parts[1:]
    assert overview.kind == "overview"
    assert max(Image.open(io.BytesIO(overview.png)).size) == 896
    assert len(rest) == 3 * 2
    for tile in rest:
        decoded = Image.open(io.BytesIO(tile.png))
        assert decoded.size == (tile.box.width, tile.box.height) == (896, 896)
        assert decoded.getpixel((0, 0)) == shot.image.getpixel((tile.box.x, tile.box.y))
    lefts = sorted({t.box.x for t in rest})
    tops = sorted({t.box.y for t in rest})
    assert lefts[0] == 0 and lefts[-1] + 896 == 1920 and tops == [0, 1080 - 896]
    for a, b in itertools.pairwise(lefts):
        assert 896 - (b - a) >= 0.1 * 896  # at least 10% overlap between neighbours


def test_a_huge_screenshot_is_capped_at_the_tile_limit():
    shot = from_image(striped(3200, 2000), "huge")
    parts = tiles(shot, max_tiles=4)
    rest = parts[1:]
    assert parts[0].kind == "overview" and 1 < len(rest) <= 4
    assert min(t.box.x for t in rest) == 0 and max(t.box.x + t.box.width for t in rest) == 3200
    assert max(t.box.y + t.box.height for t in rest) == 2000
    assert all(max(Image.open(io.BytesIO(t.png)).size) == 896 for t in rest)


def test_zoom_crops_at_full_resolution():
    shot = from_image(striped(1200, 900), "s")
    crop = zoom(shot, Box(1000, 700, 50, 40))
    assert crop.size == (50, 40)
    assert crop.getpixel((0, 0)) == shot.image.getpixel((1000, 700))
    assert crop.getpixel((49, 39)) == shot.image.getpixel((1049, 739))


def test_zoom_clamps_to_the_image_and_rejects_boxes_outside_it():
    shot = from_image(striped(100, 100), "s")
    assert zoom(shot, Box(90, 90, 50, 50)).size == (10, 10)
    with pytest.raises(ImageError, match="lies outside the 100x100 image"):
        zoom(shot, Box(200, 0, 10, 10))
    with pytest.raises(ImageError, match="outside"):
        zoom(shot, Box(10, 10, 0, 10))
