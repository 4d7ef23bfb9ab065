"""The tool-calling agent: a LangGraph StateGraph of a model node and a tool node."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from gemloom import messages as msg
from gemloom.agents import events as ev
from gemloom.agents.approval import Action, Decision, Mode, Policy
from gemloom.agents.compaction import compact, needs_compaction
from gemloom.agents.leaks import extract_leaked_calls, tool_result_texts
from gemloom.agents.state import (
    NOTICE,
    RESET,
    AgentState,
    PendingCall,
    model_view,
    not_run,
    notice,
)
from gemloom.agents.turns import Answerer
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.tools.registry import Registry, Risk, ToolArgumentError, ToolContext

FIX_HINT = "Please fix your mistakes."


@dataclass
class AgentConfig:
    """Limits that keep a small local model from running away."""

    max_steps: int = 20
    max_invalid: int = 3
    repeat_limit: int = 3
    compact_at: float = 0.8
    keep_turns: int = 1
    think: bool | None = None
    model: str | None = None
    max_continuations: int = 2
    """Requests to go on with an answer cut at the length limit before it is reported cut."""


@dataclass
class Agent:
    """Everything the nodes need; `build()` turns it into a StateGraph."""

    llm: LLM
    registry: Registry
    context: ToolContext
    policy: Policy = field(default_factory=Policy)
    config: AgentConfig = field(default_factory=AgentConfig)

    # -- the model node -----------------------------------------------------------------

    def model_node(self, state: AgentState) -> dict[str, Any]:
        """Call the model (compacting first if needed) and collect its answer and tool calls."""
        emit = _writer()
        emit(ev.NodeStarted("model"))
        steps = state.get("steps", 0)
        if steps >= self.config.max_steps:
            return self._stop(
                emit, f"the step budget of {self.config.max_steps} model calls ran out"
            )
        history = model_view(list(state["messages"]))
        prefix: list[msg.Message] = []  # after compaction the new history replaces the old
        if compacted := self._maybe_compact(history, emit):
            history = compacted
            prefix = [{"role": RESET}, *compacted]
        turn, continued = self._answerer().answer(history, emit)
        calls, content, leaked = turn.calls, turn.content, False
        if not calls:
            found = extract_leaked_calls(
                content, self.registry.schemas(), tool_result_texts(history)
            )
            if found[0]:
                calls, content, leaked = found[0], found[1], True
        pending = [
            PendingCall(
                id=uuid.uuid4().hex[:10], name=c["name"], arguments=c["arguments"], leaked=leaked
            )
            for c in calls
        ]
        reply = msg.assistant(
            content, [{"name": c["name"], "arguments": _as_dict(c["arguments"])} for c in calls]
        )
        if turn.thinking:
            reply["thinking"] = turn.thinking
        update = {"messages": [*prefix, reply], "pending": pending, "steps": steps + 1}
        if turn.cut and not calls:
            cut = self._cut(emit, continued)
            update = {**update, **cut, "messages": [*update["messages"], *cut["messages"]]}
        emit(ev.NodeFinished("model"))
        return update

    def _answerer(self) -> Answerer:
        return Answerer(
            self.llm,
            self.registry.schemas(),
            self.config.model,
            self.config.think,
            self.config.max_continuations,
        )

    def _maybe_compact(self, history: list[msg.Message], emit: Callable) -> list | None:
        info = self.llm.model_info(self.config.model)
        tokens = msg.estimate_tokens(history, self.registry.schemas())
        reserve = self.llm.settings.answer_reserve
        if not needs_compaction(tokens, reserve, info.context_length, self.config.compact_at):
            return None
        result = compact(self.llm, history, self.config.keep_turns)
        if result is None:
            return None
        new_history, summary, folded = result
        after = msg.estimate_tokens(new_history, self.registry.schemas())
        emit(ev.Compacted(folded, tokens, after, summary))
        return new_history

    def _stop(self, emit: Callable, reason: str, event: ev.Stopped | None = None) -> dict:
        """End the turn with a visible event and a note that the model never sees."""
        emit(event or ev.Stopped(reason))
        return {"messages": [notice(f"Stopped: {reason}.")], "pending": [], "stop_reason": reason}

    def _cut(self, emit: Callable, continued: int) -> dict[str, Any]:
        tries = f" after {continued} continuation{'s' * (continued != 1)}" if continued else ""
        reason = f"the answer was cut at the context limit{tries}; it is incomplete"
        return self._stop(emit, reason, ev.Cut(reason, continued))

    # -- the tool node ------------------------------------------------------------------

    def tool_node(self, state: AgentState) -> dict[str, Any]:
        """Run the first pending call (one per step, so a resume never re-runs a finished one)."""
        emit = _writer()
        emit(ev.NodeStarted("tools"))
        call, rest = state["pending"][0], state["pending"][1:]
        update = self._run_call(call, state, emit)
        update["pending"] = rest
        if reason := update.get("stop_reason"):  # every queued call still gets its result
            skipped = [self._skipped(c, reason, emit) for c in rest]
            notes = [m for m in update["messages"] if m["role"] == NOTICE]
            results = [m for m in update["messages"] if m["role"] != NOTICE]
            update.update(messages=[*results, *skipped, *notes], pending=[])
        emit(ev.NodeFinished("tools"))
        return update

    def _run_call(self, call: PendingCall, state: AgentState, emit: Callable) -> dict[str, Any]:
        tool = self.registry.get(call["name"])
        risk = tool.risk.value if tool else "read"
        emit(
            ev.ToolProposed(
                call["id"], call["name"], _as_dict(call["arguments"]), risk, call["leaked"]
            )
        )
        if tool is None:
            valid = ", ".join(self.registry.names())
            return self._invalid(
                call, state, emit, f"unknown tool '{call['name']}'. Valid tools: {valid}."
            )
        try:
            arguments = tool.validate(call["arguments"])
        except ToolArgumentError as exc:
            return self._invalid(call, state, emit, str(exc))
        signature = _signature(call["name"], arguments)
        turn_calls = state.get("turn_calls", [])
        if turn_calls.count(signature) + 1 >= self.config.repeat_limit:
            reason = (
                f"a loop: {call['name']} was called again with the same "
                f"arguments ({self.config.repeat_limit} times)"
            )
            stop = self._stop(emit, reason)
            return {**stop, "messages": [self._skipped(call, reason, emit), *stop["messages"]]}
        update: dict[str, Any] = {"invalid_streak": 0, "turn_calls": [*turn_calls, signature]}
        allowed = list(state.get("allowed", []))
        mode = self.policy.mode(tool.risk, tool.name, allowed)
        if mode is Mode.DENY:
            emit(ev.Rejected(call["id"], "denied by policy"))
            return {
                **update,
                "messages": [
                    self._result(
                        call, "Rejected: the approval policy does not allow this tool.", True, emit
                    )
                ],
            }
        if mode is Mode.ASK:
            decision = self._ask(call, arguments, tool.risk, emit)
            if decision.action is Action.REJECT:
                reason = decision.reason or "no reason given"
                emit(ev.Rejected(call["id"], reason))
                text = f"Rejected by the user: {reason}"
                return {**update, "messages": [self._result(call, text, True, emit)]}
            if decision.action is Action.ALWAYS:
                update["allowed"] = [*allowed, tool.name]
            if decision.action is Action.EDIT and decision.arguments is not None:
                try:
                    arguments = tool.validate(decision.arguments)
                except ToolArgumentError as exc:
                    text = f"The user's edited arguments were invalid: {exc}"
                    return {**update, "messages": [self._result(call, text, True, emit)]}
            emit(ev.Approved(call["id"], arguments, decision.action is Action.EDIT))
        images = self.context.services.setdefault("images", [])
        images.clear()
        try:
            text, failed = tool.run(arguments, self.context), False
        except GemloomError as exc:
            text, failed = f"Error: {exc}", True
        except Exception as exc:  # a tool's failure is data for the model, not a crash
            text, failed = f"Error: {type(exc).__name__}: {exc}", True
        produced, images[:] = list(images), []
        return {**update, "messages": [self._result(call, text, failed, emit, produced)]}

    def _ask(self, call: PendingCall, arguments: dict, risk: Risk, emit: Callable) -> Decision:
        request = {
            "call_id": call["id"],
            "name": call["name"],
            "arguments": arguments,
            "risk": risk.value,
        }
        emit(ev.AwaitingApproval(call["id"], call["name"], arguments, risk.value))
        return Decision.parse(interrupt(request))

    def _invalid(self, call: PendingCall, state: AgentState, emit: Callable, problem: str):
        streak = state.get("invalid_streak", 0) + 1
        message = self._result(call, f"Error: {problem}\n {FIX_HINT}", True, emit)
        if streak >= self.config.max_invalid:
            stop = self._stop(emit, f"{streak} invalid tool calls in a row")
            return {**stop, "messages": [message, *stop["messages"]], "invalid_streak": streak}
        return {"messages": [message], "invalid_streak": streak}

    def _skipped(self, call: PendingCall, reason: str, emit: Callable) -> msg.Message:
        message = not_run(call["name"], f"gemloom stopped the turn ({reason})")
        emit(ev.ToolResult(call["id"], call["name"], message["content"], True))
        return message

    def _result(
        self, call: PendingCall, text: str, error: bool, emit: Callable, images: list = ()
    ) -> msg.Message:
        emit(ev.ToolResult(call["id"], call["name"], text, error))
        return msg.tool_result(call["name"], text, images)

    # -- wiring -------------------------------------------------------------------------

    def build(self) -> StateGraph:
        """The uncompiled graph: model -> (tools -> ... -> model) -> end."""
        graph = StateGraph(AgentState)
        graph.add_node("model", self.model_node)
        graph.add_node("tools", self.tool_node)
        graph.add_edge(START, "model")
        graph.add_conditional_edges("model", route_after_model, ["tools", END])
        graph.add_conditional_edges("tools", route_after_tools, ["tools", "model", END])
        return graph


def route_after_model(state: AgentState) -> str:
    """To the tools when the model asked for any, else the turn is over."""
    return "tools" if state.get("pending") else END


def route_after_tools(state: AgentState) -> str:
    """Next pending call, or back to the model, or stop."""
    if state.get("stop_reason"):
        return END
    return "tools" if state.get("pending") else "model"


def _signature(name: str, arguments: dict[str, Any]) -> str:
    return name + json.dumps(arguments, sort_keys=True, default=str)


def _as_dict(arguments: Any) -> dict[str, Any]:
    return arguments if isinstance(arguments, dict) else {"arguments": arguments}


def _writer() -> Callable[[Any], None]:
    try:
        return get_stream_writer()
    except RuntimeError:  # outside a graph run (direct calls in tests)
        return lambda _event: None
