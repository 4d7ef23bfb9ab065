"""Recover tool calls that a model leaked into its answer text (Ollama issue 15315)."""

from __future__ import annotations

import json
import re
from collections.abc import Container
from typing import Any

_CALL = re.compile(r"(?:<\|tool_call\|?>\s*)?call:([A-Za-z_][\w.\-]*)\s*(?=\{)")
_GEMMA_QUOTE = re.compile(r"<\|\"\|>")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")
_TAGS = re.compile(r"</?\|?tool_call\|?>|<tool_call\|>")


def _balanced(text: str, start: int) -> int:
    """Index just past the brace block that opens at `start`, or -1."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _arguments(raw: str) -> dict[str, Any] | None:
    text = _GEMMA_QUOTE.sub('"', raw)
    for candidate in (text, _BARE_KEY.sub(r'\1"\2":', text)):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _call_syntax(text: str) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    calls, spans = [], []
    for match in _CALL.finditer(text):
        end = _balanced(text, match.end())
        args = _arguments(text[match.end() : end]) if end > 0 else None
        if args is not None:
            calls.append({"name": match.group(1), "arguments": args})
            spans.append((match.start(), end))
    return calls, spans


def _json_objects(text: str, tools: Container[str]) -> tuple[list[dict[str, Any]], list]:
    calls, spans = [], []
    for start in (m.start() for m in re.finditer(r"\{", text)):
        if any(a <= start < b for a, b in spans):
            continue
        end = _balanced(text, start)
        value = _arguments(text[start:end]) if end > 0 else None
        if not value or value.get("name") not in tools:
            continue
        args = value.get("arguments", value.get("parameters", {}))
        if isinstance(args, str):
            args = _arguments(args) or {}
        calls.append({"name": value["name"], "arguments": args})
        spans.append((start, end))
    return calls, spans


def extract_leaked_calls(text: str, tools: Container[str]) -> tuple[list[dict[str, Any]], str]:
    """Tool calls written into the text, and the text with them removed.

    `call:NAME{...}` is taken whatever the name (an unknown name gets the usual error);
    a bare JSON object only when its "name" is a known tool, since answers may contain JSON.
    """
    calls, spans = _call_syntax(text)
    if not calls:
        calls, spans = _json_objects(text, tools)
    if not calls:
        return [], text
    kept, last = [], 0
    for start, end in spans:
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    remainder = _TAGS.sub("", "".join(kept))
    remainder = re.sub(r"```(?:json)?\s*```", "", remainder).strip()
    return calls, remainder
