"""Chat messages in Ollama's wire form, with images and audio, and their token estimate."""

from __future__ import annotations

import base64
import functools
import json
import math
import operator
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gemloom.errors import GemloomError

Message = dict[str, Any]
Media = bytes | str | Path

CHARS_PER_TOKEN = 3.6  # Gemma on prose; code is denser (gemloom/tokens.py, bench/pack.py)
IMAGE_TOKENS = 280  # Gemma 4's default image budget
AUDIO_TOKENS_PER_SECOND = 25  # one token per 40 ms
AUDIO_MAX_TOKENS = 750  # 30 s per item
MESSAGE_OVERHEAD = 4  # role markers and turn delimiters


def _read_media(item: Media) -> bytes:
    if isinstance(item, bytes):
        return item
    path = Path(item)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GemloomError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def encode_media(item: Media) -> str:
    """Base64 text for an image or audio item given as a path or raw bytes."""
    return base64.b64encode(_read_media(item)).decode("ascii")


def user(text: str, images: Iterable[Media] = (), audio: Iterable[Media] = ()) -> Message:
    """A user message; audio goes first, since Gemma understands it best ahead of the prompt."""
    message: Message = {"role": "user", "content": text}
    media = [encode_media(a) for a in audio] + [encode_media(i) for i in images]
    if media:
        message["images"] = media
    return message


def system(text: str) -> Message:
    """A system message."""
    return {"role": "system", "content": text}


def assistant(text: str, tool_calls: Sequence[Mapping[str, Any]] = ()) -> Message:
    """An assistant message, optionally carrying the tool calls it made."""
    message: Message = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {"function": {"name": c["name"], "arguments": dict(c["arguments"])}} for c in tool_calls
        ]
    return message


def tool_result(name: str, content: str, images: Iterable[Media] = ()) -> Message:
    """The result of a tool call, sent back to the model (with any images it produced)."""
    message: Message = {"role": "tool", "tool_name": name, "content": content}
    if media := [encode_media(i) for i in images]:
        message["images"] = media
    return message


def media_kind(b64: str) -> str:
    """'audio' for WAV or MP3 data, else 'image' (Ollama tells them apart the same way)."""
    head = base64.b64decode(b64[:64] + "=" * (-len(b64[:64]) % 4))
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    return "image"


def _audio_tokens(b64: str) -> int:
    head = base64.b64decode(b64[:64] + "=" * (-len(b64[:64]) % 4))
    size = len(b64) * 3 // 4
    byte_rate = struct.unpack("<I", head[28:32])[0] if head[:4] == b"RIFF" else 16_000
    seconds = max(size - 44, 0) / max(byte_rate, 1)
    return min(math.ceil(seconds * AUDIO_TOKENS_PER_SECOND), AUDIO_MAX_TOKENS)


def media_tokens(b64: str) -> int:
    """Tokens one image or audio item costs."""
    return _audio_tokens(b64) if media_kind(b64) == "audio" else IMAGE_TOKENS


@functools.lru_cache(maxsize=4096)  # a session re-estimates the same history every step
def text_tokens(text: str) -> int:
    """Estimated Gemma tokens in a piece of text, erring high (a low estimate overflows).

    The byte-class estimate is calibrated on code (about 3 characters a token); prose runs
    longer per token, so the flat 3.6 characters a token is the floor.
    """
    from gemloom import tokens  # numpy: loaded at the first estimate, not by every command

    return math.ceil(max(tokens.estimate(text), len(text) / CHARS_PER_TOKEN))


def estimate_tokens(messages: Sequence[Message], tools: Sequence[Mapping] = ()) -> int:
    """Estimated prompt tokens for messages and tool schemas, media included."""
    total = text_tokens(json.dumps(list(tools))) if tools else 0
    return total + sum(map(message_tokens, messages))


def message_tokens(message: Message) -> int:
    """Estimated prompt tokens of one message, media included."""
    total = MESSAGE_OVERHEAD + text_tokens(message.get("content") or "")
    for call in message.get("tool_calls") or ():
        total += text_tokens(json.dumps(call))
    if images := message.get("images"):
        total += sum(map(media_tokens, images))
    return total


class PerItem:
    """Values of the items of a list that grows step by step, each made once while the same
    object stays in the list (its items are never changed in place: a changed one is a new
    object). A list that extends the last one costs one identity check of the old part, in C;
    any other (compacted, forked) is matched item by item, by identity."""

    def __init__(self) -> None:
        self._items: list[Any] = []  # held, so the ids of `_values`' items stay theirs
        self._values: list[Any] = []

    def values(self, items: Sequence[Any], make: Callable[[Any], Any]) -> list[Any]:
        """The value of each item: the remembered one, else `make(item)`."""
        old = self._items
        if len(items) >= len(old) and all(map(operator.is_, old, items)):
            return self._values + [make(item) for item in items[len(old) :]]
        known = {id(item): value for item, value in zip(old, self._values, strict=True)}
        return [known[id(item)] if id(item) in known else make(item) for item in items]

    def remember(self, items: Sequence[Any], values: list[Any]) -> None:
        """Keep these values for the next call (only these items' are kept)."""
        self._items, self._values = list(items), values


class HistoryTokens:
    """`estimate_tokens` of a history that grows step by step, each message estimated once
    while the same object stays in it: for histories whose messages are never changed in place
    (a changed message is a new dict), as an agent's state is. At 400 messages a full estimate
    takes 1.6-2 ms, most of it serializing tool calls again; this takes about 0.17 ms. The tool
    schemas are estimated again only when they are other objects (a tool's schema is made once,
    when the tool is): 14 schemas are 6 KB of JSON to serialize and estimate."""

    def __init__(self) -> None:
        self._known = PerItem()
        self._schemas: tuple[list[Mapping], int] = ([], 0)

    def __call__(self, messages: Sequence[Message], tools: Sequence[Mapping] = ()) -> int:
        """The estimated tokens of the messages and schemas (what `estimate_tokens` returns)."""
        return self._messages(messages) + self._tools(tools)

    def _tools(self, tools: Sequence[Mapping]) -> int:
        known, tokens = self._schemas
        same = len(known) == len(tools) and all(map(operator.is_, known, tools))
        if not same:
            tokens = estimate_tokens([], tools)
            self._schemas = (list(tools), tokens)  # held, so their ids stay theirs
        return tokens

    def _messages(self, messages: Sequence[Message]) -> int:
        tokens = self._known.values(messages, message_tokens)
        self._known.remember(messages, tokens)
        return sum(tokens)


def needed_capabilities(messages: Sequence[Message], tools: Sequence[Mapping] = ()) -> set[str]:
    """Capabilities a model must have to take these messages and tools."""
    needed = {"tools"} if tools else set()
    for message in messages:
        for item in message.get("images") or ():
            needed.add("audio" if media_kind(item) == "audio" else "vision")
    return needed
