"""Gemma 4's `call:NAME{key:value}` tool-call syntax, read as Ollama's gemma4 parser reads it.

A port of `parseGemma4ToolCall` and its repairs in ollama/ollama `model/parsers/gemma4.go`:
strings are `<|"|>...<|"|>` (any text inside, newlines and quotes included), keys are bare,
JSON-quoted strings pass through, and a few known model slips are repaired (single-quoted
values, an unclosed last string, a raw string value where the schema says string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

STRING = '<|"|>'
_QUOTED = re.compile(r'<\|"\|>(.*?)<\|"\|>', re.DOTALL)
Schemas = Sequence[Mapping[str, Any]]


def _is_key_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _trim_right(s: str) -> int:
    return len(s.rstrip())


def json_string_end(s: str, start: int) -> int:
    """Index just past the JSON string opening at `start`, or -1 when it never closes."""
    escaped = False
    for i in range(start + 1, len(s)):
        if s[i] == '"' and not escaped:
            return i + 1
        escaped = s[i] == "\\" and not escaped
    return -1


def _quote_bare_keys(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == '"' and (end := json_string_end(s, i)) != -1:
            out.append(s[i:end])
            i = end
            continue
        out.append(s[i])
        i += 1
        if s[i - 1] not in "{,":
            continue
        space = _skip_space(s, i)
        out.append(s[i:space])
        i = key_end = space
        while key_end < len(s) and _is_key_char(s[key_end]):
            key_end += 1
        if i < key_end < len(s) and s[key_end] == ":":
            out.append(f'"{s[i:key_end]}":')
            i = key_end + 1
    return "".join(out)


def args_to_json(s: str) -> str:
    """Gemma 4 argument text as JSON text (Ollama's gemma4ArgsToJSON)."""
    strings: list[str] = []

    def hold(match: re.Match) -> str:
        strings.append(match.group(1))
        return f"\x00{chr(len(strings) - 1)}\x00"

    text = _quote_bare_keys(_QUOTED.sub(hold, s))
    for index, value in enumerate(strings):
        text = text.replace(f"\x00{chr(index)}\x00", json.dumps(value, ensure_ascii=False))
    return text


def _loads_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_call(content: str, schemas: Schemas = ()) -> tuple[str, dict[str, Any]] | None:
    """`call:NAME{...}` as (name, arguments), or None where Ollama's parser fails too."""
    if not content.startswith("call:") or (brace := content.find("{")) == -1:
        return None
    name, raw = content[5:brace].strip(), content[brace:]
    if (args := _loads_object(args_to_json(raw))) is not None:
        return name, args
    for candidate in repair_candidates(raw, name, schemas):
        if (args := _loads_object(args_to_json(candidate))) is not None:
            return name, args
    return None


# -- repairs (gemma4RepairCandidates and friends) --------------------------------------


def repair_candidates(raw: str, name: str, schemas: Schemas = ()) -> list[str]:
    """The few repaired argument texts worth trying after strict parsing fails."""
    found: list[str] = []

    def add(candidate: str, close: bool) -> None:
        repaired = repair_missing_delimiter(repair_single_quoted(candidate))
        if close or repaired != candidate:
            repaired = repair_missing_close(repaired)
        if repaired not in found:
            found.append(repaired)

    add(raw, False)
    if (wrapped := repair_raw_terminal_string(raw, name, schemas)) is not None:
        add(wrapped, True)
    return found


def repair_missing_delimiter(s: str) -> str:
    """Close an unbalanced `<|"|>`, before a final `}` or `]` when there is one."""
    if s.count(STRING) % 2 == 0:
        return s
    at = _trim_right(s)
    if at > 0 and s[at - 1] in "}]":
        at -= 1
    return s[:at] + STRING + s[at:]


def repair_missing_close(s: str) -> str:
    """Add the object's final `}` when it is missing."""
    end = _trim_right(s)
    if not s.lstrip().startswith("{") or (end > 0 and s[end - 1] == "}"):
        return s
    return s[:end] + "}" + s[end:]


def repair_single_quoted(s: str) -> str:
    """Single-quoted values become `<|"|>` strings; a stray `<|"|>` right after is dropped."""
    out, i = [], 0
    while i < len(s):
        if s.startswith(STRING, i):
            end = s.find(STRING, i + len(STRING))
            if end == -1:
                out.append(s[i:])
                break
            out.append(s[i : end + len(STRING)])
            i = end + len(STRING)
            continue
        if s[i] == '"' and (end := json_string_end(s, i)) != -1:
            out.append(s[i:end])
            i = end
            continue
        out.append(s[i])
        i += 1
        if s[i - 1] != ":":
            continue
        space = _skip_space(s, i)
        out.append(s[i:space])
        i = space
        if i < len(s) and s[i] == "'" and (quoted := _single_quoted(s, i)) is not None:
            value, i = quoted
            out.append(STRING + value + STRING)
            if s.startswith(STRING, i):
                i += len(STRING)
    return "".join(out)


def _single_quoted(s: str, start: int) -> tuple[str, int] | None:
    escaped = False
    for i in range(start + 1, len(s)):
        if s[i] == "'" and not escaped:
            return s[start + 1 : i], i + 1
        escaped = s[i] == "\\" and not escaped
    return None


def _properties(name: str, schemas: Schemas) -> dict[str, Any] | None:
    for schema in schemas:
        function = schema.get("function", schema)
        if function.get("name") == name:
            return dict((function.get("parameters") or {}).get("properties") or {})
    return None


def _accepts_string(prop: Mapping[str, Any]) -> bool:
    kinds = prop.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if any(str(k).lower() == "string" for k in kinds):
        return True
    return any(_accepts_string(p) for p in prop.get("anyOf", ()) if isinstance(p, Mapping))


def repair_raw_terminal_string(raw: str, name: str, schemas: Schemas) -> str | None:
    """Wrap an unquoted value in `<|"|>` when the tool's schema says it is a string."""
    props = _properties(name, schemas)
    if not props:
        return None
    for key, prop in props.items():
        accepted = isinstance(prop, Mapping) and _accepts_string(prop)
        if accepted and (repaired := _wrap_raw_value(raw, key, props)) is not None:
            return repaired
    return None


def _wrap_raw_value(s: str, key: str, props: Mapping[str, Any]) -> str | None:
    for start in _value_starts(s, key):
        check = _skip_space(s, start)
        if check < len(s) and _starts_structured(s, check):
            continue
        end = _raw_value_end(s, start, props)
        return s[:start] + STRING + s[start:end] + STRING + s[end:]
    return None


def _value_starts(s: str, key: str) -> Iterator[int]:
    """Where the values of `key` start, skipping over strings of both kinds."""
    i = 0
    while i < len(s):
        if s.startswith(STRING, i):
            end = s.find(STRING, i + len(STRING))
            if end == -1:
                return
            i = end + len(STRING)
            continue
        if s[i] == '"' and (end := json_string_end(s, i)) != -1:
            i = end
            continue
        if s[i] in "{,":
            key_start = _skip_space(s, i + 1)
            colon = _skip_space(s, key_start + len(key))
            if s.startswith(key, key_start) and colon < len(s) and s[colon] == ":":
                yield colon + 1
        i += 1


def _raw_value_end(s: str, start: int, props: Mapping[str, Any]) -> int:
    for i in range(start, len(s)):
        if s[i] != ",":
            continue
        key_start = key_end = _skip_space(s, i + 1)
        while key_end < len(s) and _is_key_char(s[key_end]):
            key_end += 1
        colon = _skip_space(s, key_end)
        is_key = key_end > key_start and colon < len(s) and s[colon] == ":"
        if is_key and s[key_start:key_end] in props:
            return i
    end = _trim_right(s)
    return end - 1 if end > start and s[end - 1] == "}" else len(s)


def _starts_structured(s: str, pos: int) -> bool:
    return s.startswith(STRING, pos) or s[pos] in "'\"{[-0123456789tfn"
