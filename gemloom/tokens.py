"""Gemma token estimate from byte classes and runs, erring high on dense text.

Every byte has a class (letters, digits, spaces, punctuation, UTF-8 lead bytes by sequence
length, ...). The estimate is a weight per byte of each class plus a weight per run, a
stretch of bytes of one class. Runs are what tell a word (one long lowercase run) from
base64 or hex (many short runs, each a token or two). Estimates of pieces add up to at
least the estimate of the whole, so a pack summed file by file never comes out short.
"""

from __future__ import annotations

import string

import numpy as np

BYTE_CLASSES: dict[str, bytes] = {
    "lower": string.ascii_lowercase.encode(),
    "upper": string.ascii_uppercase.encode(),
    "digit": string.digits.encode(),
    "space": b" ",
    "newline": b"\n\r",
    "tab": b"\t",
    "underscore": b"_",
    "quote": b"\"'`",
    "cont": bytes(range(0x80, 0xC0)),  # UTF-8 continuation bytes
    # lead bytes of two-byte characters, by script (the first byte fixes the code point range)
    "latin2": bytes(range(0xC0, 0xCC)),  # U+0000-02FF: accented Latin, IPA
    "greek": bytes(range(0xCC, 0xD0)),  # U+0300-03FF: combining marks, Greek
    "cyrillic": bytes(range(0xD0, 0xD5)),  # U+0400-053F
    "hebrew": bytes(range(0xD5, 0xD8)),  # U+0540-05FF: Armenian, Hebrew
    "arabic": bytes(range(0xD8, 0xE0)),  # U+0600-07FF: Arabic, Syriac, Thaana
    # lead bytes of three-byte characters
    "indic": b"\xe0",  # U+0800-0FFF: Devanagari, Bengali, Tamil, Thai, Tibetan
    "latin3": b"\xe1",  # U+1000-1FFF: Georgian, Khmer, Vietnamese and other extended Latin
    "symbols": b"\xe2",  # U+2000-2FFF: punctuation, arrows, math, box drawing
    "kana": b"\xe3",  # U+3000-3FFF: CJK punctuation, hiragana, katakana
    "cjk": bytes(range(0xE4, 0xEA)),  # U+4000-9FFF: CJK ideographs
    "hangul": bytes(range(0xEA, 0xEE)),  # U+A000-DFFF: Hangul syllables
    "wide": b"\xee\xef",  # U+E000-FFFF: private use, compatibility, full-width forms
    "lead4": bytes(range(0xF0, 0x100)),  # U+10000 and up: emoji, rare scripts
}
KINDS = ("punct", *BYTE_CLASSES)  # punct: every other byte
CLASSES = (*KINDS, *(f"{k}_run" for k in KINDS))
"""Feature names: bytes of each class, then runs of each class."""

# Fitted by bench/tokens.py against Gemma 3's tokenizer (code, prose in 20 languages, base64,
# hex, JSON, lockfiles, minified JS, symbols), under-estimates weighed 20 times over-estimates
# and dense kinds aimed 3% high. Weights left out are 0.
CLASS_WEIGHTS: dict[str, float] = dict.fromkeys(CLASSES, 0.0) | {
    "punct": 0.1599,
    "lower": 0.1408,
    "upper": 0.0205,
    "digit": 1.1816,
    "space": 0.1015,
    "quote": 0.4687,
    "cont": 0.1612,
    "latin2": 0.2427,
    "greek": 0.1231,
    "cyrillic": 0.0632,
    "hebrew": 0.2227,
    "arabic": 0.1041,
    "latin3": 0.0982,
    "symbols": 1.1103,
    "kana": 0.1319,
    "cjk": 0.1662,
    "hangul": 0.1679,
    "wide": 0.5215,
    "lead4": 0.8987,
    "punct_run": 1.0293,
    "lower_run": 0.2305,
    "upper_run": 1.72,
    "digit_run": 0.3115,
    "newline_run": 1.1748,
    "tab_run": 1.2004,
    "underscore_run": 0.4737,
    "cont_run": 0.0092,
    "latin2_run": 0.2427,
    "greek_run": 0.1231,
    "cyrillic_run": 0.0632,
    "hebrew_run": 0.2227,
    "arabic_run": 0.1041,
    "latin3_run": 0.0982,
    "symbols_run": 1.1103,
    "kana_run": 0.1319,
    "cjk_run": 0.1662,
    "hangul_run": 0.1679,
    "wide_run": 0.5215,
    "lead4_run": 0.8987,
}


def byte_classes() -> np.ndarray:
    """The class index of every byte value (0 is punctuation and everything else)."""
    table = np.zeros(256, dtype=np.intp)
    for name, members in BYTE_CLASSES.items():
        table[list(members)] = KINDS.index(name)
    return table


_CLASS_OF = byte_classes()


def _weights(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    per_byte = np.array([weights[k] for k in KINDS], dtype=np.float64)
    per_run = np.array([weights[f"{k}_run"] for k in KINDS], dtype=np.float64)
    return per_byte, per_run


_PER_BYTE, _PER_RUN = _weights(CLASS_WEIGHTS)


def class_counts(data: bytes) -> np.ndarray:
    """Bytes and runs of each class in `data`, in CLASSES order (for calibration)."""
    classes = _CLASS_OF[np.frombuffer(data, dtype=np.uint8)]
    starts = classes[_run_starts(classes)]
    return np.concatenate(
        [np.bincount(classes, minlength=len(KINDS)), np.bincount(starts, minlength=len(KINDS))]
    ).astype(np.float64)


def _run_starts(classes: np.ndarray) -> np.ndarray:
    starts = np.ones(len(classes), dtype=bool)
    np.not_equal(classes[1:], classes[:-1], out=starts[1:])
    return starts


def estimate_bytes(data: bytes) -> float:
    """Estimated Gemma tokens in UTF-8 bytes (a float so sums stay exact)."""
    if not data:
        return 0.0
    classes = _CLASS_OF[np.frombuffer(data, dtype=np.uint8)]
    total = _PER_BYTE[classes].sum() + _PER_RUN[classes[_run_starts(classes)]].sum()
    return float(total)


def estimate(text: str) -> float:
    """Estimated Gemma tokens in a piece of text."""
    return estimate_bytes(text.encode("utf-8", "surrogatepass"))
