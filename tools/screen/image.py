"""Screenshot images: load and normalise with Pillow, hash for provenance, tile and zoom.

The content hash is the sha256 of the normalised image: its size as `WxH` followed by the raw
RGB pixel bytes. The same picture therefore hashes the same whether it arrived as PNG, as a
lossless WebP or straight from the screen, and re-encoding a PNG never changes it.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageOps, UnidentifiedImageError

from gemloom.errors import ExitCode, GemloomError

MAX_PIXELS = 50_000_000  # about 8K x 6K; larger files are treated as decompression bombs
TILE_SIZE = 896  # Gemma 4's vision input side: text at this scale stays legible
TILE_OVERLAP = 0.10
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TILES = 24  # 24 x ~280 tokens is still a small share of the context


class ImageError(GemloomError):
    """An image cannot be used: unreadable, not an image, corrupt, empty or too large."""

    exit_code = ExitCode.USAGE


class Box(NamedTuple):
    """A rectangle in image pixels: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def corners(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) as Pillow's crop wants it."""
        return (self.x, self.y, self.x + self.width, self.y + self.height)


@dataclass(frozen=True)
class Shot:
    """A normalised RGB image with its provenance."""

    image: Image.Image
    sha256: str
    source: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.size

    def png(self) -> bytes:
        """The image encoded as PNG."""
        return encode_png(self.image)


@dataclass(frozen=True)
class Tile:
    """One image to send to the model: the whole shot, an overview, or a full-resolution tile."""

    kind: str  # "whole", "overview" or "tile"
    box: Box  # the part of the original image it shows, in original pixels
    png: bytes
    size: tuple[int, int]  # (width, height) of the PNG, which is `box` scaled to fit a tile


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes of an image."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # speed over size: these go to the model
    return out.getvalue()


def content_hash(image: Image.Image) -> str:
    """sha256 of `WxH` plus the raw RGB pixels of a normalised image."""
    digest = hashlib.sha256(f"{image.width}x{image.height}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def normalise(image: Image.Image) -> Image.Image:
    """EXIF orientation applied, transparency flattened on white, RGB."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def from_image(image: Image.Image, source: str) -> Shot:
    """A Shot from an already decoded image."""
    _check_size(image.size, source)
    clean = normalise(image)
    return Shot(clean, content_hash(clean), source)


def load(source: bytes | str | Path, name: str | None = None) -> Shot:
    """Read, check and normalise an image file (or its bytes); ImageError when unusable."""
    image, label = _opened(source, name, decode=True)
    return from_image(image, label)


def check(source: bytes | str | Path, name: str | None = None) -> None:
    """ImageError when `load` would refuse the file for what its header says (unreadable,
    empty, not an image, too large): no pixels are decoded, so a command can check its
    images before it loads anything slow."""
    _opened(source, name, decode=False)


def _opened(source: bytes | str | Path, name: str | None, decode: bool) -> tuple[Image.Image, str]:
    """The image, its size checked (its pixels decoded if `decode`), and its label."""
    label = name or ("<bytes>" if isinstance(source, bytes) else str(source))
    data = source if isinstance(source, bytes) else _read(Path(source))
    if not data:
        raise ImageError(f"{label} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(image.size, label)
            if decode:
                image.load()
    except UnidentifiedImageError:
        _check_size(_png_size(data), label)  # Pillow refuses 0-pixel PNGs as unidentified
        raise ImageError(f"{label} is not an image (expected PNG, JPEG, WebP, ...).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{label} is too large to open safely (decompression bomb?).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{label} is truncated or corrupt: {exc}.") from None
    return image, label


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header, or (1, 1) when `data` is no PNG."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return (1, 1)
    return struct.unpack(">II", data[16:24])


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _check_size(size: tuple[int, int], label: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"{label} is empty ({width}x{height} pixels).")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{label} is {width}x{height} pixels, more than the {MAX_PIXELS:,} allowed "
            "(a decompression bomb?); crop or downscale it first."
        )


def clamp(box: Box, size: tuple[int, int]) -> Box:
    """The part of `box` inside an image of this size; ImageError if nothing is left."""
    left, top = max(box.x, 0), max(box.y, 0)
    right, bottom = min(box.x + box.width, size[0]), min(box.y + box.height, size[1])
    if right <= left or bottom <= top:
        raise ImageError(f"Box {tuple(box)} lies outside the {size[0]}x{size[1]} image.")
    return Box(left, top, right - left, bottom - top)


def zoom(shot: Shot, box: Box) -> Image.Image:
    """The pixels inside `box` at full resolution (clamped to the image)."""
    return shot.image.crop(clamp(box, shot.size).corners)


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    """Tile start offsets covering `length` with at least `overlap` shared between neighbours."""
    if length <= tile:
        return [0]
    step = tile * (1 - overlap)
    count = math.ceil((length - tile) / step) + 1
    spacing = (length - tile) / (count - 1)
    return [round(i * spacing) for i in range(count)]


def _fit(image: Image.Image, side: int) -> Image.Image:
    scale = min(side / image.width, side / image.height, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if scale < 1 else image


def tiles(
    shot: Shot, size: int = TILE_SIZE, overlap: float = TILE_OVERLAP, max_tiles: int = MAX_TILES
) -> list[Tile]:
    """The whole shot if it fits one tile, else a downscaled overview plus overlapping tiles."""
    width, height = shot.size
    whole = Box(0, 0, width, height)
    if width <= size and height <= size:
        return [Tile("whole", whole, shot.png(), shot.size)]
    side = size  # source pixels per tile; grows (text shrinks) only past max_tiles
    while len(_starts(width, side, overlap)) * len(_starts(height, side, overlap)) > max_tiles:
        side = round(side * 1.25)
    overview = _fit(shot.image, size)
    parts = [Tile("overview", whole, encode_png(overview), overview.size)]
    for top in _starts(height, side, overlap):
        for left in _starts(width, side, overlap):
            box = clamp(Box(left, top, side, side), shot.size)
            part = _fit(zoom(shot, box), size)
            parts.append(Tile("tile", box, encode_png(part), part.size))
    return parts
