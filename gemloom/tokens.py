"""Gemma token estimate from byte classes and runs, erring high on dense text.

Every byte has a class (letters, digits, spaces, punctuation, UTF-8 lead bytes by sequence
length, ...). The estimate is a weight per byte of each class plus a weight per run, a
stretch of bytes of one class. Runs are what tell a word (one long lowercase run) from
base64 or hex (many short runs, each a token or two). Estimates of pieces add up to at
least the estimate of the whole, so a pack summed file by file never comes out short.
"""

from __future__ import annotations

import functools
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    "punct": 0.1589,
    "lower": 0.1416,
    "upper": 0.0165,
    "digit": 1.1748,
    "space": 0.1012,
    "quote": 0.4699,
    "cont": 0.1611,
    "latin2": 0.2437,
    "greek": 0.1231,
    "cyrillic": 0.0632,
    "hebrew": 0.2227,
    "arabic": 0.1041,
    "latin3": 0.0981,
    "symbols": 1.1105,
    "kana": 0.1319,
    "cjk": 0.1661,
    "hangul": 0.1679,
    "wide": 0.5216,
    "lead4": 0.899,
    "punct_run": 1.0314,
    "lower_run": 0.2272,
    "upper_run": 1.726,
    "digit_run": 0.3327,
    "newline_run": 1.1748,
    "tab_run": 1.2063,
    "underscore_run": 0.4689,
    "cont_run": 0.0094,
    "latin2_run": 0.2437,
    "greek_run": 0.1231,
    "cyrillic_run": 0.0632,
    "hebrew_run": 0.2227,
    "arabic_run": 0.1041,
    "latin3_run": 0.0981,
    "symbols_run": 1.1105,
    "kana_run": 0.1319,
    "cjk_run": 0.1661,
    "hangul_run": 0.1679,
    "wide_run": 0.5216,
    "lead4_run": 0.899,
}


def byte_classes() -> list[int]:
    """The class index of every byte value (0 is punctuation and everything else)."""
    table = [0] * 256
    for name, members in BYTE_CLASSES.items():
        for byte in members:
            table[byte] = KINDS.index(name)
    return table


_CLASS_LIST = byte_classes()
_K = len(KINDS)
_SHORT = 256  # below this many bytes a Python loop beats numpy's fixed costs
_PER_BYTE = [CLASS_WEIGHTS[k] for k in KINDS]
_PER_RUN = [CLASS_WEIGHTS[f"{k}_run"] for k in KINDS]


@functools.cache
def _pair_table() -> np.ndarray:
    """The cost of byte `cur` after byte `prev`, at index `prev | cur << 8` (a little-endian
    16-bit read of the two bytes): its class's weight, plus a run's when the classes differ."""
    import numpy as np  # here, not at import: commands that never estimate stay light

    pairs = np.add.outer(np.zeros(_K), _PER_BYTE) + (1 - np.eye(_K)) * _PER_RUN
    classes = np.array(_CLASS_LIST)
    return np.ascontiguousarray(pairs[classes[None, :], classes[:, None]]).ravel()


def class_counts(data: bytes) -> np.ndarray:
    """Bytes and runs of each class in `data`, in CLASSES order (for calibration)."""
    import numpy as np

    classes = np.array(_CLASS_LIST, dtype=np.intp)[np.frombuffer(data, dtype=np.uint8)]
    starts = np.ones(len(classes), dtype=bool)
    np.not_equal(classes[1:], classes[:-1], out=starts[1:])
    return np.concatenate(
        [np.bincount(classes, minlength=_K), np.bincount(classes[starts], minlength=_K)]
    ).astype(np.float64)


def estimate_bytes(data: bytes | memoryview) -> float:
    """Estimated Gemma tokens in UTF-8 bytes (a float so sums stay exact)."""
    if not data:
        return 0.0
    first = _CLASS_LIST[data[0]]
    total = _PER_BYTE[first] + _PER_RUN[first]
    if len(data) < _SHORT:
        previous = first
        for byte in bytes(data[1:]):
            kind = _CLASS_LIST[byte]
            total += _PER_BYTE[kind] + (_PER_RUN[kind] if kind != previous else 0.0)
            previous = kind
        return total
    import numpy as np

    table = _pair_table()  # every (previous, this) pair is one of two overlapping 16-bit views
    even = np.frombuffer(data, dtype="<u2", count=len(data) // 2)
    odd = np.frombuffer(data, dtype="<u2", count=(len(data) - 1) // 2, offset=1)
    return total + float(table.take(even).sum()) + float(table.take(odd).sum())


def estimate(text: str) -> float:
    """Estimated Gemma tokens in a piece of text."""
    return estimate_bytes(text.encode("utf-8", "surrogatepass"))


FLOOR_WEIGHT = 0.1
# Bytes whose class weighs less than FLOOR_WEIGHT: deleted, the rest each count that much.
_LIGHT = bytes(b for b in range(256) if _PER_BYTE[_CLASS_LIST[b]] < FLOOR_WEIGHT)


def floor_bytes(data: bytes | memoryview) -> float:
    """At most `estimate_bytes(data)`, at a third of its cost: every byte of a class weighing
    at least 0.1 counts 0.1 (weights, of bytes and of runs, are never negative). A budgeted
    pack rules out files with it before estimating them."""
    return FLOOR_WEIGHT * len(bytes(data).translate(None, _LIGHT))
