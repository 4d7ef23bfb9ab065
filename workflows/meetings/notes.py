"""Meeting notes: the pydantic schema the model fills in, and its Markdown rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

_CLOCK = re.compile(r"^\[?(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,]\d+)?\]?$")


def normalise_stamp(value: str) -> str:
    """'1:02' or '[0:01:02.5]' -> '00:01:02'; anything else is kept as said."""
    match = _CLOCK.match(str(value).strip())
    if not match:
        return str(value).strip()
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


class Cited(BaseModel):
    """Something said at a point of the recording."""

    timestamp: str = Field(description="HH:MM:SS of the transcript line it comes from")
    # set by the citation check, never asked of the model (kept out of the schema)
    unverified: SkipJsonSchema[str | None] = None

    @field_validator("timestamp")
    @classmethod
    def _stamp(cls, value: str) -> str:
        return normalise_stamp(value)


class Decision(Cited):
    """A decision the meeting took."""

    decision: str


class ActionItem(Cited):
    """Work someone agreed to do."""

    task: str
    owner: str | None = Field(None, description="who does it, only if said")
    due: str | None = Field(None, description="due date, only if said")
    quote: str = Field(description="the words in the transcript that assign it")


class Question(Cited):
    """A question left open."""

    question: str


class Topic(Cited):
    """A subject the meeting discussed, cited where it starts."""

    topic: str


class Draft(BaseModel):
    """What the model writes for a meeting or a part of it."""

    title: str
    summary: str
    decisions: list[Decision] = []
    action_items: list[ActionItem] = []
    open_questions: list[Question] = []
    topics: list[Topic] = []


class Notes(Draft):
    """The finished notes, with what had to be cut to fit the model's context."""

    cut: list[str] = Field(default_factory=list, description="what was left out, and why")
    notices: list[str] = Field(default_factory=list, description="what the reader should know")


@dataclass(frozen=True)
class NoteItem:
    """A decision or action item with its provenance, for the memory store."""

    kind: str
    text: str
    timestamp: str
    source: str
    file_hash: str


def note_items(notes: Notes, source: str, file_hash: str) -> list[NoteItem]:
    """The decisions and action items of the notes, each with where it came from."""
    items = [
        NoteItem("decision", d.decision, d.timestamp, source, file_hash) for d in notes.decisions
    ]
    for a in notes.action_items:
        text = (
            a.task
            + (f" (owner: {a.owner})" if a.owner else "")
            + (f" (due: {a.due})" if a.due else "")
        )
        items.append(NoteItem("action_item", text, a.timestamp, source, file_hash))
    return items


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"## {title}", "", *(lines or ["- none"]), ""]


def _cited(notes: Notes) -> list[Cited]:
    return [*notes.decisions, *notes.action_items, *notes.open_questions, *notes.topics]


def _flag(item: Cited) -> str:
    return f" *(unverified: {item.unverified})*" if item.unverified else ""


def _action(a: ActionItem) -> str:
    who = f" — **{a.owner}**" if a.owner else ""
    due = f", due {a.due}" if a.due else ""
    quote = f' ("{a.quote}")' if a.quote else ""
    return f"- [ ] [{a.timestamp}] {a.task}{who}{due}{quote}{_flag(a)}"


def to_markdown(notes: Notes, source: str = "", duration: str = "", path: str = "") -> str:
    """The notes as a Markdown document."""
    meta = " · ".join(x for x in (source, duration, path and f"transcribed: {path}") if x)
    lines = [f"# {notes.title}", ""] + ([f"*{meta}*", ""] if meta else [])
    for cut in notes.cut:
        lines += [f"> **Cut:** {cut}", ""]
    for notice in notes.notices:
        lines += [f"> **Note:** {notice}", ""]
    if flagged := sum(bool(i.unverified) for i in _cited(notes)):
        lines += [f"> **Unverified:** {flagged} citation(s) could not be checked against the "
                  "transcript; they are marked below.", ""]  # fmt: skip
    lines += _section("Summary", [notes.summary])
    decisions = [f"- [{d.timestamp}] {d.decision}{_flag(d)}" for d in notes.decisions]
    lines += _section("Decisions", decisions)
    lines += _section("Action items", [_action(a) for a in notes.action_items])
    questions = [f"- [{q.timestamp}] {q.question}{_flag(q)}" for q in notes.open_questions]
    lines += _section("Open questions", questions)
    lines += _section("Topics", [f"- [{t.timestamp}] {t.topic}{_flag(t)}" for t in notes.topics])
    return "\n".join(lines).rstrip() + "\n"
