from pathlib import Path

import pytest
from fake_ollama import FakeModel, Turn, call

from gemloom.agents import events as ev
from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.errors import GemloomError, ServerError
from gemloom.tools.files.tools import TOOLS
from gemloom.tools.registry import Registry, ToolResult, tool


def run(sessions: Sessions, text: str, session_id: str | None = None):
    sid = session_id or sessions.create()
    return sid, list(sessions.send(sid, text))


def tool_messages(body: dict) -> list[tuple[str, str]]:
    return [(m["tool_name"], m["content"]) for m in body["messages"] if m["role"] == "tool"]


def test_multi_step_tool_session(sessions, fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("list_files", path=".")]),
        Turn(tool_calls=[call("read_file", path="a.txt", start_line=2)]),
        Turn("The second line is beta."),
    )
    sid, events = run(sessions, "what is on line 2 of the only file?")
    results = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [r.name for r in results] == ["list_files", "read_file"]
    assert "a.txt" in results[0].result and results[1].result == "2: beta"
    assert (
        "".join(e.text for e in events if isinstance(e, ev.Content)) == "The second line is beta."
    )
    bodies = fake_ollama.chat_bodies()
    assert tool_messages(bodies[2]) == [
        ("list_files", results[0].result),
        ("read_file", "2: beta"),
    ]
    assert {t["function"]["name"] for t in bodies[0]["tools"]} >= {"read_file"}
    roles = [m["role"] for m in sessions.messages(sid)]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]


def test_several_calls_in_one_turn_run_in_order(sessions, fake_ollama) -> None:
    fake_ollama.script(
        Turn(
            tool_calls=[
                call("read_file", path="a.txt"),
                call("current_time"),
                call("list_files"),
            ]
        ),
        Turn("done"),
    )
    run(sessions, "go")
    names = [n for n, _ in tool_messages(fake_ollama.chat_bodies()[1])]
    assert names == ["read_file", "current_time", "list_files"]


def test_unknown_tool_gets_the_list_of_valid_tools(sessions, fake_ollama) -> None:
    fake_ollama.script(Turn(tool_calls=[call("delete_everything")]), Turn("sorry"))
    _, events = run(sessions, "go")
    error = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert error.error and "unknown tool 'delete_everything'" in error.result
    assert "read_file" in error.result and "Please fix your mistakes" in error.result
    assert fake_ollama.chat_bodies()[1]["messages"][-1]["content"] == error.result


def test_invalid_arguments_go_back_then_stop_after_bounded_retries(make_sessions, fake_ollama):
    sessions = make_sessions(config=AgentConfig(max_invalid=2))
    bad = Turn(tool_calls=[call("read_file", start_line="first")])
    fake_ollama.script(bad, bad, Turn("never asked"))
    _, events = run(sessions, "go")
    errors = [e.result for e in events if isinstance(e, ev.ToolFinished)]
    assert len(errors) == 2 and "path: Field required" in errors[0]
    assert "start_line" in errors[0]
    stopped = [e for e in events if isinstance(e, ev.Stopped)]
    assert stopped and "2 invalid tool calls in a row" in stopped[0].reason
    assert len(fake_ollama.chat_bodies()) == 2


def test_arguments_are_coerced(sessions, fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="a.txt", start_line="2", end_line="2")]),
        Turn("ok"),
    )
    _, events = run(sessions, "go")
    assert next(e for e in events if isinstance(e, ev.ToolFinished)).result == "2: beta"


@pytest.mark.parametrize(
    "leak",
    [
        'call:read_file{path:<|"|>a.txt<|"|>,start_line:2}',
        '<|tool_call>call:read_file{"path": "a.txt", "start_line": 2}<tool_call|>',
        '```json\n{"name": "read_file", "arguments": {"path": "a.txt", "start_line": 2}}\n```',
    ],
)
def test_leaked_tool_calls_are_run(sessions, fake_ollama, leak: str) -> None:
    fake_ollama.script(Turn(f"Let me look. {leak}"), Turn("It says beta."))
    sid, events = run(sessions, "go")
    proposed = next(e for e in events if isinstance(e, ev.ToolProposed))
    assert proposed.leaked and proposed.name == "read_file"
    assert next(e for e in events if isinstance(e, ev.ToolFinished)).result == "2: beta"
    assistant = sessions.messages(sid)[2]
    assert assistant["content"] == "Let me look."
    assert assistant["tool_calls"][0]["function"]["name"] == "read_file"


def test_a_tool_that_raises_reports_back_and_the_session_goes_on(make_sessions, fake_ollama):
    @tool
    def explode(level: int) -> str:
        """Fail on purpose.

        Args:
            level: How loudly.
        """
        raise RuntimeError(f"kaboom at {level}")

    sessions = make_sessions(registry=Registry([explode, *TOOLS]))
    fake_ollama.script(Turn(tool_calls=[call("explode", level=3)]), Turn("it failed"))
    sid, events = run(sessions, "go")
    result = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert result.error and result.result == "Error: RuntimeError: kaboom at 3"
    assert sessions.messages(sid)[-1]["content"] == "it failed"


def test_the_same_call_repeated_is_stopped_as_a_loop(sessions, fake_ollama) -> None:
    same = Turn(tool_calls=[call("read_file", path="a.txt")])
    fake_ollama.script(same, same, same, Turn("never"))
    sid, events = run(sessions, "go")
    results = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [r.error for r in results] == [False, False, True]  # the third never ran
    assert results[2].result.startswith("Not run: gemloom stopped the turn (a loop")
    stop = next(e for e in events if isinstance(e, ev.Stopped))
    assert "loop" in stop.reason and "read_file" in stop.reason
    last = sessions.messages(sid)[-1]
    assert last["role"] == "gemloom" and last["content"].startswith("Stopped: a loop")


def test_step_budget(make_sessions, fake_ollama) -> None:
    sessions = make_sessions(config=AgentConfig(max_steps=3))
    fake_ollama.default = lambda body: Turn(
        tool_calls=[call("read_file", path="a.txt", start_line=len(body["messages"]))]
    )
    sid, events = run(sessions, "go")
    assert len(fake_ollama.chat_bodies()) == 3
    stop = next(e for e in events if isinstance(e, ev.Stopped))
    assert "step budget of 3" in stop.reason
    # the next user message starts a fresh budget
    fake_ollama.default = None
    fake_ollama.script(Turn("fresh"))
    list(sessions.send(sid, "again"))
    assert sessions.messages(sid)[-1]["content"] == "fresh"


def test_ollama_going_away_mid_session_is_resumable(sessions, fake_ollama) -> None:
    fake_ollama.script(Turn(tool_calls=[call("read_file", path="a.txt")]))
    sid = sessions.create()
    seen = []
    fake_ollama.fail_next(0)
    with pytest.raises(ServerError):
        for event in sessions.send(sid, "go"):
            seen.append(event)
            if isinstance(event, ev.ToolFinished):
                fake_ollama.fail_next(20, 503, "going away")
    assert sessions.unfinished(sid)
    assert sessions.messages(sid)[-1]["role"] == "tool"
    fake_ollama.failures.clear()
    fake_ollama.script(Turn("alpha and beta"))
    list(sessions.resume(sid))
    messages = sessions.messages(sid)
    assert messages[-1]["content"] == "alpha and beta"
    assert [m["role"] for m in messages].count("tool") == 1


def test_compaction_is_visible_and_keeps_the_last_turn(sessions, fake_ollama) -> None:
    fake_ollama.models["gemma4:12b"] = FakeModel(context_length=32_768)
    sid = sessions.create()
    for i in range(3):  # about 20K tokens: under 80% of 32K with the 4K answer reserve
        fake_ollama.script(Turn(f"answer {i} " + "x" * 12_000))
        events = list(sessions.send(sid, f"question {i} " + "y" * 12_000))
        assert not any(isinstance(e, ev.Compacted) for e in events)
    fake_ollama.script(Turn("SUMMARY: three questions about x and y"), Turn("final"))
    events = list(sessions.send(sid, "last question " + "z" * 10_000))
    compacted = next(e for e in events if isinstance(e, ev.Compacted))
    assert compacted.messages >= 5 and compacted.tokens_after < compacted.tokens_before
    summary_request = fake_ollama.chat_bodies()[-2]
    assert "Summarise the conversation" in summary_request["messages"][-1]["content"]
    messages = sessions.messages(sid)
    assert messages[1]["content"].startswith("[Summary of the earlier conversation]")
    assert "SUMMARY: three questions" in messages[1]["content"]
    assert messages[-2]["content"].startswith("last question")
    assert messages[-1]["content"] == "final"
    assert len(messages) == 4


def test_graph_drawing(sessions: Sessions, snapshot) -> None:
    assert sessions.graph.get_graph().draw_mermaid() == snapshot


def test_fork_from_an_earlier_checkpoint(sessions, fake_ollama, workspace: Path) -> None:
    fake_ollama.script(Turn("one"), Turn("two"))
    sid = sessions.create("original")
    list(sessions.send(sid, "first"))
    list(sessions.send(sid, "second"))
    after_first = next(c for c in sessions.checkpoints(sid) if c.messages == 3 and not c.next)
    fork = sessions.fork(sid, after_first.id)
    assert [m["content"] for m in sessions.messages(fork)][1:] == ["first", "one"]
    fake_ollama.script(Turn("other"))
    list(sessions.send(fork, "another second"))
    assert [m["content"] for m in sessions.messages(fork)][-2:] == ["another second", "other"]
    assert [m["content"] for m in sessions.messages(sid)][-1] == "two"
    assert sessions.get(fork).parent == sid


def test_events_cover_nodes_thinking_and_usage(make_sessions, fake_ollama) -> None:
    sessions = make_sessions(config=AgentConfig(think=True))
    fake_ollama.script(
        Turn("", thinking="I should check the time.", tool_calls=[call("current_time")]),
        Turn("It is now.", prompt_eval_count=123),
    )
    sid, events = run(sessions, "time?")
    kinds = [type(e).__name__ for e in events]
    assert kinds[:3] == ["NodeStarted", "Thinking", "Usage"]
    assert kinds.count("NodeStarted") == kinds.count("NodeFinished") == 3
    assert fake_ollama.chat_bodies()[0]["think"] is True
    usage = [e for e in events if isinstance(e, ev.Usage)][-1]
    assert usage.prompt_tokens == 123 and usage.context_length == 262_144
    assert sessions.messages(sid)[2]["thinking"] == "I should check the time."


def test_errors_are_events_before_they_raise(sessions, fake_ollama) -> None:
    del fake_ollama.models["gemma4:12b"]
    sid = sessions.create()
    seen = []
    with pytest.raises(GemloomError):
        for event in sessions.send(sid, "hi"):
            seen.append(event)
    assert isinstance(seen[-1], ev.Error) and "gemloom pull gemma4:12b" in seen[-1].message


def test_images_a_tool_produces_go_back_with_its_result(make_sessions, fake_ollama) -> None:
    @tool
    def snap() -> ToolResult:
        """Take a picture."""
        return ToolResult("took one picture", [b"\x89PNG\r\n\x1a\npicture"])

    import base64

    sessions = make_sessions(registry=Registry([snap, *TOOLS]))
    fake_ollama.script(Turn(tool_calls=[call("snap")]), Turn("I see it"), Turn("plain"))
    sid, _ = run(sessions, "look")
    tool_message = fake_ollama.chat_bodies()[1]["messages"][-1]
    assert base64.b64decode(tool_message["images"][0]).endswith(b"picture")
    list(sessions.send(sid, "again"))  # the list is drained: nothing leaks into later results
    assert all("images" not in m for m in fake_ollama.chat_bodies()[2]["messages"][4:])
