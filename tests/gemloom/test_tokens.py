"""The token estimate against real Gemma counts of fixed samples (measured by bench/tokens.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gemloom import tokens

SAMPLES = Path(__file__).parents[1] / "fixtures" / "tokens"

# Real Gemma 3 tokenizer counts of each sample, as `bench/tokens.py` prints them; the tokenizer
# is not needed here. Dense text must never be estimated short (a short estimate overflows the
# context or a --budget); prose must not be over-counted (it wastes the context).
REAL = {
    "base64.txt": 2260,
    "hex.txt": 2307,
    "json_compact.json": 1117,
    "json_pretty.json": 1893,
    "lock_npm.json": 1725,
    "lock_uv.lock": 3443,
    "minified.js": 533,
    "code_python.txt": 824,
    "prose_en.txt": 358,
    "prose_ru.txt": 436,
    "prose_ar.txt": 450,
    "prose_zh.txt": 374,
    "prose_ja.txt": 421,
}
DENSE = ["base64.txt", "hex.txt", "json_compact.json", "json_pretty.json", "lock_npm.json",
         "lock_uv.lock", "minified.js"]  # fmt: skip
PROSE = ["prose_en.txt", "prose_ru.txt", "prose_ar.txt", "prose_zh.txt", "prose_ja.txt"]


def ratio(name: str) -> float:
    return tokens.estimate((SAMPLES / name).read_text()) / REAL[name]


def test_every_sample_is_pinned() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(REAL)


@pytest.mark.parametrize("name", DENSE)
def test_dense_text_is_never_estimated_short(name: str) -> None:
    # before: base64 0.64, hex 0.91, pretty JSON 0.90, npm lockfile 0.84 of the real count
    assert 1.0 <= ratio(name) <= 1.45


def test_code_is_estimated_at_its_count() -> None:
    assert 0.97 <= ratio("code_python.txt") <= 1.15  # 1.09 over the standard library


@pytest.mark.parametrize("name", PROSE)
def test_prose_in_any_script_is_not_over_counted(name: str) -> None:
    # before: Russian 2.60, Arabic 2.04, Japanese 1.94, Chinese 1.72 of the real count
    assert 0.85 <= ratio(name) <= 1.25


def test_pieces_never_add_up_to_less_than_the_whole() -> None:
    text = (SAMPLES / "code_python.txt").read_text() + (SAMPLES / "base64.txt").read_text()
    for cut in range(0, len(text), 97):
        parts = tokens.estimate(text[:cut]) + tokens.estimate(text[cut:])
        assert parts >= tokens.estimate(text) - 1e-6


def test_runs_tell_words_from_random_letters() -> None:
    assert tokens.estimate("a" * 40) < tokens.estimate("aB3x" * 10)
    assert tokens.estimate("") == 0.0


def test_class_counts_match_the_feature_names() -> None:
    counts = tokens.class_counts("Ab_1 é中".encode())
    assert len(counts) == len(tokens.CLASSES)
    named = dict(zip(tokens.CLASSES, counts, strict=True))
    assert named["upper"] == named["lower"] == named["cjk"] == named["latin2"] == 1
    assert named["cont"] == 3 and named["space_run"] == 1


@pytest.mark.parametrize("size", [1, 255, 256, 5000])  # both the short loop and numpy
def test_the_estimate_is_the_fitted_weights_times_the_features(size: int) -> None:
    data = ((SAMPLES / "prose_ru.txt").read_text() + "x_Y 12\t").encode()[:size]
    weights = np.array([tokens.CLASS_WEIGHTS[c] for c in tokens.CLASSES])
    assert tokens.estimate_bytes(data) == pytest.approx(float(tokens.class_counts(data) @ weights))
