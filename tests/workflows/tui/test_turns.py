"""Never lose input, always let people stop, and say in the chat why a turn ended."""

import threading

from fake_ollama import Turn, call
from pilot import (
    answers,
    idle,
    notes,
    notified,
    ready,
    running,
    say,
    streaming,
    user_texts,
    wait_until,
)
from textual import events

from gemloom.workflows.tui.chat import AssistantMessage, TurnNote, UserMessage
from gemloom.workflows.tui.screens import ConfirmScreen

LONG = "The answer goes on. " * 300


async def test_a_message_typed_while_an_answer_streams_is_queued_and_sent(make_app, fake_ollama):
    # slow enough that the answer still streams when pressing Enter has been processed
    fake_ollama.script(Turn(LONG, chunk_chars=20, delay=0.04), Turn("second answer"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "first")
        await streaming(pilot)
        await say(pilot, "second")
        assert app.prompt.value == ""  # accepted, not dropped
        await wait_until(pilot, lambda: app.query(UserMessage).filter(".queued"))  # mounted
        queued = [m for m in app.query(UserMessage) if m.has_class("queued")]
        assert [str(m.render()) for m in queued] == [
            "second\n⏳ queued: sent when the agent is free"
        ]
        await wait_until(pilot, lambda: len(fake_ollama.chat_bodies()) == 2, timeout=30)
        await idle(pilot)
        assert answers(app) == [LONG, "second answer"]
        assert user_texts(app) == ["first", "second"]
        assert fake_ollama.chat_bodies()[1]["messages"][-1]["content"] == "second"
        assert not [m for m in app.query(UserMessage) if m.has_class("queued")]


async def test_a_message_typed_during_start_up_is_sent_once_ready(fake_ollama, workspace):
    from gemloom.agents.sessions import Sessions
    from gemloom.settings import load_settings
    from gemloom.workflows.tui.app import GemloomApp
    from gemloom.workflows.tui.stopping import StoppableLLM

    release = threading.Event()
    settings = load_settings()

    def slow_factory() -> Sessions:
        release.wait(10)
        return Sessions(settings, llm=StoppableLLM(settings, retries=0), workspace=workspace)

    fake_ollama.script(Turn("here I am"))
    app = GemloomApp(settings, workspace, sessions_factory=slow_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, "are you there?")
        assert app.sessions is None and user_texts(app)[0].startswith("are you there?\n⏳ queued")
        release.set()
        await wait_until(pilot, lambda: answers(app) == ["here I am"])
        await idle(pilot)
        assert not notes(app)  # the turn ended normally
        assert fake_ollama.chat_bodies()[0]["messages"][-1]["content"] == "are you there?"


async def test_queued_text_goes_back_to_the_prompt_when_the_server_is_down(make_app, dead_host):
    release = threading.Event()
    app = make_app()
    factory = app._factory

    def slow_factory():
        release.wait(10)
        return factory()

    app._factory = slow_factory
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, "typed early")
        release.set()
        await wait_until(pilot, lambda: app.prompt.value == "typed early")
        assert user_texts(app) == [] and app.queue == []


async def test_escape_stops_the_answer_and_keeps_the_partial_text(make_app, fake_ollama):
    fake_ollama.script(Turn(LONG, chunk_chars=10, delay=0.02), Turn("fresh answer"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "tell me a long story")
        await streaming(pilot)
        await pilot.press("escape")
        await idle(pilot)
        partial = answers(app)[0]
        assert partial and LONG.startswith(partial) and len(partial) < len(LONG)
        assert notes(app, "stopped") == ["■ Stopped by you: the partial answer above is kept."]
        assert app.prompt.value == "tell me a long story"  # the prompt text comes back
        *_, kept, note = app.sessions.messages(app.session_id)
        assert kept == {"role": "assistant", "content": partial.rstrip()}
        assert note["role"] == "gemloom" and note["content"].startswith("Stopped by you")
        assert not app.sessions.unfinished(app.session_id)
        await say(pilot, "something shorter")
        await idle(pilot)
        assert answers(app)[-1] == "fresh answer"
        sent = fake_ollama.chat_bodies()[-1]["messages"]
        assert sent[-2] == {"role": "assistant", "content": partial.rstrip()}  # not the note
        assert not notes(app, "failed")


async def test_a_stopped_session_reopens_with_its_mark(make_app, fake_ollama):
    fake_ollama.script(Turn(LONG, chunk_chars=10, delay=0.02))
    async with running(make_app()) as pilot:
        await say(pilot, "go")
        await streaming(pilot)
        await pilot.press("escape")
        await idle(pilot)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(notes(app, "stopped")))  # the last session reopened
        await idle(pilot)  # the reopening has finished
        assert notes(app, "stopped") == ["■ Stopped by you: the partial answer above is kept."]


async def test_quitting_mid_answer_asks_first(make_app, fake_ollama):
    fake_ollama.script(Turn(LONG, chunk_chars=10, delay=0.02))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "go")
        await streaming(pilot)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.is_running and app.busy
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running)


async def test_quitting_when_idle_does_not_ask(make_app, fake_ollama):
    app = make_app()
    async with running(app) as pilot:
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)


async def test_a_loop_stop_is_said_in_the_chat(make_app, fake_ollama):
    same = Turn(tool_calls=[call("read_file", path="a.txt")])
    fake_ollama.script(same, same, same)
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "read it forever")
        await idle(pilot)
        assert any(n.startswith("■ Stopped: a loop") for n in notes(app, "stopped"))


async def test_the_server_gone_mid_answer_marks_it_interrupted(make_app, fake_ollama):
    fake_ollama.script(Turn(LONG, chunk_chars=10, cut_after=5))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "go")
        await idle(pilot)
        [failed] = notes(app, "failed")
        assert failed.startswith("✗ The turn failed:")
        answer = app.query_one(AssistantMessage)
        assert answer.has_class("interrupted") and answer.border_subtitle == "interrupted"
        assert app.prompt.value == ""


async def test_a_cut_at_the_context_limit_is_said(make_app, fake_ollama):
    # the agent asks twice to go on with a cut answer before it reports it cut
    fake_ollama.script(*[Turn("It goes on and on and ", done_reason="length")] * 3)
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "go")
        await idle(pilot)
        [cut] = notes(app, "cut")
        assert cut.startswith("✂ Stopped: the answer was cut at the context limit after 2")


async def test_the_banner_clears_by_itself_when_the_model_comes_back(
    make_app, fake_ollama, monkeypatch
):
    from gemloom.workflows.tui import app as app_module

    monkeypatch.setattr(app_module, "RETRY_EVERY", 0.2)
    model = fake_ollama.models.pop("gemma4:12b")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.query_one("#banner").has_class("shown"))
        fake_ollama.models["gemma4:12b"] = model
        await wait_until(pilot, lambda: not app.query_one("#banner").has_class("shown"))
        assert app.model_ok


async def test_prompt_history_with_up_and_down_survives_a_restart(make_app, fake_ollama):
    fake_ollama.script(Turn("a1"), Turn("a2"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "one")
        await idle(pilot)
        await say(pilot, "two")
        await idle(pilot)
        app.prompt.value = "draft"
        app.prompt.move_cursor((0, 0))
        await pilot.press("up")
        assert app.prompt.value == "two"
        await pilot.press("up", "up")
        assert app.prompt.value == "one"
        await pilot.press("down")
        assert app.prompt.value == "two"
        await pilot.press("down")
        assert app.prompt.value == "draft"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: answers(app) == ["a1", "a2"])
        await pilot.press("up")
        assert app.prompt.value == "two"


async def test_a_pasted_multi_line_message_arrives_whole(make_app, fake_ollama):
    fake_ollama.script(Turn("got it"))
    app = make_app()
    async with running(app) as pilot:
        app.post_message(events.Paste("first line\nsecond line"))  # as a terminal sends it
        await wait_until(pilot, lambda: "second line" in app.prompt.value)
        await pilot.press("ctrl+j", *"third", "enter")
        await idle(pilot)
        sent = fake_ollama.chat_bodies()[0]["messages"][-1]["content"]
        assert sent == "first line\nsecond line\nthird"


async def test_a_stopped_turn_says_so_above_the_message_queued_after_it(make_app, fake_ollama):
    fake_ollama.script(Turn(LONG, chunk_chars=10, delay=0.03), Turn("second answer"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "first")
        await streaming(pilot)
        await say(pilot, "second")
        await wait_until(pilot, lambda: app.query(UserMessage).filter(".queued"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(fake_ollama.chat_bodies()) == 2, timeout=30)
        await idle(pilot)
        order = [
            type(w).__name__ for w in app.chat.children if isinstance(w, UserMessage | TurnNote)
        ]
        assert order == ["UserMessage", "TurnNote", "UserMessage"]  # first, its stop, second
        assert answers(app)[-1] == "second answer"


async def test_a_command_typed_before_the_settings_are_read_stays_in_the_prompt(
    fake_ollama, workspace, monkeypatch
):
    import gemloom.settings
    from gemloom.workflows.tui.app import GemloomApp

    release, real = threading.Event(), gemloom.settings.load_settings

    def slow_settings(**overrides):
        release.wait(10)
        return real(**overrides)

    monkeypatch.setattr(gemloom.settings, "load_settings", slow_settings)
    fake_ollama.script(Turn("read them"))
    app = GemloomApp(None, workspace)  # as `gemloom chat` starts: settings read in the worker
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.sub_title == "starting…" and app.settings is None
        await say(pilot, "/jobs")
        assert app.prompt.value == "/jobs"  # kept, not run without settings
        assert notified(app, "still starting")
        app.prompt.value = ""
        await say(pilot, "hello early")
        assert user_texts(app) == ["hello early\n⏳ queued: sent when the agent is free"]
        release.set()
        await ready(pilot)
        await idle(pilot)
        assert answers(app) == ["read them"]
        assert app.sub_title == "gemma4:12b · 262,144 context"


async def test_a_bad_ollama_host_is_a_banner_not_a_crash(workspace, monkeypatch):
    from gemloom.workflows.tui.app import GemloomApp

    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:notaport")
    app = GemloomApp(None, workspace)
    async with running(app):
        banner = str(app.query_one("#banner").render())
        assert banner.startswith("Invalid OLLAMA_HOST = 'http://127.0.0.1:notaport'")
        assert app.sessions is None
