"""What gemloom.llm hands back: model facts, tool calls, stream events and a turn's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelInfo:
    """What a model can do, from /api/show."""

    name: str
    capabilities: frozenset[str]
    context_length: int
    family: str = ""

    def has(self, capability: str) -> bool:
        """Whether the model announces this capability."""
        return capability in self.capabilities


@dataclass
class ToolCall:
    """A tool call the model made."""

    name: str
    arguments: dict[str, Any]


@dataclass
class Stats:
    """Figures of one finished call; `ratio` is Ollama's prompt count over our estimate."""

    model: str
    num_ctx: int
    estimated_prompt_tokens: int
    prompt_eval_count: int = 0
    eval_count: int = 0
    total_duration_ns: int = 0
    done_reason: str = ""
    eval_duration_ns: int = 0  # time spent generating the answer (Ollama's eval_duration)
    num_predict: int = 0

    @property
    def cut(self) -> bool:
        """Whether the answer stopped at its token limit (done_reason "length")."""
        return self.done_reason == "length"

    @property
    def ratio(self) -> float | None:
        """prompt_eval_count / estimate, or None when Ollama did not count."""
        if not self.prompt_eval_count or not self.estimated_prompt_tokens:
            return None
        return self.prompt_eval_count / self.estimated_prompt_tokens


@dataclass
class ThinkingDelta:
    """A piece of the model's reasoning text."""

    text: str


@dataclass
class ContentDelta:
    """A piece of the answer text."""

    text: str


@dataclass
class ToolCalls:
    """Tool calls the model made in this turn."""

    calls: list[ToolCall]


@dataclass
class Done:
    """The end of a turn, with its figures."""

    stats: Stats

    @property
    def done_reason(self) -> str:
        """Ollama's reason for ending: "stop", or "length" when the answer was cut."""
        return self.stats.done_reason


StreamEvent = ThinkingDelta | ContentDelta | ToolCalls | Done


@dataclass
class ChatResult:
    """A whole turn: answer, reasoning, tool calls and figures."""

    content: str
    thinking: str
    tool_calls: list[ToolCall]
    stats: Stats
    events: list[StreamEvent] = field(default_factory=list, repr=False)

    @property
    def done_reason(self) -> str:
        """Ollama's reason for ending: "stop", or "length" when the answer was cut."""
        return self.stats.done_reason

    @property
    def cut(self) -> bool:
        """Whether the answer stopped at its token limit, so it is incomplete."""
        return self.stats.cut
