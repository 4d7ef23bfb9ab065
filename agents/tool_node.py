"""The tool node: one pending call per step, with validation, loop checks and approval."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from langgraph.runtime import get_runtime
from langgraph.types import interrupt

from gemloom import messages as msg
from gemloom.agents import events as ev
from gemloom.agents.approval import Action, Decision, Mode, Policy
from gemloom.agents.config import AgentConfig
from gemloom.agents.model_node import as_dict, stop
from gemloom.agents.state import NOTICE, AgentState, PendingCall, not_run
from gemloom.errors import GemloomError
from gemloom.tools.registry import (
    Registry,
    Risk,
    Tool,
    ToolArgumentError,
    ToolContext,
    ToolResult,
    as_registry,
)
from gemloom.tools.stream import writer

FIX_HINT = "Please fix your mistakes."


class ToolNode:
    """Run the first pending call; write and execute calls wait for approval as the policy says.

    One call per step, so a resumed run never repeats a finished call. Tools get the
    ToolContext passed as the run's LangGraph `context=`, else the one given here.
    """

    def __init__(
        self,
        tools: Registry | Iterable[Tool | Callable[..., Any]],
        policy: Policy | None = None,
        config: AgentConfig | None = None,
        *,
        context: ToolContext | None = None,
        name: str = "tools",
    ):
        self.registry = as_registry(tools)
        self.policy = policy or Policy()
        self.config = config or AgentConfig()
        self.context = context
        self.name = name

    def __call__(self, state: AgentState) -> dict[str, Any]:
        """One step: the update to merge into the state."""
        emit = writer()
        emit(ev.NodeStarted(self.name))
        call, rest = state["pending"][0], state["pending"][1:]
        update = self._run_call(call, state, emit)
        update["pending"] = rest
        if reason := update.get("stop_reason"):  # every queued call still gets its result
            skipped = [_skipped(c, reason, emit) for c in rest]
            notes = [m for m in update["messages"] if m["role"] == NOTICE]
            results = [m for m in update["messages"] if m["role"] != NOTICE]
            update.update(messages=[*results, *skipped, *notes], pending=[])
        emit(ev.NodeFinished(self.name))
        return update

    def tool_context(self) -> ToolContext:
        """The run's ToolContext (LangGraph `context=`), else this node's, else the cwd's."""
        try:
            given = get_runtime().context
        except RuntimeError:  # called outside a graph run
            given = None
        if isinstance(given, ToolContext):
            return given
        if self.context is None:
            self.context = ToolContext(Path.cwd())
        return self.context

    def _run_call(self, call: PendingCall, state: AgentState, emit: Callable) -> dict[str, Any]:
        tool = self.registry.get(call["name"])
        arguments = as_dict(call["arguments"])
        risk = tool.risk.value if tool else "read"
        emit(ev.ToolProposed(call["id"], call["name"], arguments, risk, call["leaked"]))
        if tool is None:
            valid = ", ".join(self.registry.names())
            problem = f"unknown tool '{call['name']}'. Valid tools: {valid}."
            return self._invalid(call, state, emit, problem)
        try:
            arguments = tool.validate(call["arguments"])
        except ToolArgumentError as exc:
            return self._invalid(call, state, emit, str(exc))
        # name and arguments, hashed: every checkpoint holds the turn's list, and a call's
        # arguments can be a whole file (write_text_file)
        called = call["name"] + json.dumps(arguments, sort_keys=True, default=str)
        signature = f"{call['name']}:{hashlib.blake2b(called.encode(), digest_size=8).hexdigest()}"
        turn_calls = state.get("turn_calls", [])
        if turn_calls.count(signature) + 1 >= self.config.repeat_limit:
            reason = (
                f"a loop: {call['name']} was called again with the same "
                f"arguments ({self.config.repeat_limit} times)"
            )
            stopped = stop(emit, reason)
            return {**stopped, "messages": [_skipped(call, reason, emit), *stopped["messages"]]}
        update: dict[str, Any] = {"invalid_streak": 0, "turn_calls": [*turn_calls, signature]}
        return {**update, **self._approve_and_run(tool, call, arguments, state, emit)}

    def _approve_and_run(
        self, tool: Tool, call: PendingCall, arguments: dict, state: AgentState, emit: Callable
    ) -> dict[str, Any]:
        update: dict[str, Any] = {}
        allowed = list(state.get("allowed", []))
        mode = self.policy.mode(tool.risk, tool.name, allowed)
        if mode is Mode.DENY:
            emit(ev.Rejected(call["id"], "denied by policy"))
            text = "Rejected: the approval policy does not allow this tool."
            return {"messages": [_result(call, ToolResult(text), True, emit)]}
        if mode is Mode.ASK:
            decision = _ask(call, arguments, tool.risk, emit)
            if decision.action is Action.REJECT:
                reason = decision.reason or "no reason given"
                emit(ev.Rejected(call["id"], reason))
                text = f"Rejected by the user: {reason}"
                return {"messages": [_result(call, ToolResult(text), True, emit)]}
            if decision.action is Action.ALWAYS:
                update["allowed"] = [*allowed, tool.name]
            if decision.action is Action.EDIT and decision.arguments is not None:
                try:
                    arguments = tool.validate(decision.arguments)
                except ToolArgumentError as exc:
                    text = f"The user's edited arguments were invalid: {exc}"
                    return {**update, "messages": [_result(call, ToolResult(text), True, emit)]}
            emit(ev.Approved(call["id"], arguments, decision.action is Action.EDIT))
        result, failed = self._execute(tool, arguments)
        return {**update, "messages": [_result(call, result, failed, emit)]}

    def _execute(self, tool: Tool, arguments: dict[str, Any]) -> tuple[ToolResult, bool]:
        try:
            return tool.run(arguments, self.tool_context()), False
        except GemloomError as exc:
            return ToolResult(f"Error: {exc}"), True
        except Exception as exc:  # a tool's failure is data for the model, not a crash
            return ToolResult(f"Error: {type(exc).__name__}: {exc}"), True

    def _invalid(self, call: PendingCall, state: AgentState, emit: Callable, problem: str):
        streak = state.get("invalid_streak", 0) + 1
        message = _result(call, ToolResult(f"Error: {problem}\n {FIX_HINT}"), True, emit)
        if streak >= self.config.max_invalid:
            stopped = stop(emit, f"{streak} invalid tool calls in a row")
            return {
                **stopped,
                "messages": [message, *stopped["messages"]],
                "invalid_streak": streak,
            }
        return {"messages": [message], "invalid_streak": streak}


def _ask(call: PendingCall, arguments: dict, risk: Risk, emit: Callable) -> Decision:
    """Pause the run for the supervisor (LangGraph interrupt); the answer resumes it."""
    request = {"call_id": call["id"], "name": call["name"], "arguments": arguments,
               "risk": risk.value}  # fmt: skip
    emit(ev.AwaitingApproval(call["id"], call["name"], arguments, risk.value))
    return Decision.parse(interrupt(request))


def _skipped(call: PendingCall, reason: str, emit: Callable) -> msg.Message:
    message = not_run(call["name"], f"gemloom stopped the turn ({reason})")
    emit(ev.ToolFinished(call["id"], call["name"], message["content"], True))
    return message


def _result(call: PendingCall, result: ToolResult, error: bool, emit: Callable) -> msg.Message:
    emit(ev.ToolFinished(call["id"], call["name"], result.text, error))
    return msg.tool_result(call["name"], result.text, result.images)
