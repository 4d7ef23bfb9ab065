"""Reference values written out independently of the code under test, shared by tests."""

from __future__ import annotations

from pathlib import Path

SPEECH = Path(__file__).parent / "fixtures" / "audio" / "speech.ogg"
"""A committed espeak-ng recording of known words."""


def wcag(foreground: str, background: str) -> float:
    """The WCAG 2.2 contrast ratio of two #rrggbb colours, from the spec's formulas."""

    def lum(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    hi, lo = sorted((lum(foreground), lum(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
