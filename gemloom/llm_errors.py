"""Ollama's error answers, in both server generations, as one-line gemloom errors.

What heals on a retry (a connection, 502/503/504, "server busy") is marked retryable; a load
failure, an out-of-memory, a bad schema or an overflow fails at once.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

import ollama

from gemloom.errors import (
    CapabilityMissing,
    GemloomError,
    ModelLoadFailed,
    ModelNotFound,
    ServerContextOverflow,
    ServerError,
)

RETRY_STATUSES = frozenset({502, 503, 504})
# llm/status.go outOfMemorySubstrings: what Ollama itself treats as out of memory
OUT_OF_MEMORY = (
    "out of memory",
    "out of device memory",
    "cudamalloc failed",
    "hipmalloc failed",
    "failed to allocate",
    "allocation failed",
    "not enough memory",
    "insufficient memory",
    "requires more system memory",
)
CAPABILITY_WORDS = {
    "thinking": "thinking",
    "tools": "tools",
    "vision": "vision",
    "audio": "audio",
    "embed": "embedding",
}


@dataclass
class Request:
    """What gemloom sent, so an error can name the figures that matter."""

    model: str
    num_ctx: int = 0
    estimate: int = 0


def error_text(exc: ollama.ResponseError) -> tuple[str, dict[str, Any]]:
    """The error's first line, and llama-server's JSON error object when v0.30+ passed one."""
    raw: Any = exc.error
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            raw = json.loads(raw)
    if isinstance(raw, dict):
        inner = raw.get("error", raw)
        inner = inner if isinstance(inner, dict) else {"message": str(inner)}
        return str(inner.get("message", "")).strip(), inner
    text = str(raw or "unknown error").strip()
    return (text.splitlines() or ["unknown error"])[0], {}


def overflow(text: str, body: dict[str, Any], sent: Request) -> ServerContextOverflow | None:
    """A server-side context overflow of either generation, with the token counts."""
    lowered = text.lower()
    if body.get("type") == "exceed_context_size_error" or "exceeds the available context" in (
        lowered
    ):
        counts = [int(n) for n in re.findall(r"\((\d+) tokens\)", text)]
        needed = int(body.get("n_prompt_tokens") or (counts[0] if counts else 0))
        limit = int(body.get("n_ctx") or (counts[1] if len(counts) > 1 else sent.num_ctx))
        return ServerContextOverflow(sent.model, needed, limit, sent.estimate, bool(needed))
    if "input length exceeds the context length" in lowered:  # v0.2x runner: no counts
        return ServerContextOverflow(sent.model, 0, sent.num_ctx, sent.estimate, False)
    return None


def translate_response(exc: ollama.ResponseError, sent: Request) -> GemloomError:
    """One gemloom error for an HTTP error answer or an {"error"} line in a stream."""
    text, body = error_text(exc)
    lowered = text.lower()
    if exc.status_code == 404 or ("model" in lowered and "not found" in lowered):
        return ModelNotFound(sent.model or "?")
    if "does not support" in lowered:
        word = next((w for w in CAPABILITY_WORDS if w in lowered), lowered)
        return CapabilityMissing(sent.model, CAPABILITY_WORDS.get(word, word))
    if found := overflow(text, body, sent):
        return found
    if any(needle in lowered for needle in OUT_OF_MEMORY):
        return ModelLoadFailed(
            f"Ollama ran out of memory for '{sent.model}' at num_ctx {sent.num_ctx:,} ({text}): "
            "stop other models (`ollama stop`), shorten the input or use a smaller model."
        )
    if "unable to load" in lowered or "error loading model" in lowered:
        return ModelLoadFailed(
            f"Ollama could not load '{sent.model}' ({text}): free GPU/system memory "
            "(`ollama ps`, `ollama stop`) or use a smaller model."
        )
    if "model runner has unexpectedly stopped" in lowered:
        return ServerError(
            f"Ollama's runner for '{sent.model}' stopped unexpectedly (resource limits or an "
            "internal error): see the `ollama serve` log."
        )
    if "invalid format" in lowered or "schema" in lowered:
        return ServerError(f"Ollama refused the JSON schema for '{sent.model}': {text}.")
    err = ServerError(f"Ollama answered with an error ({exc.status_code}): {text}.")
    err.retryable = exc.status_code in RETRY_STATUSES or "server busy" in lowered
    return err
