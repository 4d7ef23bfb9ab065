"""`gemloom chat`: the Textual app that supervises agent sessions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, ListItem, ListView, Static

from gemloom.errors import GemloomError, ModelNotFound, OllamaUnreachable
from gemloom.settings import Settings, load_settings
from gemloom.workflows.tui.chat import (
    AssistantMessage,
    ChatLog,
    CompactionMark,
    ThinkingView,
    ToolCallView,
    UserMessage,
)
from gemloom.workflows.tui.commands import SLASH_HELP, CommandsProvider, SlashCommands
from gemloom.workflows.tui.media import MediaCommands
from gemloom.workflows.tui.memory import MemoryCommands
from gemloom.workflows.tui.screens import HelpScreen

WARN_AT = 0.7  # of the context: warn before compaction starts at 0.8
FRAME = 0.2  # seconds: streamed text reaches the screen at most this often


class SessionItem(ListItem):
    """A session in the sidebar."""

    def __init__(self, session_id: str, title: str):
        super().__init__(Static(title or "(untitled)", markup=False))
        self.session_id = session_id
        """The session's id."""


class GemloomApp(SlashCommands, MediaCommands, MemoryCommands, App[None]):
    """Chat with an agent, approve its tools, browse sessions, memory and jobs."""

    TITLE = "gemloom"
    COMMANDS = App.COMMANDS | {CommandsProvider}
    CSS = """
    #banner { background: $error; color: $text; padding: 0 1; display: none; }
    #banner.shown { display: block; }
    #sidebar { width: 28; border-right: solid $panel; }
    #sidebar.hidden { display: none; }
    #sidebar > Static { background: $panel; padding: 0 1; }
    #meter { height: 1; padding: 0 1; color: $text-muted; }
    #meter.warn { color: $warning; }
    #attachments { height: auto; padding: 0 1; color: $accent; display: none; }
    #attachments.shown { display: block; }
    #prompt { dock: bottom; }
    """
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+n", "new_session", "New"),
        Binding("ctrl+b", "toggle_sidebar", "Sessions"),
        Binding("ctrl+l", "models", "Models"),
        Binding("ctrl+g", "jobs", "Jobs"),
        Binding("ctrl+y", "memory", "Memory"),
        Binding("ctrl+r", "reconnect", "Reconnect", show=False),
        Binding("ctrl+e", "rename", "Rename", show=False),
        Binding("ctrl+d", "delete_session", "Delete", show=False),
        Binding("ctrl+f", "fork", "Fork", show=False),
        Binding("ctrl+t", "history", "Rewind/fork", show=False),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        workspace: Path | None = None,
        sessions_factory: Callable[[], Any] | None = None,
    ):
        super().__init__()
        self.settings = settings or load_settings()
        """The settings the app runs with."""
        self.workspace = (workspace or Path.cwd()).resolve()
        """Where tools are confined."""
        self._factory = sessions_factory
        self.sessions: Any = None
        """The Sessions backend, once loaded (heavy imports happen after the first paint)."""
        self.session_id: str | None = None
        """The session on screen."""
        self.attachments: dict[str, list[Any]] = {"images": [], "audio": []}
        """Files to send with the next message."""
        self.codebase: tuple[Path, str, int, int] | None = None
        """A loaded codebase waiting to go with the next message: root, pack, tokens, budget."""
        self.busy = False
        """Whether the agent is running."""
        self.model_ok = False
        """Whether the chat model answered its capability probe."""
        self._warned = False
        self._answer: AssistantMessage | None = None
        self._thinking: ThinkingView | None = None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="banner", markup=False)
        with Horizontal():
            with Vertical(id="sidebar"):
                yield Static("Sessions")
                yield ListView(id="sessions")
            with Vertical():
                yield ChatLog(id="chat")
                yield Static("", id="attachments", markup=False)
                yield Static("context: -", id="meter")
                yield Input(placeholder="Message, or /help for commands", id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.settings.chat_model
        self.query_one("#prompt", Input).focus()
        if self.size.width < 100:
            self.query_one("#sidebar").add_class("hidden")
        self.connect()

    # -- background work ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="connect")
    def connect(self) -> None:
        """Load the agent backend and probe Ollama, off the UI thread."""
        if self.sessions is None:
            try:
                self.sessions = self._factory() if self._factory else _default_sessions(self)
            except GemloomError as exc:
                self.call_from_thread(self.show_banner, str(exc))
                return
            self.call_from_thread(self.refresh_sessions)
        try:
            info = self.sessions.llm.model_info(self.sessions.agent.config.model)
        except (OllamaUnreachable, ModelNotFound) as exc:
            self.model_ok = False
            hint = " Browsing works; ctrl+r retries."
            self.call_from_thread(self.show_banner, str(exc) + hint)
            return
        except GemloomError as exc:
            self.call_from_thread(self.show_banner, str(exc))
            return
        self.model_ok = True
        self.call_from_thread(self.show_banner, "")
        self.call_from_thread(self._set_model, info.name, info.context_length)

    @work(thread=True, exclusive=True, group="models")
    def load_models(self) -> None:
        """List the models Ollama has, with capabilities, and let the person pick one."""
        from gemloom.workflows.tui.screens import PickScreen

        llm = self.sessions.llm
        try:
            rows = []
            for name in llm.list_models():
                info = llm.model_info(name)
                caps = ", ".join(sorted(info.capabilities))
                rows.append((name, (name, caps, f"{info.context_length:,}")))
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        screen = PickScreen("Chat model:", ["model", "capabilities", "context"], rows)
        self.call_from_thread(self.push_screen, screen, self.use_model)

    def _set_model(self, name: str, context: int) -> None:
        self.sub_title = f"{name} · {context:,} context"

    @work(thread=True, exclusive=True, group="agent")
    def drive(self, make_events: Callable[[], Iterator[Any]]) -> None:
        """Run the agent in a thread and hand each event to the UI."""
        self.busy = True
        try:
            for batch in coalesce(make_events()):
                self.call_from_thread(self.on_agent_event, batch)
        except GemloomError as exc:
            if isinstance(exc, OllamaUnreachable | ModelNotFound):
                self.call_from_thread(self.show_banner, f"{exc} Browsing works; ctrl+r retries.")
        finally:
            self.busy = False
            self.call_from_thread(self._turn_finished)

    async def _turn_finished(self) -> None:
        if self._answer is not None:
            await self._answer.finish()
        self._answer = self._thinking = None
        await self.refresh_sessions()
        if self.session_id and (request := self.sessions.awaiting(self.session_id)):
            self.ask_approval(request)

    def ask_approval(self, request: dict[str, Any]) -> None:
        """Show the approval modal for a pending call, then go on with the answer."""
        from gemloom.workflows.tui.approval import ApprovalScreen

        session_id = self.session_id

        def answered(decision: Any) -> None:
            self.drive(lambda: self.sessions.answer(session_id, decision))

        self.push_screen(ApprovalScreen(request), answered)

    # -- agent events -------------------------------------------------------------------

    @property
    def chat(self) -> ChatLog:
        """The conversation view."""
        return self.query_one("#chat", ChatLog)

    async def on_agent_event(self, event: Any) -> None:
        """Show one agent event."""
        from gemloom.agents import events as ev

        match event:
            case ev.Content(text):
                if self._answer is None:
                    self._answer = AssistantMessage()
                    await self.chat.mount(self._answer)
                await self._answer.add_text(text)
            case ev.Thinking(text):
                if self._thinking is None:
                    self._thinking = ThinkingView()
                    await self.chat.mount(self._thinking)
                self._thinking.append(text)
            case ev.ToolProposed(call_id, name, arguments, risk, _):
                await self._close_answer()
                if self.chat.tool_view(call_id) is None:  # a resumed step proposes again
                    await self.chat.mount(ToolCallView(call_id, name, arguments, risk))
                self.chat.scroll_end(animate=False)
            case ev.AwaitingApproval(call_id) | ev.Approved(call_id) | ev.Rejected(call_id):
                status = {
                    ev.AwaitingApproval: "waiting",
                    ev.Approved: "approved",
                    ev.Rejected: "rejected",
                }[type(event)]
                if view := self.chat.tool_view(call_id):
                    view.set_status(status, getattr(event, "reason", ""))
            case ev.ToolResult(call_id, _, result, error):
                if view := self.chat.tool_view(call_id):
                    view.set_status("error" if error else "done", result)
            case ev.Usage():
                self.show_usage(event.prompt_tokens, event.context_length, event.estimated_tokens)
            case ev.Compacted(count, before, after, _):
                await self.chat.mount(
                    CompactionMark(
                        f"── {count} older messages compacted: {before:,} → {after:,} tokens ──"
                    )
                )
                self.notify(f"Compacted {count} older messages into a summary.")
            case ev.Stopped(reason):
                self.notify(f"Stopped: {reason}", severity="warning")
            case ev.Error(message):
                self.notify(message, severity="error", timeout=10)

    async def _close_answer(self) -> None:
        if self._answer is not None:
            await self._answer.finish()
        self._answer = self._thinking = None

    def show_usage(self, counted: int, context: int, estimated: int) -> None:
        """Update the context meter (Ollama's count, and how far our estimate was off)."""
        used = counted or estimated
        share = used / context if context else 0.0
        ratio = f" · Ollama/estimate {counted / estimated:.2f}" if counted and estimated else ""
        meter = self.query_one("#meter", Static)
        meter.update(f"context: {used:,} / {context:,} tokens ({share:.0%}){ratio}")
        meter.set_class(share >= WARN_AT, "warn")
        if share >= WARN_AT and not self._warned:
            self._warned = True
            self.notify(
                f"Context {share:.0%} full: older turns are compacted at 80%.", severity="warning"
            )

    def show_banner(self, text: str) -> None:
        """Show (or clear, with "") the problem banner."""
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_class(bool(text), "shown")

    # -- sending ------------------------------------------------------------------------

    @on(Input.Submitted, "#prompt")
    async def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        if text.startswith("/"):
            await self.run_slash(text)
            return
        await self.send_message(text)

    async def send_message(self, text: str) -> None:
        """Send a message (with pending attachments) to the current or a new session."""
        if self.sessions is None:
            self.notify("Still starting up; try again in a moment.", severity="warning")
            return
        if self.busy:
            self.notify("The agent is still working.", severity="warning")
            return
        if not self.model_ok:
            self.notify("The chat model is not available; see the banner.", severity="error")
            return
        if self.session_id is None:
            self.session_id = self.sessions.create(text[:80])
        images, audio = self.attachments["images"], self.attachments["audio"]
        self.attachments = {"images": [], "audio": []}
        note = f"\n📎 {len(images)} image(s), {len(audio)} audio" if images or audio else ""
        shown = text
        if self.codebase is not None:
            root, packed, tokens, _ = self.codebase
            text = f"{packed}\n\n{text}"
            note += f"\n📦 codebase {root.name} ({tokens:,} tokens)"
            self.codebase = None
        self.show_attachments()
        await self.chat.mount(UserMessage(shown + note, markup=False))
        self.chat.scroll_end(animate=False)
        session_id = self.session_id
        self.drive(lambda: self.sessions.send(session_id, text, images=images, audio=audio))

    def show_attachments(self) -> None:
        """List what goes with the next message."""
        names = [f"image {n}" for n in range(len(self.attachments["images"]))]
        names += [f"audio {n}" for n in range(len(self.attachments["audio"]))]
        lines = ["attached: " + ", ".join(names)] if names else []
        if self.codebase is not None:
            root, _, tokens, budget = self.codebase
            lines.append(
                f"codebase {root.name}: {tokens:,} / {budget:,} tokens "
                f"({tokens / budget:.0%} of its budget)"
            )
        bar = self.query_one("#attachments", Static)
        bar.update("\n".join(lines))
        bar.set_class(bool(lines), "shown")

    # -- sessions -----------------------------------------------------------------------

    async def refresh_sessions(self) -> None:
        """Reload the sidebar."""
        if self.sessions is None:
            return
        listing = self.query_one("#sessions", ListView)
        await listing.clear()
        await listing.extend(SessionItem(info.id, info.title) for info in self.sessions.list())
        if listing.children:
            listing.index = 0

    @on(ListView.Selected, "#sessions")
    async def _session_picked(self, event: ListView.Selected) -> None:
        await self.open_session(event.item.session_id)

    async def open_session(self, session_id: str) -> None:
        """Show a saved session and continue it from here."""
        self.session_id = session_id
        chat = self.chat
        await chat.remove_children()
        self._answer = self._thinking = None
        for message in self.sessions.messages(session_id):
            await chat.mount(*_render_history(message))
        chat.scroll_end(animate=False)
        self.query_one("#prompt", Input).focus()
        self.title = f"gemloom · {self.sessions.get(session_id).title}"
        if self.sessions.unfinished(session_id):
            self.notify("This session stopped midway: /resume goes on from its last step.")
        elif request := self.sessions.awaiting(session_id):
            self.ask_approval(request)

    async def action_new_session(self) -> None:
        """Start a fresh session."""
        self.session_id = None
        await self.chat.remove_children()
        self.title = "gemloom"

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sessions sidebar."""
        self.query_one("#sidebar").toggle_class("hidden")

    def action_help(self) -> None:
        """Show every binding and command."""
        self.push_screen(HelpScreen(_help_text(self)))

    def action_reconnect(self) -> None:
        """Probe Ollama again."""
        self.connect()


def coalesce(events: Iterator[Any], every: float = FRAME) -> Iterator[Any]:
    """Merge answer pieces that arrive within `every` seconds into one Content event.

    Each hand-over to the UI thread costs a layout pass; at 50 tokens a second, one per token
    makes key presses wait behind reflows.
    """
    from gemloom.agents import events as ev

    pending: list[str] = []
    last = 0.0
    for event in events:
        if isinstance(event, ev.Content):
            pending.append(event.text)
            if time.monotonic() - last < every:
                continue
        if pending:
            yield ev.Content("".join(pending))
            pending = []
            last = time.monotonic()
        if not isinstance(event, ev.Content):
            yield event
    if pending:
        yield ev.Content("".join(pending))


def _render_history(message: dict[str, Any]) -> list[Any]:
    role, content = message["role"], message.get("content", "")
    if role == "user":
        if content.startswith("[Summary of the earlier conversation]"):
            return [CompactionMark("── earlier turns compacted into a summary ──")]
        return [UserMessage(content, markup=False)]
    if role == "assistant":
        views: list[Any] = [AssistantMessage(content)] if content else []
        for index, call in enumerate(message.get("tool_calls", [])):
            fn = call["function"]
            views.append(ToolCallView(f"h{index}", fn["name"], fn["arguments"], ""))
        return views
    if role == "tool":
        return [Static(f"  ← {message.get('tool_name', '')}: {content[:200]}", markup=False)]
    return []


def _help_text(app: App) -> str:
    keys = "\n".join(
        f"| `{b.key}` | {b.description} |" for b in app.BINDINGS if isinstance(b, Binding)
    )
    return (
        "# gemloom chat\n\n| key | action |\n|---|---|\n"
        + keys
        + "\n| `ctrl+p` | command palette |\n| `ctrl+q` | quit |\n\n"
        + "In the approval dialog: `y` approve, `a` always allow this tool, `e` edit the "
        "arguments (then `ctrl+s`), `n` reject with a reason, `escape` reject.\n\n"
        + "## Commands\n\n"
        + SLASH_HELP
    )


def _default_sessions(app: GemloomApp) -> Any:
    from gemloom.agents.sessions import Sessions

    return Sessions(app.settings, workspace=app.workspace)


def chat_command() -> None:
    """Open the TUI: chat with the agent, approve its tools, browse sessions and memory."""
    GemloomApp().run()
