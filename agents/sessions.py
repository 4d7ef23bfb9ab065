"""Durable agent sessions: checkpoints (SQLite or PostgreSQL: session_store.py), resume, fork."""

from __future__ import annotations

import builtins
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import StateGraph
from langgraph.types import Command

from gemloom import messages as msg
from gemloom.agents import events as ev
from gemloom.agents.approval import Decision, Policy
from gemloom.agents.config import AgentConfig
from gemloom.agents.graph import build_graph, node_names, stream_events
from gemloom.agents.session_catalogue import COLUMNS, SessionInfo, SessionNotFound
from gemloom.agents.session_store import open_store
from gemloom.agents.state import RESET, fresh_turn, notice
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.settings import Settings, load_settings
from gemloom.tools.registry import Registry, ToolContext, default_registry

SYSTEM_PROMPT = (
    "You are gemloom, a careful assistant running locally. Use the tools when they help; call "
    "them through the tool-calling interface, one step at a time, and answer plainly when done. "
    "The workspace root is {workspace}."
)
_LISTED = ", ".join(COLUMNS)


@dataclass
class AgentParts:
    """What the built-in graph is made of; front ends read the registry and config here."""

    llm: LLM
    registry: Registry
    context: ToolContext
    policy: Policy = field(default_factory=Policy)
    config: AgentConfig = field(default_factory=AgentConfig)


@dataclass
class Checkpoint:
    """One saved step of a session, for rewinding or forking."""

    id: str
    step: int
    messages: int
    next: tuple[str, ...]
    last: str


class Sessions:
    """Start, continue, approve, resume and fork agent sessions."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        llm: LLM | None = None,
        registry: Registry | None = None,
        workspace: Path | None = None,
        policy: Policy | None = None,
        config: AgentConfig | None = None,
        context: ToolContext | None = None,
        graph: StateGraph[Any, Any, Any, Any] | None = None,
        names: tuple[str, str] | None = None,
    ):
        """Sessions of the built-in agent, or of your own `graph` (uncompiled) if given.

        `names` are your graph's model and tool node names (forks, retries and stops need
        them); by default they are read from its ModelNode and ToolNode. `context` is
        the ToolContext every run's tools get (its workspace and session id are set per run).
        """
        self.settings = settings or load_settings()
        self.llm = llm or LLM(self.settings)
        self.workspace = (workspace or Path.cwd()).resolve()
        self._holding: set[tuple[str, int]] = set()  # sessions this process holds, by thread
        self.store = open_store(self.settings)
        self.checkpointer = self.store.checkpointer
        context = context or ToolContext(self.workspace)
        context.llm = context.llm or self.llm
        context.settings = context.settings or self.settings
        self.agent = AgentParts(
            self.llm,
            default_registry() if registry is None else registry,
            context,
            policy or Policy(),
            config or AgentConfig(),
        )
        if graph is None:
            parts = (self.llm, self.agent.registry, self.agent.policy, self.agent.config)
            model, tools = names or ("model", "tools")
            graph = build_graph(*parts, model=model, tools=tools)
        self.names = _checked_names(graph, names)
        self.graph = graph.compile(checkpointer=self.checkpointer)

    @property
    def context(self) -> ToolContext:
        """The ToolContext that this process's runs give their tools."""
        return self.agent.context

    # -- the catalogue ------------------------------------------------------------------

    def create(self, title: str = "", parent: str | None = None, at: str | None = None) -> str:
        """A new, empty session id."""
        session_id = uuid.uuid4().hex[:12]
        now = time.time()
        workspace, host = str(self.workspace), self._new_host()
        if parent:  # a fork works where its parent does, on its host (the prompt is cached there)
            info = self.get(parent)
            workspace, host = info.workspace or workspace, info.host or host
        self._sql(
            f"insert into gemloom_sessions ({', '.join(COLUMNS)}) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, title, now, now, parent, at, workspace, host),
        )
        return session_id

    def _new_host(self) -> str | None:
        """The least busy Ollama server for a new session (None with just one server)."""
        return self.llm.rebalance() if len(self.llm.hosts) > 1 else None

    def _stick(self, session_id: str) -> str | None:
        """Run on the session's own server, so its prompt cache is reused; the host in use."""
        if len(self.llm.hosts) < 2:
            return None
        recorded = self.get(session_id).host
        if self.llm.use_host(recorded) != recorded:  # never recorded, or no longer configured
            self._set_host(session_id)
        return self.llm.host

    def _set_host(self, session_id: str) -> None:
        query = "update gemloom_sessions set host = ? where id = ?"
        self._sql(query, (self.llm.host, session_id))

    def _sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run one catalogue statement under the saver's lock (front ends use threads)."""
        return self.store.sql(query, params)

    def get(self, session_id: str) -> SessionInfo:
        """The catalogue row of a session, or SessionNotFound."""
        rows = self._sql(f"select {_LISTED} from gemloom_sessions where id = ?", (session_id,))
        if not rows:
            raise SessionNotFound(session_id)
        return SessionInfo(*rows[0])

    # Annotations below this method say `builtins.list`: in the class body `list` is this method.
    def list(self) -> list[SessionInfo]:
        """Every session, most recently used first."""
        rows = self._sql(f"select {_LISTED} from gemloom_sessions order by updated desc")
        return [SessionInfo(*row) for row in rows]

    def rename(self, session_id: str, title: str) -> None:
        """Give a session a new title."""
        self.get(session_id)
        self._sql("update gemloom_sessions set title = ? where id = ?", (title, session_id))

    def delete(self, session_id: str) -> None:
        """Remove a session and its checkpoints (refused while another process runs it)."""
        self.get(session_id)
        with self.held(session_id):
            self.checkpointer.delete_thread(session_id)
            self._sql("delete from gemloom_sessions where id = ?", (session_id,))

    def _touch(self, session_id: str, title: str) -> None:
        self._sql(
            "update gemloom_sessions set updated = ?, "
            "title = case when title = '' then ? else title end where id = ?",
            (time.time(), title[:80], session_id),
        )

    # -- running ------------------------------------------------------------------------

    def _config(self, session_id: str, checkpoint: str | None = None) -> RunnableConfig:
        configurable = {"thread_id": session_id}
        if checkpoint:
            configurable["checkpoint_id"] = checkpoint
        return {"configurable": configurable, "recursion_limit": 1000}

    def send(
        self, session_id: str, text: str, images: Iterable[Any] = (), audio: Iterable[Any] = ()
    ) -> Iterator[ev.Event]:
        """Add a user message and run the agent, yielding its events."""
        workspace = self._workspace(session_id)
        with self.held(session_id):
            if self.awaiting(session_id):
                raise GemloomError(
                    f"Session {session_id} is waiting for a tool approval; answer it "
                    "first (`gemloom sessions resume`)."
                )
            first = not self.messages(session_id)
            new = [msg.system(SYSTEM_PROMPT.format(workspace=workspace))] if first else []
            new.append(msg.user(text, images=images, audio=audio))
            self._touch(session_id, text)
            yield from self._drive({"messages": new}, session_id, workspace)

    def answer(self, session_id: str, decision: Decision) -> Iterator[ev.Event]:
        """Answer a pending approval request and go on."""
        workspace = self._workspace(session_id)
        with self.held(session_id):
            if not self.awaiting(session_id):
                raise GemloomError(f"Session {session_id} has no tool call waiting for approval.")
            yield from self._drive(Command(resume=decision.as_resume()), session_id, workspace)

    def resume(self, session_id: str) -> Iterator[ev.Event]:
        """Go on from the last checkpoint after a crash, a kill or an error."""
        workspace = self._workspace(session_id)
        with self.held(session_id):
            yield from self._drive(None, session_id, workspace)

    def held(self, session_id: str) -> AbstractContextManager[None]:
        """This process's turn on a session; another process running it raises Busy at once.

        Re-entrant within one thread, so a front end can hold a session across a whole turn
        (approval prompts included) while send, answer and resume take it again inside.
        """
        key = (session_id, threading.get_ident())
        return nullcontext() if key in self._holding else self._hold(key)

    @contextmanager
    def _hold(self, key: tuple[str, int]) -> Iterator[None]:
        with self.store.hold(key[0]):
            self._holding.add(key)
            try:
                yield
            finally:
                self._holding.discard(key)

    def _workspace(self, session_id: str) -> Path:
        """The folder the session works in: where it was started, not where we run now."""
        recorded = self.get(session_id).workspace
        workspace = Path(recorded) if recorded else self.workspace
        if not workspace.is_dir():
            raise GemloomError(
                f"Session {session_id} works in {workspace}, which is no longer a folder: "
                "restore it, or start a new session."
            )
        return workspace

    def _drive(self, payload: Any, session_id: str, workspace: Path) -> Iterator[ev.Event]:
        config = self._config(session_id)
        host = self._stick(session_id)
        self.context.workspace = workspace
        self.context.session_id = session_id  # provenance for memories
        try:
            yield from stream_events(self.graph, payload, config, self.context)
        except GemloomError as exc:
            yield ev.Error(str(exc))  # front ends show it; the session stays resumable
            raise
        finally:
            self._touch(session_id, "")
            if host and self.llm.host != host:  # it failed over to another server
                self._set_host(session_id)

    # -- inspecting ---------------------------------------------------------------------

    def awaiting(self, session_id: str) -> dict[str, Any] | None:
        """The approval request the session waits on, if any."""
        state = self.graph.get_state(self._config(session_id))
        for task in state.tasks:
            for pending in task.interrupts:
                return dict(pending.value)
        return None

    def unfinished(self, session_id: str) -> bool:
        """Whether a run stopped midway (killed or failed) and can be resumed."""
        state = self.graph.get_state(self._config(session_id))
        return bool(state.next) and self.awaiting(session_id) is None

    def messages(
        self, session_id: str, checkpoint: str | None = None
    ) -> builtins.list[msg.Message]:
        """The session's messages (at a checkpoint, if given)."""
        state = self.graph.get_state(self._config(session_id, checkpoint))
        return list(state.values.get("messages", []))

    def checkpoints(self, session_id: str) -> builtins.list[Checkpoint]:
        """Saved steps, newest first."""
        self.get(session_id)
        found = []
        for snap in self.graph.get_state_history(self._config(session_id)):
            messages = snap.values.get("messages", [])
            last = next((m.get("content", "") for m in reversed(messages)), "")
            found.append(
                Checkpoint(
                    snap.config["configurable"]["checkpoint_id"],
                    snap.metadata.get("step", -1) if snap.metadata else -1,
                    len(messages),
                    tuple(snap.next),
                    str(last)[:60],
                )
            )
        return found

    def fork(self, session_id: str, checkpoint: str | None = None) -> str:
        """A new session that starts from a checkpoint of this one (the latest by default)."""
        info = self.get(session_id)
        state = self.graph.get_state(self._config(session_id, checkpoint))
        if checkpoint and not state.values:
            raise GemloomError(f"Session {session_id} has no checkpoint '{checkpoint}'.")
        new_id = self.create(f"{info.title} (fork)", parent=session_id, at=checkpoint)
        model, tools = self.names
        as_node = tools if model in state.next else model
        values = {k: v for k, v in state.values.items() if k != "messages"}
        values["messages"] = [{"role": RESET}, *state.values.get("messages", [])]
        self.graph.update_state(self._config(new_id), values, as_node=as_node)
        return new_id

    # -- editing a session (front ends) ---------------------------------------------------

    @property
    def model(self) -> str:
        """The chat model the next messages go to."""
        return self.agent.config.model or self.llm.settings.chat_model

    def use_model(self, model: str) -> None:
        """Answer the next messages of every session with this chat model."""
        self.agent.config.model = model

    def drop_last_answer(self, session_id: str) -> bool:
        """Remove what followed the last user message, so `resume` answers it again.

        False (and nothing changed) when the session has no user message yet.
        """
        with self.held(session_id):
            messages = self.messages(session_id)
            last = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
            if last is None:
                return False
            kept = [{"role": RESET}, *messages[: last + 1]]
            # as the tools node: the graph's next step is the model, on exactly these messages
            self._write(session_id, {**fresh_turn(), "messages": kept}, self.names[1])
        return True

    def truncate(self, session_id: str, keep: int) -> None:
        """Keep only the first `keep` messages; the session then waits for a new message."""
        with self.held(session_id):
            kept = [{"role": RESET}, *self.messages(session_id)[:keep]]
            self._write(session_id, {"messages": kept, "pending": []}, self.names[0])

    def keep_partial(self, session_id: str, text: str, why: str) -> bool:
        """Record an answer stopped inside its model call: the text so far, then a notice.

        False (and nothing changed) when the session was not stopped inside a model call.
        """
        with self.held(session_id):
            model = self.names[0]
            if self.graph.get_state(self._config(session_id)).next != (model,):
                return False
            kept = [msg.assistant(text)] if text else []  # the model sees what it had said
            self._write(session_id, {"messages": [*kept, notice(why)], "pending": []}, model)
        return True

    def _write(self, session_id: str, values: dict[str, Any], as_node: str) -> None:
        self.graph.update_state(self._config(session_id), values, as_node=as_node)
        self._touch(session_id, "")


def _checked_names(
    graph: StateGraph[Any, Any, Any, Any], names: tuple[str, str] | None
) -> tuple[str, str]:
    """The model and tool node names of `graph`: as given, else its own, else the built-in ones."""
    nodes = list(graph.nodes)
    found = names or node_names(graph) or ("model", "tools")
    missing = [name for name in found if name not in nodes]
    if missing:
        problem = f"has no node '{missing[0]}'" if names else "has no ModelNode and ToolNode"
        raise GemloomError(
            f"The graph {problem} (its nodes: {', '.join(nodes)}): pass "
            "names=(model node, tool node) to Sessions or Agent."
        )
    return found
