"""Texts and views the app builds from data: the first screen, help, and a saved history."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.widgets import Static

from gemloom.workflows.tui.chat import (
    AssistantMessage,
    CompactionMark,
    ToolCallView,
    TurnNote,
    UserMessage,
)
from gemloom.workflows.tui.commands import SLASH_HELP

GEMLOOM_STOP = "[gemloom] Stopped: "  # how older sessions stored gemloom's stop notes

WELCOME = """\
gemloom runs a local Gemma 4 agent with tools.
Type a message and press Enter.

  /attach PATH    add an image to the next message
  /load PATH      put a codebase in the next message
  /remember TEXT  keep a note;  /recall Q  search notes
  Writes ask you first: y approve, a always, e edit, n reject.

  Enter send · ctrl+j new line · Up/Down earlier prompts
  Esc stop the answer · ctrl+b sessions · ctrl+n new
  ctrl+l model · F1 every key · ctrl+q quit"""


class Welcome(Static):
    """The first screen: what gemloom can do and the keys, shown until a session opens."""

    DEFAULT_CSS = "Welcome { color: $text-muted; padding: 1 1; }"

    def __init__(self) -> None:
        super().__init__(WELCOME, markup=False, id="welcome")


def history_views(message: dict[str, Any]) -> list[Any]:
    """The widgets that show one stored message."""
    from gemloom.agents.state import NOTICE

    role, content = message["role"], message.get("content", "")
    if role == NOTICE:  # gemloom's own note (a stop, a cut), never shown to the model
        kind = "cut" if " cut " in content else "stopped"
        return [TurnNote(f"■ {content}", kind)]
    if role == "user":
        if content.startswith("[Summary of the earlier conversation]"):
            return [CompactionMark("── earlier turns compacted into a summary ──")]
        return [UserMessage(content, markup=False)]
    if role == "assistant":
        return _assistant_views(content, message.get("tool_calls", []))
    if role == "tool":
        return [Static(f"  ← {message.get('tool_name', '')}: {content[:200]}", markup=False)]
    return []


def _assistant_views(content: str, calls: list[dict[str, Any]]) -> list[Any]:
    if content.startswith(GEMLOOM_STOP):
        return [TurnNote(f"■ gemloom stopped the turn: {content[len(GEMLOOM_STOP) :]}", "stopped")]
    views: list[Any] = [AssistantMessage(content)] if content else []
    for index, call in enumerate(calls):
        fn = call["function"]
        views.append(ToolCallView(f"h{index}", fn["name"], fn["arguments"], ""))
    return views


def help_text(app: App) -> str:
    """Every binding and slash command, as Markdown."""
    keys = "\n".join(
        f"| `{b.key}` | {b.description} |" for b in app.BINDINGS if isinstance(b, Binding)
    )
    return (
        "# gemloom chat\n\n| key | action |\n|---|---|\n"
        + keys
        + "\n| `enter` | send the message |\n| `shift+enter` / `ctrl+j` | new line |"
        + "\n| `up` / `down` | earlier prompts of this session |"
        + "\n| `ctrl+p` | command palette |\n| `ctrl+q` | quit (asks while an answer runs) |\n\n"
        + "In the approval dialog (keys count once you stop typing for a moment): `y` approve, "
        "`a` always allow this tool, `e` edit the arguments (then `ctrl+s`; `escape` leaves "
        "the editor), `n` reject with a reason, `escape` reject.\n\n"
        + "## Commands\n\n"
        + SLASH_HELP
        + "\n\n*End of help: escape closes it.*"
    )
