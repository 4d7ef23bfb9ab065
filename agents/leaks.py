"""Recover tool calls a model leaked into its answer text (Ollama issues 15315 and 15539).

Only the model's own answer is read, and only calls to offered tools are taken. A call whose
text also appears in a tool result is a quotation of what a tool returned (a file the model
read, a web page) and stays text: what a tool returns can never become a call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gemloom.agents.call_syntax import STRING, Schemas, json_string_end, parse_call

OPEN, CLOSE = "<|tool_call>", "<tool_call|>"
_BARE = re.compile(r"(?<![\w.:-])call:\s*([A-Za-z_][\w.\-]*)\s*\{")
_NAME_KEYS = ("name", "tool", "function", "tool_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input")
_NOISE = re.compile(r"<\|tool_call>|<tool_call\|>|<\|tool_response>|</?tool_call>")
_EMPTY_FENCE = re.compile(r"```[\w-]*\s*```")


@dataclass
class Leak:
    """One call found in the text, with where it was."""

    name: str
    arguments: dict[str, Any]
    start: int
    end: int
    raw: str
    """The call's own text (tags and fences aside), to compare with tool results."""


def _names(schemas: Schemas) -> set[str]:
    return {s.get("function", s).get("name", "") for s in schemas}


def _gemma_block_end(text: str, start: int) -> int:
    """Index past the `{...}` opening at `start` (strings of both kinds skipped), or -1."""
    depth, i = 0, start
    while i < len(text):
        if text.startswith(STRING, i):
            close = text.find(STRING, i + len(STRING))
            if close == -1:
                return -1
            i = close + len(STRING)
            continue
        ch = text[i]
        if ch == '"' and (end := json_string_end(text, i)) != -1:
            i = end
            continue
        depth += (ch == "{") - (ch == "}")
        i += 1
        if depth == 0:
            return i
    return -1


def _gemma_calls(text: str, schemas: Schemas) -> list[Leak]:
    """`<|tool_call>call:NAME{...}<tool_call|>` blocks, and bare `call:NAME{...}` text."""
    found: list[Leak] = []
    i = 0
    while (opened := text.find(OPEN, i)) != -1:  # as Ollama: up to the close tag, or the end
        body = opened + len(OPEN)
        close = text.find(CLOSE, body)
        end = close + len(CLOSE) if close != -1 else len(text)
        block = text[body : close if close != -1 else end].strip()
        if parsed := parse_call(block, schemas):
            found.append(Leak(*parsed, opened, end, block))
        i = end
    for match in _BARE.finditer(text):
        if any(f.start <= match.start() < f.end for f in found):
            continue
        brace = match.end() - 1
        end = _gemma_block_end(text, brace)
        end = len(text) if end == -1 else end  # unclosed: Ollama flushes it at the end
        block = f"call:{match.group(1)}" + text[brace:end]
        if parsed := parse_call(block, schemas):
            found.append(Leak(*parsed, match.start(), end, text[match.start() : end]))
    return sorted(found, key=lambda f: f.start)


def _as_call(value: Any, names: set[str]) -> tuple[str, dict[str, Any]] | None:
    """A JSON object naming an offered tool under tool/name/function, with its arguments."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):  # OpenAI's {"type": "function", "function": {..}}
        return _as_call(value["function"], names)
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    key = next((k for k in _ARG_KEYS if k in value), None)
    if name not in names or key is None:
        return None
    args = value[key]
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except ValueError:
            return None
    return (name, args) if isinstance(args, dict) else None


def _json_calls(text: str, names: set[str]) -> list[Leak]:
    found: list[Leak] = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        if found and match.start() < found[-1].end:
            continue
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        items = value if isinstance(value, list) else [value]
        calls = [c for item in items if (c := _as_call(item, names))]
        if calls and len(calls) == len(items):
            found += [Leak(*c, match.start(), end, text[match.start() : end]) for c in calls]
    return found


def _quoted(leak: Leak, results: Sequence[str]) -> bool:
    raw = " ".join(leak.raw.split())
    return bool(raw) and any(raw in r for r in results)


def extract_leaked_calls(
    text: str, schemas: Schemas, tool_results: Iterable[str] = ()
) -> tuple[list[dict[str, Any]], str]:
    """Tool calls written into the model's answer, and the answer with them removed."""
    names = _names(schemas)
    leaks = [c for c in _gemma_calls(text, schemas) if c.name in names]
    if not leaks:
        leaks = _json_calls(text, names)
    results = [" ".join(r.split()) for r in tool_results if r]  # spacing may differ
    leaks = [c for c in leaks if not _quoted(c, results)]
    if not leaks:
        return [], text
    kept, last = [], 0
    for leak in leaks:
        kept.append(text[last : leak.start])
        last = max(last, leak.end)
    kept.append(text[last:])
    remainder = _EMPTY_FENCE.sub("", _NOISE.sub("", "".join(kept)))
    return [{"name": c.name, "arguments": c.arguments} for c in leaks], remainder.strip()


def tool_result_texts(messages: Iterable[Mapping[str, Any]]) -> list[str]:
    """The contents of every tool result in a history (what must never become a call)."""
    return [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
