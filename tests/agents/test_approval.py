from pathlib import Path

import pytest
from fake_ollama import Turn, call

from gemloom.agents import events as ev
from gemloom.agents.approval import Action, Decision, Policy
from gemloom.errors import GemloomError
from gemloom.tools.files.tools import TOOLS
from gemloom.tools.registry import Registry, Risk, tool


@pytest.fixture(params=["built-in", "own"])
def graph_kind(request: pytest.FixtureRequest) -> str:
    """Every test here runs on the built-in graph and on a user's own graph of gemloom's nodes."""
    return request.param


WRITE = call("write_text_file", path="out.txt", content="hello")


def start(sessions, fake_ollama, *turns):
    fake_ollama.script(*turns)
    sid = sessions.create()
    return sid, list(sessions.send(sid, "write it"))


def test_write_waits_for_approval_and_runs_once_approved(sessions, fake_ollama, workspace):
    sid, events = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("written"))
    asked = [e for e in events if isinstance(e, ev.AwaitingApproval)]
    assert asked and asked[0].name == "write_text_file" and asked[0].risk == "write"
    assert not (workspace / "out.txt").exists()
    assert sessions.awaiting(sid)["arguments"] == {"path": "out.txt", "content": "hello"}
    events = list(sessions.answer(sid, Decision(Action.APPROVE)))
    assert (workspace / "out.txt").read_text() == "hello"
    assert any(isinstance(e, ev.Approved) for e in events)
    assert sessions.messages(sid)[-1]["content"] == "written"
    assert sessions.awaiting(sid) is None


def test_rejection_reason_goes_back_to_the_model(sessions, fake_ollama, workspace) -> None:
    sid, _ = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("ok, I won't"))
    events = list(sessions.answer(sid, Decision(Action.REJECT, reason="not that file")))
    assert not (workspace / "out.txt").exists()
    rejected = next(e for e in events if isinstance(e, ev.Rejected))
    assert rejected.reason == "not that file"
    last_request = fake_ollama.chat_bodies()[-1]["messages"][-1]
    assert last_request["role"] == "tool"
    assert last_request["content"] == "Rejected by the user: not that file"


def test_edited_arguments_are_used(sessions, fake_ollama, workspace) -> None:
    sid, _ = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("done"))
    edit = Decision(Action.EDIT, {"path": "other.txt", "content": "edited"})
    events = list(sessions.answer(sid, edit))
    assert (workspace / "other.txt").read_text() == "edited"
    assert not (workspace / "out.txt").exists()
    assert next(e for e in events if isinstance(e, ev.Approved)).edited


def test_invalid_edit_is_reported_not_run(sessions, fake_ollama, workspace) -> None:
    sid, _ = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("done"))
    events = list(sessions.answer(sid, Decision(Action.EDIT, {"content": "no path"})))
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert result.error and "path: Field required" in result.result
    assert list(workspace.iterdir()) == [workspace / "a.txt"]


def test_always_allow_for_the_session(sessions, fake_ollama, workspace) -> None:
    second = call("write_text_file", path="two.txt", content="2")
    sid, _ = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("one"))
    list(sessions.answer(sid, Decision(Action.ALWAYS)))
    fake_ollama.script(Turn(tool_calls=[second]), Turn("two"))
    events = list(sessions.send(sid, "again"))
    assert not any(isinstance(e, ev.AwaitingApproval) for e in events)
    assert (workspace / "two.txt").read_text() == "2"


def test_deny_policy_refuses(make_sessions, fake_ollama, workspace) -> None:
    sessions = make_sessions(policy=Policy.deny_risky())
    sid, events = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("refused"))
    assert not (workspace / "out.txt").exists()
    assert next(e for e in events if isinstance(e, ev.Rejected)).reason == "denied by policy"
    assert sessions.messages(sid)[-1]["content"] == "refused"


def test_allow_all_runs_without_asking(make_sessions, fake_ollama, workspace) -> None:
    sessions = make_sessions(policy=Policy.allow_all())
    _, events = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]), Turn("done"))
    assert not any(isinstance(e, ev.AwaitingApproval) for e in events)
    assert (workspace / "out.txt").read_text() == "hello"


def test_read_tools_never_ask(sessions, fake_ollama) -> None:
    _, events = start(
        sessions, fake_ollama, Turn(tool_calls=[call("read_file", path="a.txt")]), Turn("x")
    )
    assert not any(isinstance(e, ev.AwaitingApproval) for e in events)


def test_nothing_runs_twice_across_approvals(make_sessions, fake_ollama, workspace: Path) -> None:
    runs: list[str] = []

    @tool(risk=Risk.EXECUTE)
    def launch(name: str) -> str:
        """Launch something.

        Args:
            name: What to launch.
        """
        runs.append(name)
        return f"launched {name}"

    sessions = make_sessions(registry=Registry([launch, *TOOLS]))
    turn = Turn(tool_calls=[call("launch", name="a"), call("launch", name="b")])
    sid, _ = start(sessions, fake_ollama, turn, Turn("both"))
    assert runs == []
    list(sessions.answer(sid, Decision(Action.APPROVE)))
    assert runs == ["a"] and sessions.awaiting(sid)["arguments"] == {"name": "b"}
    list(sessions.answer(sid, Decision.parse({"action": "approve"})))
    assert runs == ["a", "b"]
    assert sessions.messages(sid)[-1]["content"] == "both"


def test_sending_while_awaiting_approval_is_refused(sessions, fake_ollama) -> None:
    sid, _ = start(sessions, fake_ollama, Turn(tool_calls=[WRITE]))
    with pytest.raises(GemloomError, match="waiting for a tool approval"):
        list(sessions.send(sid, "hello?"))


def test_answer_without_pending_request(sessions, fake_ollama) -> None:
    sid, _ = start(sessions, fake_ollama, Turn("plain"))
    with pytest.raises(GemloomError, match="no tool call waiting"):
        list(sessions.answer(sid, Decision(Action.APPROVE)))
