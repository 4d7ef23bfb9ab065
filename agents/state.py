"""The agent's typed state and its reducers."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from gemloom.messages import Message, tool_result

RESET = "__reset__"
NOTICE = "gemloom"
"""The role of gemloom's own notes in a saved history; they are never sent to the model."""
NOT_RUN = "Not run: {reason}."


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
    """The tool calls run since the last user message, each as its name and a hash of its name
    and arguments (loop detection)."""
    invalid_streak: int
    """Invalid or unknown tool calls in a row."""
    allowed: list[str]
    """Tools the supervisor allowed for the rest of the session."""
    stop_reason: str
    last_prompt_tokens: int


def fresh_turn() -> dict[str, Any]:
    """State fields reset when a new user message arrives."""
    return {"pending": [], "steps": 0, "turn_calls": [], "invalid_streak": 0, "stop_reason": ""}


def notice(text: str) -> Message:
    """A note from gemloom itself (a stop, a cut answer) kept in the history for people."""
    return {"role": NOTICE, "content": text}


def _legacy_notice(message: Message) -> bool:
    """Older sessions saved gemloom's stop notes as assistant messages."""
    content = message.get("content") or ""
    return message.get("role") == "assistant" and content.startswith("[gemloom] ")


def model_view(messages: list[Message]) -> list[Message]:
    """The history as the model may see it: no notices, and a result for every tool call.

    A run killed between a call and its result, or stopped with calls still queued, leaves
    calls without results; each gets a "Not run" result so the history stays well formed.
    """
    out: list[Message] = []
    calls: list[Any] = []  # those of the last assistant message without a result yet
    for message in messages:
        role = message.get("role")
        if role == "tool":
            out.append(message)
            del calls[:1]
            continue
        if role == NOTICE or (role == "assistant" and _legacy_notice(message)):
            continue
        out += [not_run(c["function"]["name"], "the turn ended first") for c in calls]
        out.append(message)
        calls = list(message.get("tool_calls") or []) if role == "assistant" else []
    out += [not_run(c["function"]["name"], "the turn ended first") for c in calls]
    return out


def not_run(name: str, reason: str) -> Message:
    """The result that stands in for a call gemloom did not run."""
    return tool_result(name, NOT_RUN.format(reason=reason))
