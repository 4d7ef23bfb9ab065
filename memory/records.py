"""Memory records with their provenance, and how they map to Chroma metadata."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from gemloom.memory.errors import BadMemoryInput

MAX_TEXT_CHARS = 100_000  # above this a text is refused, not chunked
CHUNK_CHARS = 1_500  # about 350 tokens: longer texts are stored as linked parts
_AGO = re.compile(r"^(\d+)\s*([hdw])$")


class Kind(StrEnum):
    """What a memory is."""

    FACT = "fact"
    MEETING = "meeting"
    DECISION = "decision"
    ACTION_ITEM = "action_item"
    REVIEW_FINDING = "review_finding"
    NOTE = "note"


class Source(BaseModel):
    """Where a memory came from; every field is optional."""

    path: str | None = None
    content_hash: str | None = None
    meeting_at: datetime | None = None
    screenshot_hash: str | None = None
    commit: str | None = None
    session_id: str | None = None

    def describe(self) -> str:
        """A short citation such as 'file a.py (sha256 1f2e..), commit 3c4d'."""
        parts = []
        if self.path:
            short = f" ({self.content_hash[:12]})" if self.content_hash else ""
            parts.append(f"file {self.path}{short}")
        elif self.content_hash:
            parts.append(f"content {self.content_hash[:12]}")
        if self.meeting_at:
            parts.append(f"meeting {self.meeting_at.isoformat(timespec='minutes')}")
        if self.screenshot_hash:
            parts.append(f"screenshot {self.screenshot_hash[:12]}")
        if self.commit:
            parts.append(f"commit {self.commit[:12]}")
        if self.session_id:
            parts.append(f"session {self.session_id}")
        return ", ".join(parts) or "no recorded source"


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def text_hash(text: str) -> str:
    """The content hash that detects exact duplicates (whitespace-normalised)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


class Record(BaseModel):
    """One memory: its text, what kind it is, where it came from and when."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    text: str
    kind: Kind = Kind.NOTE
    namespace: str = "default"
    tags: list[str] = Field(default_factory=list)
    source: Source = Field(default_factory=Source)
    created: datetime = Field(default_factory=now)
    updated: datetime | None = None
    deleted: bool = False
    part: str | None = None  # "2/5" when a long text was split
    group: str | None = None  # id shared by the parts of one long text
    hash: str = ""

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text of a memory cannot be empty")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return sorted({t.strip() for t in value if t.strip()})

    def model_post_init(self, context: Any) -> None:
        self.hash = self.hash or text_hash(self.text)

    def metadata(self) -> dict[str, Any]:
        """Flat Chroma metadata; the full record, text included, rides along as JSON.

        The text lives here rather than as Chroma's document: Chroma indexes every document
        for full-text search, which no recall uses and which was a fifth of the cost of a write.
        Unset fields are left out (they read back as their defaults, None): Chroma indexes every
        string value, and a 500-byte record was about a third of the CPU of a write.
        """
        meta: dict[str, Any] = {
            "kind": self.kind.value,
            "namespace": self.namespace,
            "hash": self.hash,
            "created_ts": self.created.timestamp(),
            "deleted": self.deleted,
            "record": self.model_dump_json(exclude_none=True),
        }
        if self.tags:
            meta["tags"] = self.tags
        return meta

    @classmethod
    def from_chroma(cls, text: str | None, metadata: dict[str, Any]) -> Record:
        """Rebuild a record from what metadata() stored (older stores keep the text apart)."""
        data = json.loads(metadata["record"])
        if "text" not in data:  # an older store: Chroma's document holds the text
            data["text"] = text
        return cls.model_validate(data)

    def cite(self) -> str:
        """One line for the model: id, kind, date, source and tags."""
        tags = f" tags={','.join(self.tags)}" if self.tags else ""
        part = f" part {self.part}" if self.part else ""
        return (
            f"[{self.id}] {self.kind.value} {self.created.date().isoformat()} "
            f"from {self.source.describe()}{part}{tags}"
        )


class Hit(BaseModel):
    """A recalled record and how far it is from the query (cosine distance, 0 = same)."""

    record: Record
    distance: float


def check_text(text: str) -> str:
    """The text stripped, or BadMemoryInput when it is empty or too long to store."""
    stripped = (text or "").strip()
    if not stripped:
        raise BadMemoryInput("Cannot remember an empty text: give the fact to store.")
    if len(stripped) > MAX_TEXT_CHARS:
        raise BadMemoryInput(
            f"The text is {len(stripped):,} characters; the limit is {MAX_TEXT_CHARS:,}: "
            "store a summary, or the file's path and hash as the source."
        )
    return stripped


def split_text(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Split at sentence and paragraph boundaries (words if need be) into pieces <= limit."""
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
        units += textwrap.wrap(sentence, limit) if len(sentence) > limit else [sentence.strip()]
    pieces = [""]
    for unit in filter(None, units):
        if pieces[-1] and len(pieces[-1]) + 1 + len(unit) > limit:
            pieces.append(unit)
        else:
            pieces[-1] = f"{pieces[-1]} {unit}".strip()
    return [p for p in pieces if p]


def parse_since(value: str | None) -> datetime | None:
    """An ISO date or time, or an age such as 12h, 7d, 2w, as an aware datetime."""
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    if match := _AGO.match(text):
        unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return now() - timedelta(**{unit: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise BadMemoryInput(
            f"'since' must be an ISO date such as 2026-05-01 or an age such as 7d, not {value!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(str(value).strip().lower().replace(" ", "_"))
    except ValueError:
        raise BadMemoryInput(
            f"Unknown memory kind '{value}': use one of {', '.join(k.value for k in Kind)}."
        ) from None
