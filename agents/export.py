"""A session as Markdown or JSON, for `/export` and `gemloom sessions export`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from gemloom.errors import GemloomError

FORMATS = ("md", "json")
ROLES = {"user": "You", "assistant": "gemloom", "tool": "Tool result"}


class ExportFormatError(GemloomError):
    """An export format gemloom does not write."""

    def __init__(self, name: str):
        super().__init__(f"Unknown export format '{name}': use one of {', '.join(FORMATS)}.")


def render(info: Any, messages: list[dict[str, Any]], fmt: str) -> str:
    """The session in `fmt` ("md" or "json")."""
    if fmt == "md":
        return as_markdown(info, messages)
    if fmt == "json":
        return as_json(info, messages)
    raise ExportFormatError(fmt)


def _media(message: dict[str, Any]) -> dict[str, int]:
    return {kind: len(message[kind]) for kind in ("images", "audio") if message.get(kind)}


def _plain(message: dict[str, Any]) -> dict[str, Any]:
    """A message without its base64 media (counted instead: exports stay readable)."""
    kept = {k: v for k, v in message.items() if k not in ("images", "audio")}
    if media := _media(message):
        kept["media"] = media
    return kept


def as_json(info: Any, messages: list[dict[str, Any]]) -> str:
    """The catalogue row and every message, media counted rather than embedded."""
    body = {"session": asdict(info), "messages": [_plain(m) for m in messages]}
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def as_markdown(info: Any, messages: list[dict[str, Any]]) -> str:
    """A readable transcript: the person's messages, answers, tool calls and their results."""
    when = datetime.fromtimestamp(info.created).strftime("%Y-%m-%d %H:%M")
    lines = [f"# {info.title or '(untitled)'}", "", f"Session `{info.id}`, started {when}."]
    if info.parent:
        lines.append(f"Forked from `{info.parent}`.")
    for message in messages:
        lines += ["", *_message_lines(message)]
    return "\n".join(lines) + "\n"


def _message_lines(message: dict[str, Any]) -> list[str]:
    role = message.get("role", "")
    if role == "system" or role not in ROLES:
        return []
    heading = ROLES[role]
    if role == "tool":
        heading += f" ({message.get('tool_name', '')})"
    lines = [f"## {heading}", ""]
    content = str(message.get("content") or "")
    if role == "tool":
        lines += [_fence(content)]
    elif content:
        lines.append(content)
    if media := _media(message):
        lines.append("*attached: " + ", ".join(f"{n} {k}" for k, n in media.items()) + "*")
    for call in message.get("tool_calls", []):
        fn = call["function"]
        arguments = json.dumps(fn.get("arguments", {}), ensure_ascii=False, indent=2)
        lines += ["", f"Tool call `{fn['name']}`:", "", _fence(arguments, "json")]
    return lines


def _fence(text: str, language: str = "") -> str:
    """A code fence longer than any backtick run inside, so the content cannot close it."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"
