"""What the TUI says while work goes on: a meeting tool's progress, a server that went away."""

import threading
from pathlib import Path
from typing import Any

import pytest
from fake_ollama import Turn, call
from pilot import answers, idle, notes, running, say, wait_until
from textual.css.query import NoMatches

from gemloom.agents.sessions import Sessions
from gemloom.settings import load_settings
from gemloom.workflows.tui.app import GemloomApp
from gemloom.workflows.tui.chat import ToolCallView
from gemloom.workflows.tui.stopping import StoppableLLM
from tests.workflows.conftest import instant_answer


def meeting_model(agent: list[Turn]):
    """The fake Gemma: hears each chunk (slowly), writes notes for JSON requests, else the agent."""

    def answer(body: dict[str, Any]) -> Turn:
        if body["messages"][-1].get("images") or body.get("format"):
            turn = instant_answer(body)
            turn.delay = 0.2 if body["messages"][-1].get("images") else 0.0
            return turn
        return agent.pop(0)

    return answer


async def test_a_meeting_tools_progress_shows_under_the_chat_while_it_runs(
    make_app, fake_ollama, workspace, make_meeting
) -> None:
    make_meeting(workspace / "sync.ogg", repeats=3)
    fake_ollama.default = meeting_model(
        [Turn(tool_calls=[call("summarise_recording", path="sync.ogg")]), Turn("Notes are above.")]
    )
    app = make_app()
    async with running(app) as pilot:
        seen: list[tuple[str, str]] = []  # (line, the tool call's status at that moment)
        show = app.show_activity

        def record(text: str) -> None:
            view = next(iter(app.query(ToolCallView)), None)
            seen.append((text, view.status if view else "no call yet"))
            show(text)

        app.show_activity = record
        await say(pilot, "summarise sync.ogg")
        await wait_until(pilot, lambda: app.query_one("#activity").has_class("shown"))
        line = str(app.query_one("#activity").render())
        assert line.startswith("⟳ summarise_recording: ")
        await idle(pilot)
        assert answers(app) == ["Notes are above."]
        shown = [text for text, _ in seen if text]
        steps = ["decode", "transcribe chunk 1/1", "label speakers", "summarise part 1/1"]
        assert shown == [f"⟳ summarise_recording: {step}" for step in steps]
        assert all(status not in ("done", "error") for text, status in seen if text)
        assert seen[-1][0] == "" and not app.query_one("#activity").has_class("shown")
        assert app.query_one(ToolCallView).status == "done"


async def test_a_server_that_goes_away_is_a_notice_in_the_chat(two, workspace: Path, capfd):
    a, b = two
    settings = load_settings(ollama_hosts=[a.url, b.url])

    def factory() -> Sessions:
        llm = StoppableLLM(settings, retries=1, backoff=0.01)
        return Sessions(settings, llm=llm, workspace=workspace)

    a.script(Turn("from a"))
    app = GemloomApp(settings, workspace, sessions_factory=factory)
    async with running(app) as pilot:
        await say(pilot, "q1")
        await idle(pilot)
        assert app.sessions.get(app.session_id).host == a.url  # both idle: the first one
        a.stop()
        b.script(Turn("from b"))
        await say(pilot, "q2")
        await idle(pilot)
        assert answers(app) == ["from a", "from b"]
        assert notes(app, "failover") == [
            f"⇄ Ollama at {a.url} is not answering; going on at {b.url}."
        ]
        assert not notes(app, "failed")
    assert "not answering" not in capfd.readouterr().err  # not printed over the screen


async def test_a_fail_over_while_quitting_does_not_fail_the_request(make_app, fake_ollama) -> None:
    app = make_app()
    async with running(app) as pilot:
        await app.chat.remove()  # the chat is gone, as it is while the app shuts down
        with pytest.raises(NoMatches):  # not closing: a missing chat is our bug, not hidden
            await app._failover_note("⇄ late")
        app.exit()
        await app._failover_note("⇄ late")  # closing: nothing to say it in, and no error
        errors: list[BaseException] = []

        def from_a_worker() -> None:
            try:
                app.failed_over("http://a:1", "http://b:2")
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=from_a_worker)
        thread.start()
        await wait_until(pilot, lambda: not thread.is_alive())
        assert errors == []
