"""Typed events the agent nodes stream to any front end (sent with `tools/stream.writer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NodeStarted:
    """A graph node began."""

    node: str


@dataclass
class NodeFinished:
    """A graph node ended."""

    node: str


@dataclass
class Thinking:
    """A piece of the model's reasoning."""

    text: str


@dataclass
class Content:
    """A piece of the model's answer."""

    text: str


@dataclass
class ToolProposed:
    """The model asked for a tool call."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    risk: str = "read"
    leaked: bool = False
    """True when the call was recovered from the answer text rather than `tool_calls`."""


@dataclass
class AwaitingApproval:
    """A write or execute call waits for the supervisor."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    risk: str


@dataclass
class Approved:
    """The supervisor let a call run (possibly with edited arguments)."""

    call_id: str
    arguments: dict[str, Any]
    edited: bool = False


@dataclass
class Rejected:
    """The supervisor or the policy refused a call."""

    call_id: str
    reason: str


@dataclass
class ToolFinished:
    """A call's result as the model gets it (or the error that goes back to the model)."""

    call_id: str
    name: str
    result: str
    error: bool = False


@dataclass
class Compacted:
    """Older turns were replaced by a summary."""

    messages: int
    tokens_before: int
    tokens_after: int
    summary: str = field(repr=False, default="")


@dataclass
class Usage:
    """Context use and answer figures of the last model call, from Ollama's own count."""

    prompt_tokens: int
    estimated_tokens: int
    num_ctx: int
    context_length: int
    answer_tokens: int = 0
    """Tokens generated (Ollama's eval_count)."""
    eval_seconds: float = 0.0
    """Time spent generating them (Ollama's eval_duration)."""
    done_reason: str = ""

    @property
    def speed(self) -> float:
        """Generated tokens per second (0 when Ollama gave no duration)."""
        return self.answer_tokens / self.eval_seconds if self.eval_seconds else 0.0


@dataclass
class Stopped:
    """The agent stopped before finishing (step budget, loop, invalid calls)."""

    reason: str


@dataclass
class Cut(Stopped):
    """The answer hit the length limit and stayed cut after the continuations allowed."""

    continuations: int = 0


@dataclass
class Error:
    """An error ended the run; the session stays resumable."""

    message: str


Event = (
    NodeStarted
    | NodeFinished
    | Thinking
    | Content
    | ToolProposed
    | AwaitingApproval
    | Approved
    | Rejected
    | ToolFinished
    | Compacted
    | Usage
    | Stopped
    | Cut
    | Error
)
