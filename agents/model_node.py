"""The model node: one model call per step, for gemloom's agent graph or your own StateGraph."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from gemloom import messages as msg
from gemloom.agents import events as ev
from gemloom.agents.compaction import compact, needs_compaction
from gemloom.agents.config import AgentConfig
from gemloom.agents.leaks import extract_leaked_calls, tool_result_texts
from gemloom.agents.state import RESET, AgentState, PendingCall, fresh_turn, model_view
from gemloom.agents.state import notice as note
from gemloom.agents.turns import Answerer
from gemloom.llm import LLM
from gemloom.tools.registry import Registry, Tool, as_registry
from gemloom.tools.stream import writer


class ModelNode:
    """Call the model (compacting first if needed) and queue the tool calls it asks for.

    A user message after the last answer starts a new turn: the node resets the per-turn
    counters (steps, loop detection, stop reason) itself, so callers only send messages.
    """

    def __init__(
        self,
        llm: LLM,
        tools: Registry | Iterable[Tool | Callable[..., Any]] = (),
        config: AgentConfig | None = None,
        *,
        name: str = "model",
    ):
        self.llm = llm
        self.registry = as_registry(tools)
        self.config = config or AgentConfig()
        self.name = name
        # the history's estimate (compaction check, request): the state's messages are never
        # changed in place, so each is estimated once
        self._history_tokens = msg.HistoryTokens()

    def __call__(self, state: AgentState) -> dict[str, Any]:
        """One step: the update to merge into the state."""
        emit = writer()
        emit(ev.NodeStarted(self.name))
        turn = fresh_turn() if starts_turn(state.get("messages", [])) else {}
        steps = 0 if turn else state.get("steps", 0)
        if steps >= self.config.max_steps:
            reason = f"the step budget of {self.config.max_steps} model calls ran out"
            return {**turn, **stop(emit, reason)}
        history = model_view(list(state["messages"]))
        prefix: list[msg.Message] = []  # after compaction the new history replaces the old
        if compacted := self._maybe_compact(history, emit):
            history = compacted
            prefix = [{"role": RESET}, *compacted]
        update = {**turn, **self._answer(history, emit), "steps": steps + 1}
        update["messages"] = [*prefix, *update["messages"]]
        emit(ev.NodeFinished(self.name))
        return update

    def _answer(self, history: list[msg.Message], emit: Callable) -> dict[str, Any]:
        schemas = self.registry.schemas()
        answerer = Answerer(
            self.llm, schemas, self.config.model, self.config.think, self.config.max_continuations,
            count=self._history_tokens,
        )  # fmt: skip
        turn, continued = answerer.answer(history, emit)
        calls, content, leaked = turn.calls, turn.content, False
        if not calls:
            found = extract_leaked_calls(content, schemas, tool_result_texts(history))
            if found[0]:
                calls, content, leaked = found[0], found[1], True
        pending = [
            PendingCall(id=uuid.uuid4().hex[:10], name=c["name"], arguments=c["arguments"],
                        leaked=leaked)
            for c in calls
        ]  # fmt: skip
        reply = msg.assistant(
            content, [{"name": c["name"], "arguments": as_dict(c["arguments"])} for c in calls]
        )
        if turn.thinking:
            reply["thinking"] = turn.thinking
        update: dict[str, Any] = {"messages": [reply], "pending": pending}
        if turn.cut and not calls:
            cut = _cut(emit, continued)
            update = {**update, **cut, "messages": [reply, *cut["messages"]]}
        return update

    def _maybe_compact(self, history: list[msg.Message], emit: Callable) -> list | None:
        info = self.llm.model_info(self.config.model)
        schemas = self.registry.schemas()
        tokens = self._history_tokens(history, schemas)
        reserve = self.llm.settings.answer_reserve
        if not needs_compaction(tokens, reserve, info.context_length, self.config.compact_at):
            return None
        result = compact(self.llm, history, self.config.keep_turns)
        if result is None:
            return None
        new_history, summary, folded = result
        after = msg.estimate_tokens(new_history, schemas)
        emit(ev.Compacted(folded, tokens, after, summary))
        return new_history


def starts_turn(messages: list[msg.Message]) -> bool:
    """Whether the last message that counts is the user's: then a new turn begins."""
    for message in reversed(messages):
        role = message.get("role")
        if role in ("user", "assistant", "tool"):
            return role == "user"
    return True  # RESET, NOTICE and system messages say nothing about turns


def stop(emit: Callable, reason: str, event: ev.Stopped | None = None) -> dict[str, Any]:
    """End the turn with a visible event and a note that the model never sees."""
    emit(event or ev.Stopped(reason))
    return {"messages": [note(f"Stopped: {reason}.")], "pending": [], "stop_reason": reason}


def _cut(emit: Callable, continued: int) -> dict[str, Any]:
    tries = f" after {continued} continuation{'s' * (continued != 1)}" if continued else ""
    reason = f"the answer was cut at the context limit{tries}; it is incomplete"
    return stop(emit, reason, ev.Cut(reason, continued))


def as_dict(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments as a dict (a model may send something else)."""
    return arguments if isinstance(arguments, dict) else {"arguments": arguments}
