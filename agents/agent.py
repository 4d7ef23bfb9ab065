"""The Agent facade: tools, a model and a policy in one object, over durable sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph

from gemloom.agents import events as ev
from gemloom.agents.approval import Action, Decision, Policy
from gemloom.agents.config import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.settings import Settings
from gemloom.tools.registry import Registry, Tool, as_registry

Approver = Callable[[ev.AwaitingApproval], "Decision | Action | str | bool"]
"""Answers an approval request: a Decision, an Action, "approve"/"reject", or True/False."""


class ApprovalRequired(GemloomError):
    """A call waits for approval and no `approve=` callback was given to answer it."""

    def __init__(self, session_id: str, name: str):
        super().__init__(
            f"Tool '{name}' needs approval in session {session_id}: pass approve=... to Agent, "
            "answer it with agent.decide(...), or allow it in the policy."
        )


class AgentStopped(GemloomError):
    """The agent stopped before it answered (step budget, a loop, invalid calls, a cut)."""


class Agent:
    """An agent over durable sessions: `run(prompt)` answers, `stream(prompt)` yields events.

    `tools=None` offers gemloom's built-in tools; a list offers exactly those (plain functions
    become read-only tools). `session=` resumes a session by id (`agent.session_id`).
    """

    def __init__(
        self,
        tools: Registry | Iterable[Tool | Callable[..., Any]] | None = None,
        *,
        model: str | None = None,
        policy: Policy | None = None,
        approve: Approver | None = None,
        session: str | None = None,
        workspace: Path | None = None,
        settings: Settings | None = None,
        llm: LLM | None = None,
        config: AgentConfig | None = None,
        graph: StateGraph | None = None,
        names: tuple[str, str] | None = None,
    ):
        config = config or AgentConfig()
        config.model = model or config.model
        registry = None if tools is None else as_registry(tools)
        self.sessions = Sessions(
            settings, llm=llm, registry=registry, workspace=workspace, policy=policy,
            config=config, graph=graph, names=names,
        )  # fmt: skip
        self.approve = approve
        self.session_id = self.sessions.get(session).id if session else self.sessions.create()

    def stream(self, prompt: str | None = None, **media: Any) -> Iterator[ev.Event]:
        """The run's events; without a prompt, go on with a run that was killed or failed.

        `images=` and `audio=` (paths or bytes) go with the prompt. Approval requests are
        answered by the `approve` callback; without one the stream ends at the request.
        """
        sid = self.session_id
        events = self.sessions.send(sid, prompt, **media) if prompt else self.sessions.resume(sid)
        while True:
            yield from events
            request = self.sessions.awaiting(sid)
            if request is None or self.approve is None:
                return
            events = self.sessions.answer(sid, _decision(self.approve(_event(request))))

    def run(self, prompt: str | None = None, **media: Any) -> str:
        """The answer to `prompt` (or of the resumed run); AgentStopped if it stopped first."""
        stopped = [e for e in self.stream(prompt, **media) if isinstance(e, ev.Stopped)]
        return self._answer(stopped)

    def decide(self, decision: Decision | Action | str | bool) -> Iterator[ev.Event]:
        """Answer the approval request the session waits on, and go on."""
        return self.sessions.answer(self.session_id, _decision(decision))

    def messages(self) -> list[dict[str, Any]]:
        """The session's history as saved."""
        return self.sessions.messages(self.session_id)

    def _answer(self, stopped: list[ev.Stopped]) -> str:
        if request := self.sessions.awaiting(self.session_id):
            raise ApprovalRequired(self.session_id, request["name"])
        if stopped:
            raise AgentStopped(f"The agent stopped: {stopped[-1].reason}.")
        said = [m for m in self.messages() if m.get("role") == "assistant"]
        return str(said[-1].get("content", "")) if said else ""


def _event(request: dict[str, Any]) -> ev.AwaitingApproval:
    return ev.AwaitingApproval(
        request["call_id"], request["name"], request["arguments"], request["risk"]
    )


def _decision(value: Decision | Action | str | bool) -> Decision:
    """A Decision from what an approver may return."""
    if isinstance(value, bool):
        return Decision(Action.APPROVE if value else Action.REJECT)
    try:
        return Decision.parse(value)
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise GemloomError(f"Unreadable approval answer {value!r}: use one of {choices}.") from None
