"""SVG snapshots of the main screens (pytest-textual-snapshot).

Every figure on screen comes from the script, never from the request: the fake counts prompt
tokens from the request's characters, and the system prompt holds the workspace path, so a count
derived from the request would change with the length of the folder the tests run in.
"""

from fake_ollama import Turn, call
from pilot import idle, say, wait_until

from gemloom.workflows.tui.approval import ApprovalScreen
from gemloom.workflows.tui.chat import AssistantMessage


async def _ready(pilot) -> None:
    pilot.app.query_one("#prompt").cursor_blink = False  # a blinking cursor makes flaky pictures
    await wait_until(pilot, lambda: pilot.app.model_ok)


def test_first_screen(snap_compare, make_app, fake_ollama) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=_ready)


def test_first_screen_at_80x24(snap_compare, make_app, fake_ollama) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_ready)


def test_chat_with_answer_and_tool(snap_compare, make_app, fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="a.txt")], prompt_eval_count=1200),
        Turn("The file says **alpha**.\n\n- one\n- two", prompt_eval_count=1400),
    )

    async def run_before(pilot) -> None:
        await _ready(pilot)
        await say(pilot, "What does a.txt say?")
        await idle(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_approval_modal(snap_compare, make_app, fake_ollama) -> None:
    fake_ollama.script(
        Turn(
            tool_calls=[call("write_text_file", path="n.txt", content="hi")], prompt_eval_count=900
        )
    )

    async def run_before(pilot) -> None:
        await _ready(pilot)
        await say(pilot, "write it")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
        await wait_until(pilot, lambda: getattr(pilot.app.screen.focused, "id", "") == "approve")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_stopped_turn(snap_compare, make_app, fake_ollama) -> None:
    first = "The first paragraph arrives whole.\n\n"
    # one piece, then a long pause before the next: Escape lands between them, always
    fake_ollama.script(Turn(first + "Never shown. " * 20, chunk_chars=len(first), delay=1.0))

    async def run_before(pilot) -> None:
        await _ready(pilot)
        await say(pilot, "Tell me everything")
        await wait_until(pilot, lambda: any(m.text for m in pilot.app.query(AssistantMessage)))
        await pilot.press("escape")
        await idle(pilot)
        pilot.app.query_one("#prompt").cursor_blink = False

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare, make_app, fake_ollama) -> None:
    async def run_before(pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
