"""The meeting tools driven through the agent graph against the fake Ollama, on real audio."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from fake_ollama import Turn, call
from reference import SPEECH

from gemloom.agents import events as ev
from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.audio.tools import TOOLS, MeetingProgress
from gemloom.tools.registry import Registry, ToolContext, ToolError, default_registry

HEARD = "Maria will send the launch report on Friday and we agreed to ship in March"
STAMP = re.compile(r"\[(\d\d:\d\d:\d\d)\]")


def meeting_model(agent_turns: list[Turn]):
    """A fake Gemma: hears every chunk as HEARD, fills any notes schema, else plays the agent."""

    def answer(body: dict[str, Any]) -> Turn:
        last = body["messages"][-1]
        if last.get("images"):
            return Turn(HEARD)
        if schema := body.get("format"):
            at = (STAMP.findall(last["content"]) or ["00:00:00"])[0]
            notes: dict[str, Any] = {"title": "Launch sync", "summary": "They planned the launch."}
            if "updates" in schema["properties"]:
                notes["updates"] = [{"person": "Maria", "today": "the launch report",
                                     "timestamp": at}]  # fmt: skip
            notes["action_items"] = [{"task": "send the launch report", "owner": "Maria",
                                      "quote": "Maria will send the launch report",
                                      "timestamp": "00:07:00"}]  # fmt: skip
            return Turn(json.dumps(notes), chunk_chars=1 << 20)
        return agent_turns.pop(0)

    return answer


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / "calls").mkdir(parents=True)
    shutil.copy(SPEECH, root / "calls" / "launch.ogg")
    return root


@pytest.fixture
def sessions(fake_ollama, workspace) -> Sessions:
    settings = load_settings()
    llm = LLM(settings, retries=1, backoff=0.01)
    return Sessions(settings, llm=llm, workspace=workspace, config=AgentConfig(),
                    registry=Registry(TOOLS))  # fmt: skip


def drive(sessions: Sessions, prompt: str) -> list:
    return list(sessions.send(sessions.create(), prompt))


def test_the_meeting_tools_are_built_in() -> None:
    names = default_registry().names()
    assert {"transcribe_recording", "summarise_recording", "search_meetings"} <= set(names)
    assert {t.risk.value for t in TOOLS} == {"read"}  # they read and ask; nothing is written


def test_the_agent_summarises_a_recording_with_a_template_and_sees_progress(
    sessions, fake_ollama, workspace
) -> None:
    agent = [
        Turn(tool_calls=[call("summarise_recording", path="calls/launch.ogg", template="standup")]),
        Turn("Maria sends the launch report."),
    ]
    fake_ollama.default = meeting_model(agent)
    events = drive(sessions, "summarise today's stand-up in calls/launch.ogg")
    progress = [e.text for e in events if isinstance(e, MeetingProgress)]
    assert progress[0] == "decode" and "transcribe chunk 1/1" in progress
    assert "summarise part 1/1" in progress
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert not result.error
    assert "## Updates" in result.result and "- [00:00:00] Maria — Today: the launch report" in (
        result.result
    )
    # the invented 00:07:00 was moved to the line that holds the quote
    assert "[00:00:00] send the launch report — **Maria**" in result.result
    final = fake_ollama.chat_bodies()[-1]
    assert (
        final["messages"][-1]["role"] == "tool" and "## Updates" in final["messages"][-1]["content"]
    )
    assert sorted(p.name for p in workspace.rglob("*") if p.is_file()) == ["launch.ogg"]


def test_a_transcript_goes_back_to_the_model_with_times(sessions, fake_ollama) -> None:
    agent = [
        Turn(tool_calls=[call("transcribe_recording", path="calls/launch.ogg")]),
        Turn("ok"),
    ]
    fake_ollama.default = meeting_model(agent)
    events = drive(sessions, "transcribe it")
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    line = result.result.splitlines()[1]  # one voice: "Speaker 1" when the weights are installed
    assert re.fullmatch(rf"\[00:00:00\] (Speaker 1: )?{HEARD}", line)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"path": "../launch.ogg"}, "uses '..'"),
        ({"path": "calls/missing.ogg"}, "is not a file in the workspace"),
        ({"path": "calls/notes.txt"}, "notes.txt is a text file, not an audio or video"),
        ({"path": "calls/launch.ogg", "template": "weekly"}, "Unknown meeting template 'weekly'"),
    ],
)
def test_bad_requests_go_back_to_the_model_as_errors(
    sessions, fake_ollama, workspace, arguments, problem
) -> None:
    (workspace / "calls" / "notes.txt").write_text("not audio at all\n")
    agent = [Turn(tool_calls=[call("summarise_recording", **arguments)]), Turn("sorry")]
    fake_ollama.default = meeting_model(agent)
    events = drive(sessions, "summarise")
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert result.error and problem in result.result
    assert not [b for b in fake_ollama.chat_bodies() if b["messages"][-1].get("images")]


def test_search_finds_past_meetings_written_by_ingest(sessions, fake_ollama, workspace) -> None:
    from gemloom.workflows.meetings.ingest import ingest

    fake_ollama.default = meeting_model([])
    llm = LLM(load_settings(), retries=1, backoff=0.01)
    assert ingest(workspace / "calls" / "launch.ogg", workspace / "notes", llm=llm).status == "done"
    agent = [Turn(tool_calls=[call("search_meetings", query="launch report Maria")]), Turn("ok")]
    fake_ollama.default = meeting_model(agent)
    events = drive(sessions, "what did we say about the launch report?")
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    first = result.result.split("\n\n")[0]
    assert first.startswith("notes/launch.json [00:00:00] (Launch sync)")
    assert "Maria" in first and "match=1.00" in first
    assert "(action items) send the launch report; Maria" in result.result


def test_search_says_when_nothing_matches_and_refuses_an_empty_query(workspace) -> None:
    ctx = ToolContext(workspace)
    search = next(t for t in TOOLS if t.name == "search_meetings")
    assert search.run({"query": "budget", "k": 5}, ctx).text.startswith("No past meeting in ")
    with pytest.raises(ToolError, match="no words"):
        search.run({"query": "the", "k": 5}, ctx)


def test_search_skips_hidden_and_dependency_folders(workspace) -> None:
    record = {"sha256": "x", "notes": {"title": "Budget"}, "transcript": [
        {"start": 62.0, "end": 64.0, "text": "the budget is approved", "speaker": "Speaker 2"}
    ]}  # fmt: skip
    for folder in ("notes", ".trash", "node_modules/pkg"):
        (workspace / folder).mkdir(parents=True)
        (workspace / folder / "q3.json").write_text(json.dumps(record))
    (workspace / "notes" / "other.json").write_text('{"not": "a meeting"}')
    search = next(t for t in TOOLS if t.name == "search_meetings")
    found = search.run({"query": "budget approved", "k": 5}, ToolContext(workspace)).text
    assert (
        found == "notes/q3.json [00:01:02] (Budget)\nSpeaker 2: the budget is approved match=1.00"
    )
