"""Notes templates: built-in and user-made schemas, chosen per file, per folder, kept on remake."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from fake_ollama import Turn
from watching import Watcher

from gemloom.cli import main
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.audio.notes import notes_model, to_markdown
from gemloom.tools.audio.templates import (
    BUILT_IN,
    TemplateError,
    known,
    load_template,
)
from gemloom.workflows.meetings.ingest import ingest, regenerate

STAMP = re.compile(r"\[(\d\d:\d\d:\d\d)\]")


def _first_stamp(body: dict[str, Any]) -> str:
    stamps = STAMP.findall(body["messages"][-1]["content"])
    return stamps[0] if stamps else "00:00:00"


def by_schema(instant_answer):
    """A fake Gemma that fills whichever schema `format` asks for, citing the first line."""

    def answer(body: dict[str, Any]) -> Turn:
        schema = body.get("format") or {}
        if body["messages"][-1].get("images") or schema.get("title") == "Draft":
            return instant_answer(body)
        at = _first_stamp(body)
        notes: dict[str, Any] = {"title": f"{schema['title']} notes", "summary": "They met."}
        for name, prop in schema["properties"].items():
            if name in notes:
                continue
            if prop.get("type") == "string":
                notes[name] = f"{name} text"
                continue
            item = prop["items"]["$ref"].rsplit("/", 1)[-1]
            fields = schema["$defs"][item]["properties"]
            entry = {k: f"{k} of {item}" for k in fields if k != "timestamp"}
            notes[name] = [{**entry, "timestamp": at, "quote": "", "owner": None, "due": None}]
        return Turn(json.dumps(notes), chunk_chars=1 << 20)

    return answer


@pytest.fixture
def templated(instant_model):
    """The instant fake, answering in the schema of any template."""
    instant_model.default = by_schema(instant_model.default)
    return instant_model


def summary_bodies(fake) -> list[dict[str, Any]]:
    return [b for b in fake.chat_bodies() if not b["messages"][-1].get("images")]


def test_every_built_in_template_renders_its_sections_in_order() -> None:
    assert set(BUILT_IN) == {"general", "standup", "one-on-one", "retro", "interview", "lecture"}
    standup = notes_model(BUILT_IN["standup"].schema).model_validate(
        {
            "title": "Daily",
            "summary": "Short.",
            "updates": [
                {"person": "Priya", "yesterday": "the parser", "blockers": "", "timestamp": "0:05"}
            ],
        }
    )
    text = to_markdown(standup)
    heads = re.findall(r"^## (.+)$", text, re.M)
    assert heads == ["Summary", "Updates", "Action items"]
    assert "- [00:00:05] Priya — Yesterday: the parser" in text
    retro = notes_model(BUILT_IN["retro"].schema)(title="R", summary="S")
    assert re.findall(r"^## (.+)$", to_markdown(retro), re.M)[1:3] == [
        "What went well",
        "What did not go well",
    ]


def test_ingest_with_the_standup_template_asks_for_and_writes_its_sections(
    templated, llm, tmp_path, make_meeting
) -> None:
    talk = make_meeting(tmp_path / "daily.ogg")
    outcome = ingest(talk, tmp_path / "notes", llm=llm, template="standup")
    assert outcome.status == "done"
    body = summary_bodies(templated)[0]
    assert body["format"]["title"] == "Standup" and "updates" in body["format"]["properties"]
    assert "stand-up meeting" in body["messages"][0]["content"]
    record = json.loads((tmp_path / "notes" / "daily.json").read_text())
    assert record["template"] == "standup"
    update = record["notes"]["updates"][0]
    assert update["person"] == "person of Update" and update["unverified"] is None
    md = (tmp_path / "notes" / "daily.md").read_text()
    assert "## Updates" in md and "## Decisions" not in md


def test_regenerate_reuses_the_recorded_template_unless_told_otherwise(
    templated, llm, tmp_path, make_meeting
) -> None:
    talk = make_meeting(tmp_path / "sprint.ogg")
    assert ingest(talk, tmp_path / "notes", llm=llm, template="retro").status == "done"
    before = len(summary_bodies(templated))
    assert regenerate(talk, tmp_path / "notes", llm=llm).status == "done"
    again = summary_bodies(templated)[before:]
    assert again and {b["format"]["title"] for b in again} == {"Retro"}
    before = len(summary_bodies(templated))
    assert regenerate(talk, tmp_path / "notes", llm=llm, template="general").status == "done"
    assert {b["format"]["title"] for b in summary_bodies(templated)[before:]} == {"Draft"}
    record = json.loads((tmp_path / "notes" / "sprint.json").read_text())
    assert record["template"] == "general" and "decisions" in record["notes"]


DESIGN = """
description = "Design review: the options weighed and the choice"
instructions = "List every option that was considered."

[[sections]]
key = "options"
title = "Options considered"
kind = "points"

[[sections]]
key = "choice"
kind = "text"
description = "the option chosen, in one sentence"

[[sections]]
key = "action_items"
kind = "actions"
"""


def test_a_user_template_file_in_the_config_folder_is_used(
    templated, tmp_path, make_meeting
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "design-review.toml").write_text(DESIGN)
    assert "design-review" in known()
    talk = make_meeting(tmp_path / "arch.ogg")
    assert main(["ingest", str(talk), "--out", str(tmp_path / "notes"), "-t", "design-review"]) == 0
    body = summary_bodies(templated)[0]
    assert list(body["format"]["properties"]) == ["title", "summary", "options", "choice",
                                                  "action_items"]  # fmt: skip
    assert "List every option that was considered." in body["messages"][0]["content"]
    md = (tmp_path / "notes" / "arch.md").read_text()
    assert re.findall(r"^## (.+)$", md, re.M) == [
        "Summary", "Options considered", "Choice", "Action items",
    ]  # fmt: skip
    assert "choice text" in md


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sections = [", "cannot read it"),
        ('instructions = "x"\n', "sections: Field required"),
        ('[[sections]]\nkey = "summary"\nkind = "text"\n', "'summary' is reserved"),
        ('[[sections]]\nkey = "a"\nkind = "table"\n', "sections.0.kind: Input should be"),
        ('colour = "red"\n[[sections]]\nkey = "a"\nkind = "text"\n', "colour: Extra inputs"),
        ('[[sections]]\nkey = "a"\nkind = "text"\n[[sections]]\nkey = "a"\nkind = "points"\n',
         "a section key is used twice"),
    ],
)  # fmt: skip
def test_a_broken_template_file_is_one_line_naming_file_and_problem(
    tmp_path, text, problem
) -> None:
    (tmp_path / "templates").mkdir()
    bad = tmp_path / "templates" / "mine.toml"
    bad.write_text(text)
    with pytest.raises(TemplateError) as caught:
        load_template("mine")
    message = str(caught.value)
    assert message.startswith(f"Template file {bad}: ") and problem in message
    assert "\n" not in message


def test_unknown_or_broken_templates_fail_ingest_before_any_work(
    instant_model, tmp_path, make_meeting, capsys
) -> None:
    talk = make_meeting(tmp_path / "a.ogg")
    assert main(["ingest", str(talk), "--template", "weekly"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Unknown meeting template 'weekly'" in err and len(err.splitlines()) == 1
    assert "general, interview, lecture, one-on-one, retro, standup" in err
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "weekly.toml").write_text("sections = 3\n")
    assert main(["ingest", str(talk), "--template", "weekly"]) == 2
    assert "weekly.toml: sections: Input should be a valid list" in capsys.readouterr().err
    assert instant_model.chat_bodies() == []  # nothing was transcribed or summarised
    assert not (tmp_path / "a.json").exists()


def test_a_watched_folder_uses_its_configured_template(
    templated, tmp_path, make_meeting, wait_until
) -> None:
    inbox, notes = tmp_path / "inbox", tmp_path / "notes"
    (inbox / "retros").mkdir(parents=True)
    settings = load_settings(watch={str(inbox / "retros"): {"template": "retro"}})
    watcher = Watcher(inbox, notes, LLM(settings, retries=2, backoff=0.01), quiet=0.5,
                      recursive=True)  # fmt: skip
    source = make_meeting(tmp_path / "source.ogg")
    shutil.copy(source, inbox / "retros" / "q3.ogg")
    wait_until((notes / "q3.json").exists, timeout=60)
    shutil.copy(make_meeting(tmp_path / "other.ogg", repeats=2), inbox / "sync.ogg")
    wait_until((notes / "sync.json").exists, timeout=60)
    assert [o.status for o in watcher.stop()] == ["done", "done"]
    assert json.loads((notes / "q3.json").read_text())["template"] == "retro"
    assert json.loads((notes / "sync.json").read_text())["template"] == "general"
    assert "## What went well" in (notes / "q3.md").read_text()


def test_a_bad_folder_template_setting_stops_watch_at_start(tmp_path, fake_ollama) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "config.toml").write_text(f'[watch."{tmp_path / "inbox"}"]\ntemplate = "daily"\n')
    assert main(["watch", str(tmp_path / "inbox")]) == 2
