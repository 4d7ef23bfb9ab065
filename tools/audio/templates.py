"""Meeting-notes templates: a pydantic schema the model fills in, plus instructions for it.

Six are built in (general, standup, one-on-one, retro, interview, lecture). Users add their own
as TOML files in the config folder's `templates/` (see `templates_path()`); a file's stem is its
name, and a file named like a built-in replaces it. Every template has a title and a summary;
its sections follow, in order, and the Markdown notes show them in that order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from gemloom.errors import ExitCode, GemloomError
from gemloom.settings import templates_path
from gemloom.tools.audio.notes import (
    EXTRA,
    ActionItem,
    Cited,
    Draft,
    MeetingDecision,
    Point,
    Question,
    Sheet,
    Topic,
)

DEFAULT = "general"


class TemplateError(GemloomError):
    """A template is unknown, or its file is not a valid template."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Template:
    """A kind of meeting: the schema its notes follow and what the model is told about it."""

    name: str
    description: str
    instructions: str
    schema: type[Sheet]
    origin: str = "built-in"


class Update(Cited):
    """What one person said at a stand-up."""

    person: str = Field(description="who gave this update: a speaker or a name said")
    yesterday: str = Field("", description="what they did since the last stand-up")
    today: str = Field("", description="what they will do next")
    blockers: str = Field("", description="what stops them, if they said")


class Standup(Sheet):
    """Stand-up notes: one update per person."""

    updates: list[Update] = []
    action_items: list[ActionItem] = []


class OneOnOne(Sheet):
    """Notes of a one-on-one conversation."""

    topics: list[Topic] = []
    feedback: list[Point] = Field([], title="Feedback")
    decisions: list[MeetingDecision] = []
    action_items: list[ActionItem] = []
    open_questions: list[Question] = []


class Retro(Sheet):
    """Notes of a retrospective."""

    went_well: list[Point] = Field([], title="What went well")
    went_wrong: list[Point] = Field([], title="What did not go well")
    decisions: list[MeetingDecision] = []
    action_items: list[ActionItem] = []


class Interview(Sheet):
    """Notes of an interview."""

    questions_asked: list[Point] = Field([], title="Questions asked")
    strengths: list[Point] = []
    concerns: list[Point] = []
    open_questions: list[Question] = []
    action_items: list[ActionItem] = Field([], title="Next steps")


class Lecture(Sheet):
    """Notes of a lecture or talk."""

    key_points: list[Point] = Field([], title="Key points")
    definitions: list[Point] = []
    audience_questions: list[Question] = Field([], title="Questions from the audience")
    action_items: list[ActionItem] = Field([], title="Assignments")


BUILT_IN = {
    t.name: t
    for t in (
        Template("general", "any meeting: decisions, action items, questions, topics", "", Draft),
        Template(
            "standup",
            "stand-up: per person yesterday, today, blockers",
            " This is a stand-up meeting: give one update per person who spoke, with what they "
            "did, what they will do and what blocks them, each in their own words.",
            Standup,
        ),
        Template(
            "one-on-one",
            "one-on-one: topics, feedback, agreements",
            " This is a one-on-one conversation between two people: note the topics raised, "
            "feedback given in either direction, what was agreed and who follows up.",
            OneOnOne,
        ),
        Template(
            "retro",
            "retrospective: what went well, what did not, actions",
            " This is a retrospective: list what went well and what did not, as the people "
            "said them, and the actions agreed to improve.",
            Retro,
        ),
        Template(
            "interview",
            "interview: questions, strengths, concerns, next steps",
            " This is an interview: list the questions asked, the strengths and concerns the "
            "answers showed (only what was said), and the agreed next steps.",
            Interview,
        ),
        Template(
            "lecture",
            "lecture: key points, definitions, audience questions, assignments",
            " This is a lecture: list its key points in order, the terms it defines with their "
            "meaning, the audience's questions and any assignment given.",
            Lecture,
        ),
    )
}

KINDS: dict[str, type] = {
    "text": str,
    "points": Point,
    "decisions": MeetingDecision,
    "actions": ActionItem,
    "questions": Question,
    "topics": Topic,
}


class SectionFile(BaseModel):
    """One `[[sections]]` table of a template file."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["text", "points", "decisions", "actions", "questions", "topics"]
    title: str | None = None
    description: str | None = None

    @field_validator("key")
    @classmethod
    def _free(cls, key: str) -> str:
        if key in {"title", "summary"} | EXTRA:
            raise ValueError(f"'{key}' is reserved (every template has title and summary)")
        return key


class TemplateFile(BaseModel):
    """A user's template file: a description, instructions and its sections."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    instructions: str = ""
    sections: list[SectionFile] = Field(min_length=1)


def _schema(name: str, spec: TemplateFile) -> type[Sheet]:
    fields: dict = {}
    for s in spec.sections:
        kind = KINDS[s.kind]
        default = "" if kind is str else []
        fields[s.key] = (
            kind if kind is str else list[kind],  # type: ignore[valid-type]
            Field(default, title=s.title, description=s.description),
        )
    model = "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Custom"
    return create_model(model, __base__=Sheet, **fields)


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "the file"
    return f"{where}: {err['msg']}"


def load_file(path: Path) -> Template:
    """The template a TOML file describes, or a TemplateError naming the file and the problem."""
    try:
        spec = TemplateFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"Template file {path}: cannot read it ({exc}).") from None
    except ValidationError as exc:
        raise TemplateError(f"Template file {path}: {_problem(exc)}.") from None
    keys = [s.key for s in spec.sections]
    if len(set(keys)) != len(keys):
        raise TemplateError(f"Template file {path}: a section key is used twice ({keys}).")
    instructions = f" {spec.instructions.strip()}" if spec.instructions.strip() else ""
    return Template(path.stem, spec.description, instructions, _schema(path.stem, spec), str(path))


def _user_files(folder: Path | None = None) -> dict[str, Path]:
    folder = folder or templates_path()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def known(folder: Path | None = None) -> list[str]:
    """The names of every template: built-in and the user's."""
    return sorted(set(BUILT_IN) | set(_user_files(folder)))


def load_template(name: str | None = None, folder: Path | None = None) -> Template:
    """The template called `name` (default: general); a user's file wins over a built-in."""
    name = (name or DEFAULT).strip()
    if path := _user_files(folder).get(name):
        return load_file(path)
    if name in BUILT_IN:
        return BUILT_IN[name]
    where = folder or templates_path()
    raise TemplateError(
        f"Unknown meeting template '{name}': known templates are {', '.join(known(folder))} "
        f"(add your own as {where / (name + '.toml')})."
    )
