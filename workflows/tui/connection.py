"""Reaching Ollama from the TUI: load the agent stack, probe the model, retry while it is down."""

from __future__ import annotations

import gc
import importlib
from typing import TYPE_CHECKING, Any

from textual import work
from textual.css.query import NoMatches
from textual.widgets import Static

from gemloom.errors import GemloomError, ModelNotFound, OllamaUnreachable
from gemloom.workflows.tui.prompt import PromptHistory
from gemloom.workflows.tui.turns import DOWN_HINT, settle_heap

if TYPE_CHECKING:
    from gemloom.settings import Settings

WARM_UP = ("gemloom.workflows.tui.approval", "textual.widgets._markdown")


class Connection:
    """Mixin for GemloomApp: the agent backend, the model probe and the problem banner."""

    settings: Settings | None  # set by the app
    prompts: PromptHistory | None

    @work(thread=True, exclusive=True, group="connect")
    def connect(self: Any) -> None:
        """Load the agent backend and probe Ollama, off the UI thread."""
        self.connecting = True
        if self.sessions is None:
            try:
                self._load()
            except GemloomError as exc:
                self.connecting = False
                self.call_from_thread(self.show_banner, str(exc))
                return
            finally:
                collect_again()
            self.call_from_thread(self._loaded)
        try:
            info = self.sessions.llm.model_info(self.sessions.model)
            if not info.has("completion") or info.has("embedding"):
                raise GemloomError(f"{info.name} cannot chat: ctrl+l picks a chat model.")
        except GemloomError as exc:
            self.model_ok = self.connecting = False
            down = isinstance(exc, OllamaUnreachable | ModelNotFound)
            self.call_from_thread(self.show_banner, str(exc) + (DOWN_HINT if down else ""))
            self.call_from_thread(self.unqueue_to_prompt)
            return
        self.model_ok, self.connecting = True, False
        self.call_from_thread(self._connected, info.name, info.context_length)

    def _load(self: Any) -> None:
        """Read the settings and build the agent stack (the heavy imports, after first paint)."""
        if self.settings is None:
            from gemloom.settings import check_host_variable, load_settings

            check_host_variable()  # before ollama is imported: it fails on a bad OLLAMA_HOST
            self.settings = load_settings()
        self.prompts = PromptHistory(self.settings.data_dir / "prompt-history")
        self.call_from_thread(setattr, self, "sub_title", self.settings.chat_model)
        self.sessions = self._factory() if self._factory else _default_sessions(self)
        self.sessions.llm.on_failover = self.failed_over  # a line in the chat, not on stderr
        for module in WARM_UP:  # so the first dialog opens at once
            importlib.import_module(module)

    async def _loaded(self: Any) -> None:
        await self.refresh_sessions()
        sessions = self.sessions.list()
        if sessions and self.session_id is None:
            try:
                await self.open_session(sessions[0].id)  # where the person left off
            except NoMatches:  # the app was closed while the session was opening
                if not self.closing:
                    raise

    async def _connected(self: Any, name: str, context: int) -> None:
        self.show_banner("")
        self.sub_title = f"{name} · {context:,} context"
        self.meter.context_length = context
        await self.flush_queue()

    def _retry_if_down(self: Any) -> None:
        if not self.model_ok and not self.connecting and not self.busy:
            self.connect()

    @work(thread=True, exclusive=True, group="models")
    def load_models(self: Any) -> None:
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

    def show_banner(self: Any, text: str) -> None:
        """Show (or clear, with "") the problem banner."""
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_class(bool(text), "shown")

    def action_reconnect(self: Any) -> None:
        """Probe Ollama again."""
        self.connect()


def _default_sessions(app: Any) -> Any:
    from gemloom.agents.sessions import Sessions
    from gemloom.workflows.tui.stopping import StoppableLLM

    return Sessions(app.settings, llm=StoppableLLM(app.settings), workspace=app.workspace)


def collect_again() -> None:
    """Freeze what start-up built and turn the collector on (`gemloom chat` starts without it)."""
    if not gc.isenabled():
        settle_heap()  # the one freeze per process; the first turn then finds it done
        gc.enable()
