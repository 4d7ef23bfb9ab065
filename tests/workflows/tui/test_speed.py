"""What keeps the TUI quick while an answer streams: a settled heap, few re-layouts."""

import gc

from fake_ollama import Turn
from pilot import answers, idle, ready, say, wait_until


async def test_the_first_turn_freezes_what_start_up_built(make_app, fake_ollama):
    fake_ollama.script(Turn("first"), Turn("second"))
    gc.unfreeze()  # another test of this process may have frozen it already
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert gc.get_freeze_count() == 0  # start-up alone does not freeze
        await say(pilot, "hello")
        await idle(pilot)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the agent stack and Textual are out of the collector's walk
        await say(pilot, "again")
        await idle(pilot)
        # once per process: what later turns build stays collectable (not frozen as well)
        assert gc.get_freeze_count() <= frozen
        assert answers(app) == ["first", "second"]


async def test_no_full_collection_runs_while_an_answer_streams(make_app, fake_ollama):
    fake_ollama.script(Turn("slow " * 400, chunk_chars=5, delay=0.01), Turn("x", status=500))
    before = gc.get_threshold()
    full: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "go on")
        await wait_until(pilot, lambda: answers(app))  # streaming
        assert gc.get_threshold()[2] > 10_000  # full passes held for the turn
        gc.callbacks.append(count)
        try:
            kept = [[] for _ in range(300_000)]  # enough survivors to start full passes
            streaming = len(full)
            assert app.busy
            del kept
            await idle(pilot)
        finally:
            gc.callbacks.remove(count)
        assert streaming == 0
        # the turn gives them back as it ends, after `busy` is off (it may start a queued one)
        await wait_until(pilot, lambda: gc.get_threshold() == before)
        gc.callbacks.append(count)
        try:
            kept = [[] for _ in range(300_000)]  # idle again: full passes start as before
            del kept
        finally:
            gc.callbacks.remove(count)
        assert full
        await say(pilot, "fail now")  # a failed turn gives the thresholds back too
        await wait_until(pilot, lambda: app.query(".failed"))  # the turn ran, and failed
        await idle(pilot)
        await wait_until(pilot, lambda: gc.get_threshold() == before)


def _text_height(widget) -> int:
    """How far down its children reach (as last laid out)."""
    return max(child.virtual_region_with_margin.bottom for child in widget.children)


async def test_a_streaming_answer_holds_lines_ahead_and_gives_them_back(make_app, fake_ollama):
    from textual.widgets import Markdown

    from gemloom.workflows.tui.chat import AssistantMessage

    text = " ".join(f"word{i}" for i in range(400))  # one paragraph of many lines at width 100
    fake_ollama.script(Turn(text, chunk_chars=40, delay=0.03))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "go on")
        held = []
        while app.busy or not app.query(AssistantMessage):
            await pilot.pause(0.05)
            for live in app.query(AssistantMessage).first().query(Markdown):
                if live.styles.min_height is not None and live.children:
                    # the height held is ahead of the text, by at most RESERVE lines
                    reserve = live.styles.min_height.value - _text_height(live)
                    held.append(reserve)
        await idle(pilot)
        assert held and max(held) <= AssistantMessage.RESERVE
        assert sum(1 for r in held if r > 0) > len(held) // 2  # mostly some lines to spare
        answer = app.query_one(AssistantMessage)
        assert answers(app) == [text]
        await pilot.pause()
        assert all(m.styles.min_height is None for m in answer.query(Markdown))
        assert answer.size.height == _text_height(answer)  # no blank lines left under it


async def test_a_paragraph_that_keeps_its_height_repaints_without_a_layout():
    from textual.app import App

    from gemloom.workflows.tui.streaming import StreamedParagraph, StreamingMarkdown

    class One(App):
        def compose(self):
            yield StreamingMarkdown("Some words")

    app = One()
    async with app.run_test(size=(40, 10)) as pilot:
        markdown = app.query_one(StreamingMarkdown)
        await pilot.pause()
        paragraph = markdown.query_one(StreamedParagraph)
        layouts: list[bool] = []
        refresh = paragraph.refresh

        def spy(*regions, layout=False, **kwargs):
            layouts.append(layout)
            return refresh(*regions, layout=layout, **kwargs)

        paragraph.refresh = spy
        await markdown.append(" and more")  # still one line at width 40
        await pilot.pause()
        assert layouts and not any(layouts)
        assert markdown.query_one(StreamedParagraph) is paragraph
        assert paragraph.size.height == 1
        await markdown.append(" and a good deal more, enough to wrap")
        await pilot.pause()
        assert layouts[-1] is True  # a new line: the screen is laid out again
        assert paragraph.size.height == 2
        assert "enough to wrap" in paragraph._content.plain


async def test_a_start_up_without_the_collector_turns_it_on_once_loaded(make_app, fake_ollama):
    gc.unfreeze()
    gc.disable()  # as `gemloom chat` starts: no collections during the imports
    try:
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            assert gc.isenabled()
            assert gc.get_freeze_count() > 10_000  # what start-up built, out of later walks
    finally:
        gc.enable()


async def test_a_start_up_that_fails_turns_the_collector_on_too(workspace, fake_ollama):
    from gemloom.errors import GemloomError
    from gemloom.settings import load_settings
    from gemloom.workflows.tui.app import GemloomApp

    def broken():
        raise GemloomError("the sessions store is unreadable")

    gc.disable()
    try:
        app = GemloomApp(load_settings(), workspace, sessions_factory=broken)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            while app.connecting:
                await pilot.pause(0.1)
            assert "the sessions store is unreadable" in str(app.query_one("#banner").render())
            assert gc.isenabled()
    finally:
        gc.enable()
