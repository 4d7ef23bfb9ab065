"""The approval dialog: type-ahead never decides, key hints show, Escape leaves the editor."""

import gc

from fake_ollama import Turn, call
from pilot import approval_shown, idle, running, say, wait_until
from textual.widgets import Button, Input, TextArea

from gemloom.workflows.tui.approval import ApprovalScreen
from gemloom.workflows.tui.chat import ToolCallView


def write_turns() -> list[Turn]:
    return [Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]), Turn("Done.")]


async def dialog_up(pilot) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
    return pilot.app.screen


async def test_keys_typed_ahead_never_decide(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(*write_turns())
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        screen = await dialog_up(pilot)
        assert gc.get_threshold()[2] > 10_000  # no full collection pause while the guard runs
        await pilot.press(*"and then", "enter", "y", "space")  # still typing the next message
        assert app.screen is screen and not (workspace / "n.txt").exists()
        assert app.query_one(ToolCallView).status == "waiting"
        assert not isinstance(screen.focused, TextArea | Input)  # 'e' did not open the editor
        assert "ignored" in str(screen.query_one("#guard").render())
        await wait_until(pilot, lambda: screen.armed)
        await pilot.press("y")
        await idle(pilot)
        assert (workspace / "n.txt").read_text() == "hi"
        assert gc.get_threshold()[2] < 10_000  # given back once the turn is over


async def test_each_swallowed_key_restarts_the_guard(make_app, fake_ollama, monkeypatch) -> None:
    from gemloom.workflows.tui import approval

    monkeypatch.setattr(approval, "GUARD", 2.0)  # long enough that a slow machine stays inside
    fake_ollama.script(*write_turns())
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        screen = await dialog_up(pilot)
        for _ in range(3):  # steady typing: the wait starts again after each key
            before = screen._armed_at
            await pilot.pause(0.1)
            await pilot.press("x")
            assert screen._armed_at > before and not screen.armed
        await wait_until(pilot, lambda: screen.armed)
        await pilot.press("escape")
        await idle(pilot)
        assert app.query_one(ToolCallView).status == "rejected"  # rejected


async def test_buttons_show_their_keys_and_the_style_is_a_warning(make_app, fake_ollama) -> None:
    fake_ollama.script(*write_turns())
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        await approval_shown(pilot)
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Approve [y]", "Always [a]", "Edit [e]", "Reject [n]"]
        box = app.screen.query_one("Vertical")
        assert box.border_title == "⚠ Approval needed"
        assert box.styles.border_top[0] == "heavy"  # the other dialogs use "thick"


async def test_escape_in_the_editor_leaves_the_editor(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(*write_turns())
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        await approval_shown(pilot)
        await pilot.press("e")
        assert isinstance(app.screen.focused, TextArea)
        await pilot.press("escape")
        assert isinstance(app.screen, ApprovalScreen)  # not rejected
        assert app.screen.focused.id == "approve"
        await pilot.press("n")
        assert isinstance(app.screen.focused, Input)
        await pilot.press("escape")
        assert isinstance(app.screen, ApprovalScreen) and app.screen.focused.id == "approve"
        await pilot.press("y")
        await idle(pilot)
        assert (workspace / "n.txt").read_text() == "hi"
