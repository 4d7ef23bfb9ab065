"""WCAG contrast measured from the pixels of Pillow-drawn text with known colours."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont
from reference import wcag

from gemloom.tools.screen.contrast import contrast_ratio, luminance, measure
from gemloom.tools.screen.image import Box, ImageError


def text_image(fg: str, bg: str, size: int = 20) -> Image.Image:
    image = Image.new("RGB", (420, 60), bg)
    ImageDraw.Draw(image).text(
        (10, 12), "Subscribe to our newsletter", fill=fg, font=ImageFont.load_default(size=size)
    )
    return image


def test_known_reference_values():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.005)
    assert luminance((255, 255, 255)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("fg", "bg"),
    [
        ("#999999", "#ffffff"),
        ("#777777", "#ffffff"),
        ("#888888", "#999999"),
        ("#ffffff", "#336699"),
    ],
)
def test_measured_ratio_matches_the_colours_the_text_was_drawn_with(fg, bg):
    result = measure(text_image(fg, bg), Box(0, 0, 420, 60))
    assert (result.foreground, result.background) == (fg, bg)
    assert result.ratio == pytest.approx(wcag(fg, bg), abs=0.01)


def test_the_verdicts_follow_the_wcag_thresholds():
    low = measure(text_image("#999999", "#ffffff"), Box(0, 0, 420, 60))
    assert low.ratio == pytest.approx(2.85, abs=0.01)
    assert not low.passes_aa and not low.passes_aa_large
    good = measure(text_image("#595959", "#ffffff"), Box(0, 0, 420, 60))
    assert good.passes_aa


def test_jpeg_noise_moves_the_measure_only_a_little():
    data = io.BytesIO()
    text_image("#999999", "#ffffff", size=28).save(data, format="JPEG", quality=90)
    result = measure(Image.open(data), Box(0, 0, 420, 60))
    assert result.ratio == pytest.approx(wcag("#999999", "#ffffff"), rel=0.15)


def test_only_the_box_counts():
    image = text_image("#999999", "#ffffff")
    image.paste((0, 0, 0), (0, 0, 420, 5))  # a black rule above the text, outside the box
    assert measure(image, Box(0, 8, 420, 50)).ratio == pytest.approx(2.85, abs=0.01)


def test_a_box_of_one_colour_has_nothing_to_measure():
    with pytest.raises(ImageError, match="single colour"):
        measure(Image.new("RGB", (50, 50), "#abcdef"), Box(0, 0, 50, 50))


def test_a_box_outside_the_image_is_an_error():
    with pytest.raises(ImageError, match="outside"):
        measure(Image.new("RGB", (50, 50)), Box(60, 60, 10, 10))
