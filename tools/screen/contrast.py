"""WCAG 2.x contrast measured from pixels: the two dominant colours in a box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from gemloom.tools.screen.image import Box, ImageError, clamp

BIN_SHIFT = 3  # colours are grouped in 8-level bins so anti-aliasing and JPEG noise merge
MIN_DISTANCE = 12.0  # RGB distance below which two colours count as the same surface
MIN_PIXELS = 4  # fewer foreground pixels than this is noise, not text
MIN_SHARE = 0.05  # nor is a colour holding under 5% of the text-like pixels (JPEG ringing)
NOISE_RATIO = 1.1  # colours closer than this to the background count as noise around it


@dataclass(frozen=True)
class Contrast:
    """A measured contrast ratio and the colours it was measured between."""

    ratio: float
    foreground: str
    background: str

    @property
    def passes_aa(self) -> bool:
        """WCAG AA for normal text (4.5:1)."""
        return self.ratio >= 4.5

    @property
    def passes_aa_large(self) -> bool:
        """WCAG AA for large text and UI components (3:1)."""
        return self.ratio >= 3.0


def _channel(value: float) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour."""
    r, g, b = (_channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio between two sRGB colours, from 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """#rrggbb."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _clusters(pixels: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(pixel count, commonest exact colour) per colour bin, most common bin first."""
    keys = pixels.astype(np.int32) >> BIN_SHIFT
    ids = (keys[:, 0] << 10) | (keys[:, 1] << 5) | keys[:, 2]
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [(int(counts[i]), _mode(pixels[inverse == i])) for i in order]


def _mode(pixels: np.ndarray) -> np.ndarray:
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return colours[int(np.argmax(counts))].astype(float)


def dominant_colours(image: Image.Image, box: Box) -> tuple[tuple, tuple]:
    """(foreground, background): the commonest colour, and the one farthest from it.

    Anti-aliased text blends between its colour and the background, so the text colour is the
    far end of that line: the colour of highest contrast with enough pixels to be more than noise.
    """
    area = clamp(box, image.size)
    pixels = np.asarray(image.convert("RGB").crop(area.corners)).reshape(-1, 3)
    clusters = _clusters(pixels)
    background = clusters[0][1]
    far = [(n, c) for n, c in clusters[1:] if np.linalg.norm(c - background) >= MIN_DISTANCE]
    ratios = [contrast_ratio(_rgb(c), _rgb(background)) for _, c in far]
    textlike = sum(n for (n, _), r in zip(far, ratios, strict=True) if r >= NOISE_RATIO)
    floor = max(MIN_PIXELS, MIN_SHARE * (textlike or sum(n for n, _ in far)))
    supported = [(r, c) for (n, c), r in zip(far, ratios, strict=True) if n >= floor]
    if not supported:
        raise ImageError(f"Box {tuple(area)} holds a single colour: there is no text to measure.")
    _, foreground = max(supported, key=lambda pair: pair[0])
    return _rgb(foreground), _rgb(background)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (round(float(v)) for v in colour)
    return (r, g, b)


def measure(image: Image.Image, box: Box) -> Contrast:
    """The WCAG contrast ratio between the two dominant colours inside `box`."""
    foreground, background = dominant_colours(image, box)
    ratio = round(contrast_ratio(foreground, background), 2)
    return Contrast(ratio, hex_colour(foreground), hex_colour(background))
