"""SVG snapshots of the main screens (pytest-textual-snapshot)."""

from fake_ollama import Turn, call
from pilot import wait_until

from gemloom.workflows.tui.approval import ApprovalScreen


async def _ready(pilot) -> None:
    pilot.app.query_one("#prompt").cursor_blink = False  # a blinking cursor makes flaky pictures
    await wait_until(pilot, lambda: pilot.app.model_ok)


async def _idle(pilot) -> None:
    await wait_until(pilot, lambda: not pilot.app.busy and not pilot.app.workers._workers)


def test_empty_chat(snap_compare, make_app, fake_ollama) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=_ready)


def test_chat_with_answer_and_tool(snap_compare, make_app, fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="a.txt")], prompt_eval_count=1200),
        Turn("The file says **alpha**.\n\n- one\n- two", prompt_eval_count=1400),
    )

    async def run_before(pilot) -> None:
        await _ready(pilot)
        pilot.app.query_one("#prompt").value = "What does a.txt say?"
        await pilot.press("enter")
        await _idle(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_approval_modal(snap_compare, make_app, fake_ollama) -> None:
    fake_ollama.script(Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]))

    async def run_before(pilot) -> None:
        await _ready(pilot)
        pilot.app.query_one("#prompt").value = "write it"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
        await wait_until(pilot, lambda: getattr(pilot.app.screen.focused, "id", "") == "approve")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare, make_app, fake_ollama) -> None:
    async def run_before(pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
