"""`gemloom chat`: the Textual app that supervises agent sessions."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Footer, Header, ListItem, ListView, Static

from gemloom.errors import GemloomError, ModelNotFound, OllamaUnreachable
from gemloom.terminal import visible_data
from gemloom.workflows.tui.chat import (
    AssistantMessage,
    ChatLog,
    CompactionMark,
    ThinkingView,
    ToolCallView,
    UserMessage,
)
from gemloom.workflows.tui.commands import CommandsProvider, SlashCommands
from gemloom.workflows.tui.media import MediaCommands
from gemloom.workflows.tui.memory import MemoryCommands
from gemloom.workflows.tui.meter import Meter
from gemloom.workflows.tui.prompt import PromptArea, PromptHistory
from gemloom.workflows.tui.regenerate import RegenerateCommands
from gemloom.workflows.tui.render import Welcome, help_text, history_views
from gemloom.workflows.tui.turns import DOWN_HINT, TurnControl, coalesce, queued_view

if TYPE_CHECKING:
    from gemloom.settings import Settings

__all__ = ["GemloomApp", "chat_command", "coalesce"]
RETRY_EVERY = 5.0  # seconds between probes while Ollama is down
WARM_UP = ("gemloom.workflows.tui.approval", "textual.widgets._markdown")


class SessionItem(ListItem):
    """A session in the sidebar."""

    def __init__(self, session_id: str, title: str):
        super().__init__(Static(title or "(untitled)", markup=False))
        self.session_id = session_id
        """The session's id."""


class GemloomApp(
    SlashCommands, MediaCommands, MemoryCommands, RegenerateCommands, TurnControl, App[None]
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
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("escape", "stop", "Stop answer", show=False),
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

    # -- background work ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="connect")
    def connect(self) -> None:
        """Load the agent backend and probe Ollama, off the UI thread."""
        # The ignores below: mypy cannot solve Textual's `T | Awaitable[T]` for a coroutine method.
        self.connecting = True
        if self.sessions is None:
            try:
                self._load()
            except GemloomError as exc:
                self.connecting = False
                self.call_from_thread(self.show_banner, str(exc))
                return
            self.call_from_thread(self._loaded)  # type: ignore[arg-type]
        try:
            info = self.sessions.llm.model_info(self.sessions.model)
            if not info.has("completion") or info.has("embedding"):
                raise GemloomError(f"{info.name} cannot chat: ctrl+l picks a chat model.")
        except GemloomError as exc:
            self.model_ok = self.connecting = False
            down = isinstance(exc, OllamaUnreachable | ModelNotFound)
            self.call_from_thread(self.show_banner, str(exc) + (DOWN_HINT if down else ""))
            self.call_from_thread(self.unqueue_to_prompt)  # type: ignore[arg-type]
            return
        self.model_ok, self.connecting = True, False
        self.call_from_thread(self._connected, info.name, info.context_length)  # type: ignore[arg-type]

    def _load(self) -> None:
        """Read the settings and build the agent stack (the heavy imports, after first paint)."""
        if self.settings is None:
            from gemloom.settings import check_host_variable, load_settings

            check_host_variable()  # before ollama is imported: it fails on a bad OLLAMA_HOST
            self.settings = load_settings()
        self.prompts = PromptHistory(self.settings.data_dir / "prompt-history")
        self.call_from_thread(setattr, self, "sub_title", self.settings.chat_model)
        self.sessions = self._factory() if self._factory else _default_sessions(self)
        for module in WARM_UP:  # so the first dialog opens at once
            importlib.import_module(module)

    async def _loaded(self) -> None:
        await self.refresh_sessions()
        sessions = self.sessions.list()
        if sessions and self.session_id is None:
            try:
                await self.open_session(sessions[0].id)  # where the person left off
            except NoMatches:  # the app was closed while the session was opening
                if not self.closing:
                    raise

    async def _connected(self, name: str, context: int) -> None:
        self.show_banner("")
        self.sub_title = f"{name} · {context:,} context"
        self.meter.context_length = context
        await self.flush_queue()

    def _retry_if_down(self) -> None:
        if not self.model_ok and not self.connecting and not self.busy:
            self.connect()

    @work(thread=True, exclusive=True, group="models")
    def load_models(self) -> None:
        """List the models that can chat, starting on (and marking) the current one."""
        from gemloom.workflows.tui.screens import PickScreen

        llm = self.sessions.llm
        current = self.sessions.model
        rows, hidden = [], 0
        try:
            for name in llm.list_models():
                info = llm.model_info(name)
                if "completion" not in info.capabilities or "embedding" in info.capabilities:
                    hidden += 1  # picking it would only fail at the next message
                    continue
                caps = ", ".join(sorted(info.capabilities))
                mark = "● " if name == current else "  "
                rows.append((name, (mark + name, caps, f"{info.context_length:,}")))
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        title = "Chat model (● current; Enter picks, esc cancels)"
        if hidden:
            title += f"; {hidden} model(s) that cannot chat are not listed"
        screen = PickScreen(title, ["model", "capabilities", "context"], rows, start=current)
        self.call_from_thread(self.push_screen, screen, self.use_model)

    def ask_approval(self, request: dict[str, Any]) -> None:
        """Show the approval modal for a pending call, then go on with the answer."""
        from gemloom.workflows.tui.approval import ApprovalScreen

        session_id = self.session_id

        def answered(decision: Any) -> None:
            self.start_turn(lambda: self.sessions.answer(session_id, decision))

        tool = self.sessions.agent.registry.get(request["name"])
        server = getattr(tool, "source", "") if tool else ""
        self.push_screen(ApprovalScreen(request, server=server), answered)

    # -- agent events -------------------------------------------------------------------

    @property
    def chat(self) -> ChatLog:
        """The conversation view."""
        return self.query_one("#chat", ChatLog)

    async def on_agent_event(self, event: Any) -> None:
        """Show one agent event."""
        from gemloom.agents import events as ev
        from gemloom.tools.mcp.tools import McpNotice

        if self.closing:
            return
        match event:
            case ev.Content(text):
                if self._answer is None:
                    self._answer = AssistantMessage()
                    await self.show(self._answer)
                await self._answer.add_text(text)
            case ev.Thinking(text):
                if self._thinking is None:
                    self._thinking = ThinkingView()
                    await self.show(self._thinking)
                self._thinking.append(text)
            case ev.ToolProposed(call_id, name, arguments, risk, _):
                await self.close_answer()
                if self.chat.tool_view(call_id) is None:  # a resumed step proposes again
                    tool = self.sessions.agent.registry.get(name)
                    server = getattr(tool, "source", "") if tool else ""
                    await self.show(ToolCallView(call_id, name, arguments, risk, server))
                self.chat.scroll_end(animate=False)
            case ev.AwaitingApproval(call_id) | ev.Approved(call_id) | ev.Rejected(call_id):
                status = {
                    ev.AwaitingApproval: "waiting",
                    ev.Approved: "approved",
                    ev.Rejected: "rejected",
                }[type(event)]
                if view := self.chat.tool_view(call_id):
                    view.set_status(status, getattr(event, "reason", ""))
            case ev.ToolFinished(call_id, _, result, error):
                if view := self.chat.tool_view(call_id):  # a rejection stays a rejection
                    kept = view.status == "rejected"
                    view.set_status("rejected" if kept else "error" if error else "done", result)
            case ev.Usage():
                self.meter.show(event)
            case ev.Compacted(count, before, after, _):
                await self.show(
                    CompactionMark(
                        f"── {count} older messages compacted: {before:,} → {after:,} tokens ──"
                    )
                )
                self.notify(f"Compacted {count} older messages into a summary.")
            case ev.Cut(reason):
                await self.close_answer()
                await self.note("cut", f"✂ Stopped: {reason}.")
            case ev.Stopped(reason):
                await self.close_answer()
                await self.note("stopped", f"■ Stopped: {reason}.")
            case McpNotice(server, text):  # a server that failed: one line, the session goes on
                await self.note("mcp", f"! MCP server {server}: {text}")

    async def close_answer(self) -> None:
        """Flush the streaming answer and forget the current answer/thinking views."""
        if self._answer is not None:
            await self._answer.finish()
        self._answer = self._thinking = None

    def show_activity(self, text: str) -> None:
        """Show (or clear, with "") what a background task is doing."""
        line = self.query_one("#activity", Static)
        line.update(text)
        line.set_class(bool(text), "shown")

    def show_banner(self, text: str) -> None:
        """Show (or clear, with "") the problem banner."""
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_class(bool(text), "shown")

    # -- sending ------------------------------------------------------------------------

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

    async def send_message(self, text: str, view: UserMessage | None = None) -> None:
        """Send a message (with pending attachments) to the current or a new session."""
        if self.session_id is None:
            self.session_id = self.sessions.create(text[:80])
            await self._drop_welcome()
        assert self.prompts is not None, "a message is sent only after the settings are read"
        self.prompts.add(self.session_id, text)
        images, audio = self.attachments["images"], self.attachments["audio"]
        names = self.attachment_names()
        self.attachments = {"images": [], "audio": []}
        self.attached_names = {"images": [], "audio": []}
        note = f"\n📎 {', '.join(names)}" if names else ""
        shown = text
        if self.codebase is not None:
            root, packed, tokens, _ = self.codebase
            text = f"{packed}\n\n{text}"
            note += f"\n📦 codebase {root.name} ({tokens:,} tokens)"
            self.codebase = None
        self.show_attachments()
        if view is None:
            await self.chat.mount(UserMessage(shown + note, markup=False))
        elif note:
            view.update(shown + note)
        self.chat.scroll_end(animate=False)
        session_id = self.session_id
        self.start_turn(
            lambda: self.sessions.send(session_id, text, images=images, audio=audio), shown
        )

    async def _drop_welcome(self) -> None:
        for welcome in self.query(Welcome):
            await welcome.remove()

    def show_attachments(self) -> None:
        """List what goes with the next message."""
        names = self.attachment_names()
        lines = ["attached: " + ", ".join(names) + " (/detach removes)"] if names else []
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
        await listing.extend(
            SessionItem(info.id, visible_data(info.title)) for info in self.sessions.list()
        )
        if listing.children:
            listing.index = 0

    @on(ListView.Selected, "#sessions")
    async def _session_picked(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SessionItem):  # the list holds nothing else
            await self.open_session(event.item.session_id)

    async def open_session(self, session_id: str) -> None:
        """Show a saved session and continue it from here."""
        self.session_id = session_id
        chat = self.chat
        await chat.remove_children()
        self._answer = self._thinking = None
        assert self.prompts is not None, "sessions open only after the settings are read"
        self.prompt.sent = self.prompts.load(session_id)
        messages = self.sessions.messages(session_id)
        for message in messages:
            await chat.mount(*history_views(visible_data(message)))
        await self._remount_queue()
        chat.scroll_end(animate=False)
        self.prompt.focus()
        self.meter.estimate(messages)
        self.title = f"gemloom · {visible_data(self.sessions.get(session_id).title)}"
        if self.sessions.unfinished(session_id):
            self.notify("This session stopped midway: /resume goes on from its last step.")
        elif request := self.sessions.awaiting(session_id):
            self.ask_approval(request)

    async def _remount_queue(self) -> None:
        for queued in self.queue:
            queued.view = queued_view(queued.text)
            await self.chat.mount(queued.view)

    async def action_new_session(self) -> None:
        """Start a fresh session."""
        self.session_id = None
        await self.chat.remove_children()
        await self.chat.mount(Welcome())
        await self._remount_queue()
        self.prompt.sent = []
        self.meter.reset()
        self.title = "gemloom"

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sessions sidebar."""
        self.query_one("#sidebar").toggle_class("hidden")

    def action_help(self) -> None:
        """Show every binding and command."""
        from gemloom.workflows.tui.screens import HelpScreen

        self.push_screen(HelpScreen(help_text(self)))

    def action_reconnect(self) -> None:
        """Probe Ollama again."""
        self.connect()


def _default_sessions(app: GemloomApp) -> Any:
    from gemloom.agents.sessions import Sessions
    from gemloom.workflows.tui.stopping import StoppableLLM

    return Sessions(app.settings, llm=StoppableLLM(app.settings), workspace=app.workspace)


def chat_command() -> None:
    """Open the TUI: chat with the agent, approve its tools, browse sessions and memory."""
    GemloomApp().run()
