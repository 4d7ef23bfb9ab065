"""Meeting notes: the pydantic schema the model fills in, and its Markdown rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, Field, field_validator
from pydantic.fields import FieldInfo
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


class MeetingDecision(Cited):
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


class Point(Cited):
    """One cited point of a template's section."""

    point: str


class Sheet(BaseModel):
    """What every template's notes have: a title and a summary; its sections follow."""

    title: str
    summary: str


class Draft(Sheet):
    """What the model writes for a meeting or a part of it (the general template)."""

    decisions: list[MeetingDecision] = []
    action_items: list[ActionItem] = []
    open_questions: list[Question] = []
    topics: list[Topic] = []


class Finished(Sheet):
    """What the pipeline adds to any template's draft: cuts and notices for the reader."""

    cut: list[str] = Field(default_factory=list, description="what was left out, and why")
    notices: list[str] = Field(default_factory=list, description="what the reader should know")


class Notes(Draft, Finished):
    """The finished notes, with what had to be cut to fit the model's context."""


EXTRA = frozenset(Finished.model_fields) - frozenset(Sheet.model_fields)  # cut, notices


@cache
def notes_model(draft: type[Sheet]) -> type[Finished]:
    """The finished-notes model of a template's draft schema (Notes for Draft)."""
    if draft is Draft:
        return Notes
    return type(f"{draft.__name__}Notes", (draft, Finished), {"__doc__": Finished.__doc__})


def cited_items(notes: BaseModel) -> list[Cited]:
    """Every cited item of the notes, in the order of their sections."""
    return [
        item
        for name in type(notes).model_fields
        if isinstance(value := getattr(notes, name), list)
        for item in value
        if isinstance(item, Cited)
    ]


@dataclass(frozen=True)
class NoteItem:
    """A decision or action item with its provenance, for the memory store."""

    kind: str
    text: str
    timestamp: str
    source: str
    file_hash: str


def note_items(notes: Sheet, source: str, file_hash: str) -> list[NoteItem]:
    """The decisions and action items of the notes, each with where it came from."""
    cited = cited_items(notes)
    items = [
        NoteItem("decision", d.decision, d.timestamp, source, file_hash)
        for d in cited
        if isinstance(d, MeetingDecision)
    ]
    for a in (a for a in cited if isinstance(a, ActionItem)):
        text = (
            a.task
            + (f" (owner: {a.owner})" if a.owner else "")
            + (f" (due: {a.due})" if a.due else "")
        )
        items.append(NoteItem("action_item", text, a.timestamp, source, file_hash))
    return items


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"## {title}", "", *(lines or ["- none"]), ""]


def _flag(item: Cited) -> str:
    return f" *(unverified: {item.unverified})*" if item.unverified else ""


def _action(a: ActionItem) -> str:
    who = f" — **{a.owner}**" if a.owner else ""
    due = f", due {a.due}" if a.due else ""
    quote = f' ("{a.quote}")' if a.quote else ""
    return f"- [ ] [{a.timestamp}] {a.task}{who}{due}{quote}{_flag(a)}"


def _label(name: str, info: FieldInfo) -> str:
    return info.title or name.replace("_", " ").capitalize()


def _item(item: object) -> str:
    """One list entry: an action item as a checkbox, any other cited item by its fields."""
    if isinstance(item, ActionItem):
        return _action(item)
    if not isinstance(item, Cited):
        return f"- {item}"
    fields = item.model_dump(exclude={"timestamp", "unverified"})
    texts = [(k, v) for k, v in fields.items() if v not in (None, "", [])]
    head = str(texts[0][1]) if texts else ""
    rest = "".join(
        f" — {_label(k, type(item).model_fields[k])}: {', '.join(v) if isinstance(v, list) else v}"
        for k, v in texts[1:]
    )
    return f"- [{item.timestamp}] {head}{rest}{_flag(item)}"


def _sections(notes: BaseModel) -> list[str]:
    """Every section of the template after the title, in the schema's order."""
    lines: list[str] = []
    for name, info in type(notes).model_fields.items():
        if name == "title" or name in EXTRA:
            continue
        value = getattr(notes, name)
        body = [_item(v) for v in value] if isinstance(value, list) else [str(value or "")]
        lines += _section(_label(name, info), [b for b in body if b])
    return lines


def to_markdown(notes: Sheet, source: str = "", duration: str = "", path: str = "") -> str:
    """The notes as a Markdown document whose sections follow the template's schema."""
    meta = " · ".join(x for x in (source, duration, path and f"transcribed: {path}") if x)
    lines = [f"# {notes.title}", ""] + ([f"*{meta}*", ""] if meta else [])
    for cut in getattr(notes, "cut", []):
        lines += [f"> **Cut:** {cut}", ""]
    for notice in getattr(notes, "notices", []):
        lines += [f"> **Note:** {notice}", ""]
    if flagged := sum(bool(i.unverified) for i in cited_items(notes)):
        lines += [f"> **Unverified:** {flagged} citation(s) could not be checked against the "
                  "transcript; they are marked below.", ""]  # fmt: skip
    return "\n".join(lines + _sections(notes)).rstrip() + "\n"
