"""The agent's typed state and its reducers."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from gemloom.messages import Message

RESET = "__reset__"


def merge_messages(left: list[Message], right: list[Message]) -> list[Message]:
    """Append messages; a list starting with a RESET marker replaces the history (compaction)."""
    if right and right[0].get("role") == RESET:
        return list(right[1:])
    return [*left, *right]


class PendingCall(TypedDict):
    """A tool call proposed by the model and not yet run."""

    id: str
    name: str
    arguments: Any
    leaked: bool


class AgentState(TypedDict, total=False):
    """What the graph checkpoints after every step."""

    messages: Annotated[list[Message], merge_messages]
    pending: list[PendingCall]
    steps: int
    """Model calls since the last user message."""
    turn_calls: list[str]
    """Signatures of the tool calls run since the last user message (loop detection)."""
    invalid_streak: int
    """Invalid or unknown tool calls in a row."""
    allowed: list[str]
    """Tools the supervisor allowed for the rest of the session."""
    stop_reason: str
    last_prompt_tokens: int


def fresh_turn() -> dict[str, Any]:
    """State fields reset when a new user message arrives."""
    return {"pending": [], "steps": 0, "turn_calls": [], "invalid_streak": 0, "stop_reason": ""}
