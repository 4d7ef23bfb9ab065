"""The Agent facade: run, stream, approvals, stops and durable sessions, on the fake Ollama."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fake_ollama import FakeModel, Turn, call

import gemloom
from gemloom import (
    Agent,
    AgentStopped,
    ApprovalRequired,
    AwaitingApproval,
    Content,
    GemloomError,
    Policy,
    Risk,
    ToolFinished,
    tool,
)


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


@tool(risk=Risk.WRITE)
def save(text: str) -> str:
    """Save a note.

    Args:
        text: What to save.
    """
    SAVED.append(text)
    return "saved"


SAVED: list[str] = []


@pytest.fixture(autouse=True)
def _clean() -> None:
    SAVED.clear()


def test_run_answers_after_the_tool_and_stream_yields_typed_events(fake_ollama, workspace):
    fake_ollama.script(Turn(tool_calls=[call("add", a=2, b="3")]), Turn("It is 5."))
    agent = Agent(tools=[add], workspace=workspace)
    assert agent.run("what is 2 + 3?") == "It is 5."
    assert fake_ollama.chat_bodies()[-1]["messages"][-1] == {
        "role": "tool", "tool_name": "add", "content": "5",
    }  # fmt: skip
    assert [t["function"]["name"] for t in fake_ollama.chat_bodies()[0]["tools"]] == ["add"]
    fake_ollama.script(Turn("Still 5."))
    events = list(agent.stream("and again?"))
    assert "".join(e.text for e in events if isinstance(e, Content)) == "Still 5."


def test_a_session_id_resumes_the_conversation_in_a_new_agent(fake_ollama, workspace):
    fake_ollama.script(Turn("Hello Ada."))
    first = Agent(tools=[add], workspace=workspace)
    first.run("I am Ada.")
    fake_ollama.script(Turn("You are Ada."))
    again = Agent(tools=[add], workspace=workspace, session=first.session_id)
    assert again.run("Who am I?") == "You are Ada."
    sent = fake_ollama.chat_bodies()[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["I am Ada.", "Who am I?"]


def test_an_unknown_session_is_a_clear_error(fake_ollama, workspace):
    with pytest.raises(GemloomError, match="No session 'nope'"):
        Agent(tools=[add], workspace=workspace, session="nope")


def test_approve_callback_answers_and_a_refusal_runs_nothing(fake_ollama, workspace):
    asked: list[AwaitingApproval] = []
    fake_ollama.script(Turn(tool_calls=[call("save", text="x")]), Turn("Not saved."))
    agent = Agent(tools=[save], workspace=workspace, approve=lambda r: asked.append(r) or False)
    assert agent.run("save x") == "Not saved." and SAVED == []
    assert asked[0].name == "save" and asked[0].risk == "write"
    fake_ollama.script(Turn(tool_calls=[call("save", text="y")]), Turn("Saved."))
    agent.approve = lambda r: "approve"
    assert agent.run("save y") == "Saved." and SAVED == ["y"]


def test_without_a_callback_run_raises_and_decide_goes_on(fake_ollama, workspace):
    fake_ollama.script(Turn(tool_calls=[call("save", text="z")]), Turn("Saved z."))
    agent = Agent(tools=[save], workspace=workspace)
    with pytest.raises(ApprovalRequired, match="Tool 'save' needs approval"):
        agent.run("save z")
    assert SAVED == []
    events = list(agent.decide(True))
    assert SAVED == ["z"] and any(isinstance(e, ToolFinished) for e in events)


def test_an_unreadable_approval_answer_is_a_clear_error(fake_ollama, workspace):
    fake_ollama.script(Turn(tool_calls=[call("save", text="z")]))
    agent = Agent(tools=[save], workspace=workspace, approve=lambda r: "maybe")
    with pytest.raises(GemloomError, match="Unreadable approval answer 'maybe'"):
        agent.run("save z")
    assert SAVED == []


def test_a_policy_allows_without_asking(fake_ollama, workspace):
    fake_ollama.script(Turn(tool_calls=[call("save", text="w")]), Turn("Done."))
    agent = Agent(tools=[save], workspace=workspace, policy=Policy.allow_all())
    assert agent.run("save w") == "Done." and SAVED == ["w"]


def test_a_stop_raises_agent_stopped(fake_ollama, workspace):
    fake_ollama.script(*[Turn(tool_calls=[call("add", a=i, b=1)]) for i in range(3)])
    agent = Agent(tools=[add], workspace=workspace, config=gemloom.AgentConfig(max_steps=2))
    with pytest.raises(AgentStopped, match="step budget of 2"):
        agent.run("count")


def test_model_is_sent_and_tool_functions_stay_plain(fake_ollama, workspace):
    fake_ollama.models["gemma4:e4b"] = FakeModel()
    fake_ollama.script(Turn("hi"))
    Agent(tools=[add], model="gemma4:e4b", workspace=workspace).run("hi")
    assert fake_ollama.chat_bodies()[-1]["model"] == "gemma4:e4b"
    assert add(2, 3) == 5 and add.__name__ == "add" and add.__doc__.startswith("Add two")


def test_a_fresh_interpreter_imports_the_api_without_loading_langgraph_first() -> None:
    probe = (
        "import sys, gemloom\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'langgraph', 'ollama', 'pydantic'}\n"
        "assert not heavy, heavy\n"
        "from gemloom import Agent, tool\n"
        "assert 'langgraph' in sys.modules and callable(tool) and Agent.run\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_public_name_resolves_with_a_docstring() -> None:
    assert set(gemloom.__all__) == {"__version__", *gemloom._WHERE}
    for name in gemloom._WHERE:
        value = getattr(gemloom, name)
        if name != "Event":  # a union of the event classes
            assert (value.__doc__ or "").strip(), name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        gemloom.Nope  # noqa: B018


def test_workspace_defaults_to_the_current_folder(fake_ollama, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    agent = Agent(tools=[add])
    assert Path(agent.sessions.get(agent.session_id).workspace) == workspace.resolve()
