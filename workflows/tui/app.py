"""`gemloom chat`: the Textual app that supervises agent sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, ListView, Static

from gemloom.workflows.tui.chat import AssistantMessage, ChatLog, ThinkingView
from gemloom.workflows.tui.commands import CommandsProvider, SlashCommands
from gemloom.workflows.tui.connection import Connection
from gemloom.workflows.tui.keys import BINDINGS
from gemloom.workflows.tui.media import MediaCommands
from gemloom.workflows.tui.memory import MemoryCommands
from gemloom.workflows.tui.meter import Meter
from gemloom.workflows.tui.prompt import PromptArea, PromptHistory
from gemloom.workflows.tui.regenerate import RegenerateCommands
from gemloom.workflows.tui.render import Welcome, help_text
from gemloom.workflows.tui.sending import Sending
from gemloom.workflows.tui.sidebar import SessionItem, SessionSidebar
from gemloom.workflows.tui.timeline import Timeline
from gemloom.workflows.tui.turns import TurnControl, coalesce

if TYPE_CHECKING:
    from gemloom.settings import Settings

__all__ = ["GemloomApp", "chat_command", "coalesce"]
RETRY_EVERY = 5.0  # seconds between probes while Ollama is down


class MainScreen(Screen[None]):
    """The chat screen; the prompt has focus from its first frame."""

    # Keys typed while gemloom starts wait in the tty and arrive as the screen mounts: with
    # the default "*" they went to the sessions list (the first focusable widget) and were lost.
    AUTO_FOCUS = "#prompt"


class GemloomApp(
    Connection,
    Timeline,
    Sending,
    SessionSidebar,
    SlashCommands,
    MediaCommands,
    MemoryCommands,
    RegenerateCommands,
    TurnControl,
    App[None],
):
    """Chat with an agent, approve its tools, browse sessions, memory and jobs."""

    TITLE = "gemloom"
    COMMANDS = App.COMMANDS | {CommandsProvider}
    CSS = """
    #banner { background: $error; color: $text; padding: 0 1; display: none; }
    #banner.shown { display: block; }
    #sidebar { width: 28; border-right: solid $panel; }
    #sidebar.hidden { display: none; }
    #sidebar > Static { background: $panel; padding: 0 1; }
    #attachments { height: auto; padding: 0 1; color: $accent; display: none; }
    #attachments.shown { display: block; }
    #activity { height: auto; padding: 0 1; color: $text-accent; display: none; }
    #activity.shown { display: block; }
    """
    BINDINGS = BINDINGS

    def __init__(
        self,
        settings: Settings | None = None,
        workspace: Path | None = None,
        sessions_factory: Any = None,
    ):
        super().__init__()
        self.settings: Settings | None = settings
        """The settings the app runs with (read after the first frame when not given)."""
        self.workspace = (workspace or Path.cwd()).resolve()
        """Where tools are confined."""
        self._factory = sessions_factory
        self.sessions: Any = None
        """The Sessions backend, once loaded (heavy imports happen after the first paint)."""
        self.session_id: str | None = None
        """The session on screen."""
        self.attachments: dict[str, list[Any]] = {"images": [], "audio": []}
        """Files to send with the next message."""
        self.attached_names: dict[str, list[str]] = {"images": [], "audio": []}
        """The name of each attached item (a recording is several 30-second items)."""
        self.codebase: tuple[Path, str, int, int] | None = None
        """A loaded codebase waiting to go with the next message: root, pack, tokens, budget."""
        self.model_ok = False
        """Whether the chat model answered its capability probe."""
        self.connecting = True
        """Whether a probe of Ollama is under way."""
        self.prompts: PromptHistory | None = None
        """What was typed, per session (once the settings are read)."""
        self._answer: AssistantMessage | None = None
        self._thinking: ThinkingView | None = None
        self.init_turns()

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="banner", markup=False)
        with Horizontal():
            with Vertical(id="sidebar"):
                yield Static("Sessions (ctrl+b)")
                yield ListView(id="sessions")
            with Vertical():
                with ChatLog(id="chat"):
                    yield Welcome()
                yield Static("", id="attachments", markup=False)
                yield Static("", id="activity", markup=False)
                yield Meter(id="meter")
                yield PromptArea(
                    placeholder="Message (Enter sends, ctrl+j new line), or /help", id="prompt"
                )
        yield Footer()

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def on_mount(self) -> None:
        self.sub_title = "starting…"
        self.prompt.focus()
        if self.size.width < 100:
            self.query_one("#sidebar").add_class("hidden")
        self.call_after_refresh(self.connect)  # once every widget of the screen is mounted
        self.set_interval(RETRY_EVERY, self._retry_if_down)

    @property
    def prompt(self) -> PromptArea:
        """The message box."""
        return self.query_one("#prompt", PromptArea)

    @property
    def meter(self) -> Meter:
        """The context meter of the session on screen."""
        return self.query_one("#meter", Meter)

    @property
    def chat(self) -> ChatLog:
        """The conversation view."""
        return self.query_one("#chat", ChatLog)

    # -- handlers (Textual collects `@on` only from classes it builds) --------------------

    @on(PromptArea.Submitted, "#prompt")
    async def _submitted(self, event: PromptArea.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.prompt.remember(text)
        if text.startswith("/"):
            if self.prompts is None and text.split()[0] != "/help":  # settings not read yet
                self.notify("gemloom is still starting: the command stays in the prompt.")
                return
            event.prompt.clear()
            if self.prompts is not None:
                self.prompts.add(self.session_id, text)
            await self.run_slash(text)
        elif await self.accept(text):
            event.prompt.clear()

    @on(ListView.Selected, "#sessions")
    async def _session_picked(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SessionItem):  # the list holds nothing else
            await self.open_session(event.item.session_id)

    def action_help(self) -> None:
        """Show every binding and command."""
        from gemloom.workflows.tui.screens import HelpScreen

        self.push_screen(HelpScreen(help_text(self)))


def chat_command() -> None:
    """Open the TUI: chat with the agent, approve its tools, browse sessions and memory."""
    GemloomApp().run()
