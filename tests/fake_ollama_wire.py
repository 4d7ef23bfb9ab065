"""The real server's rules that the fake Ollama applies: durations, token counts, error wordings.

Each rule names the file of ollama/ollama (v0.33.0-rc2 unless a v0.2x tag is named) or of Go it
follows. None of it imports gemloom: the fake must not agree with gemloom by construction.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import wave
from typing import Any

# -- error wordings ------------------------------------------------------------------------

OVERFLOW_V02 = "the input length exceeds the context length"
"""400 from the v0.2x runner: runner/ollamarunner/runner.go (v0.24.0) errorInputTooLong."""

LOAD_FAILED = "unable to load full model on GPU"
"""500: llm/server.go ErrLoadRequiredFull, sent by handleScheduleError in server/routes.go."""

RUNNER_STOPPED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an "
    "internal error, check ollama server logs for details"
)
"""500: llm/llama_server.go when the llama-server process dies under a request."""

SERVER_BUSY = "server busy, please try again.  maximum pending requests exceeded"
"""503: server/sched.go ErrMaxQueue (two spaces as in the source), via handleScheduleError."""

OUT_OF_MEMORY = "llama-server error: cudaMalloc failed: out of memory"
"""500: an out-of-memory load; llm/status.go lists the substrings Ollama treats as OOM."""

PULL_MISSING = "pull model manifest: file does not exist"
"""The {"error"} line after a 200 on /api/pull: server/images.go PullModel."""


def overflow_v030(prompt_tokens: int, n_ctx: int) -> str:
    """llama-server's own JSON error body, which v0.30+ passes through as the error text.

    llm/llama_server.go statusErrorMessage returns the trimmed body unchanged; the body is
    llama.cpp's tools/server exceed_context_size_error.
    """
    return json.dumps(
        {
            "error": {
                "code": 400,
                "message": f"request ({prompt_tokens} tokens) exceeds the available context "
                f"size ({n_ctx} tokens), try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": prompt_tokens,
                "n_ctx": n_ctx,
            }
        },
        separators=(",", ":"),
    )


# -- keep_alive: api/types.go Duration.UnmarshalJSON, which calls Go's time.ParseDuration --------

_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def go_parse_duration(text: str) -> float:
    """Seconds in a Go duration string, or ValueError with Go's own message (time/format.go)."""
    quoted = json.dumps(text)
    rest = text[1:] if text[:1] in "+-" else text
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0.0
    while rest:
        number = re.match(r"([0-9]*)(\.[0-9]*)?", rest)
        digits = number.group(0) if number else ""
        if digits in ("", ".") or not re.search(r"[0-9]", digits):
            raise ValueError(f"time: invalid duration {quoted}")
        rest = rest[len(digits) :]
        unit = re.match(r"[^0-9.]*", rest).group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _GO_UNITS:
            raise ValueError(f"time: unknown unit {json.dumps(unit)} in duration {quoted}")
        total += float(digits) * _GO_UNITS[unit]
        rest = rest[len(unit) :]
    return -total if text.startswith("-") else total


def keep_alive_error(value: Any) -> str | None:
    """The 400 text Ollama answers for this keep_alive, or None when it is accepted.

    A JSON number is seconds (negative keeps the model loaded); a string is a Go duration;
    anything else is "Unsupported type" (api/types.go).
    """
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None
    if isinstance(value, str):
        try:
            go_parse_duration(value)
        except ValueError as exc:
            return str(exc)
        return None
    kind = {bool: "bool", list: "[]interface {}", dict: "map[string]interface {}"}
    return f"Unsupported type: '{kind.get(type(value), type(value).__name__)}'"


# -- prompt_eval_count: the fake's own tokenizer, unlike gemloom's estimator ----------------------

IMAGE_TOKENS = 280  # Gemma 4's default visual token budget per image
AUDIO_SECONDS_PER_TOKEN = 0.040  # Gemma 4's audio encoder: one token per 40 ms
TURN_TOKENS = 5  # <start_of_turn>role\n ... <end_of_turn>\n
_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]|\n|[ \t]+|[^\x00-\x7f]+|[^\sA-Za-z0-9]+")


def _piece_count(piece: str) -> int:
    first = piece[0]
    if first.isascii() and first.isalpha():  # a word, or a run of capitals (acronym, base64)
        return math.ceil(len(piece) / 1.5) if piece.isupper() else 1 + (len(piece) - 1) // 7
    if not first.isascii():
        return math.ceil(len(piece) * 0.7)
    if first in " \t":
        return 0 if piece == " " else 1  # a single space joins the next word
    if first == "\n" or first.isdigit():
        return 1
    return math.ceil(len(piece) / 2)  # punctuation pairs up: '": ', '{"', '),'


def text_count(text: str) -> int:
    """Tokens in text by a word-piece rule of the fake's own.

    Checked once by hand against Gemma 3's tokenizer (the project's calibration file, which
    tests never read): 0.92-1.15x the real count on prose, Python, JSON, base64, hex, German
    and Japanese.
    """
    return sum(_piece_count(p) for p in _PIECES.findall(text))


def _media_bytes(item: str) -> bytes:
    try:
        return base64.b64decode(item, validate=False)
    except (binascii.Error, ValueError):
        return b""


def media_count(item: str) -> int:
    """Tokens of one `images` entry: audio by its duration, anything else as one image."""
    data = _media_bytes(item)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data)) as audio:
                seconds = audio.getnframes() / audio.getframerate()
        except (wave.Error, EOFError):
            seconds = 0.0
        return max(1, math.ceil(seconds / AUDIO_SECONDS_PER_TOKEN))
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        seconds = len(data) * 8 / 128_000  # MP3 at 128 kbit/s
        return max(1, math.ceil(seconds / AUDIO_SECONDS_PER_TOKEN))
    return IMAGE_TOKENS


def prompt_count(body: dict[str, Any]) -> int:
    """prompt_eval_count for a /api/chat body: messages, tool calls, media and tool schemas."""
    total = text_count(json.dumps(body["tools"])) if body.get("tools") else 0
    for message in body.get("messages") or ():
        total += TURN_TOKENS + text_count(message.get("content") or "")
        total += text_count(message.get("thinking") or "")
        for call in message.get("tool_calls") or ():
            total += text_count(json.dumps(call.get("function", call)))
        total += sum(media_count(m) for m in message.get("images") or ())
    return max(1, total)
