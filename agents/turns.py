"""One model answer for the agent: streamed, nudged once when empty, continued when cut."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemloom import messages as msg
from gemloom.agents import events as ev
from gemloom.errors import ModelOutputError
from gemloom.llm import LLM, ContentDelta, Done, ThinkingDelta, ToolCalls

EMPTY_NUDGE = (
    "Your last reply was empty. If you meant to call a tool, call it again through the "
    "tool-calling interface with valid arguments; otherwise answer in plain text."
)
CONTINUE_PROMPT = (
    "Your answer above was cut off by the length limit. Continue it exactly where it stopped, "
    "without repeating anything."
)


@dataclass
class Turn:
    """What the model produced in one answer (possibly over several requests)."""

    content: str = ""
    thinking: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    done_reason: str = ""

    @property
    def empty(self) -> bool:
        """No answer text and no tool call (thinking alone answers nothing)."""
        return not self.content.strip() and not self.calls

    @property
    def cut(self) -> bool:
        """Ollama stopped it at the length limit (num_ctx or num_predict)."""
        return self.done_reason == "length"


@dataclass
class Answerer:
    """Asks the model for one answer and keeps it from being empty or silently cut."""

    llm: LLM
    tools: Sequence[Mapping[str, Any]]
    model: str | None = None
    think: bool | None = None
    max_continuations: int = 2
    count: Callable[[Sequence[msg.Message], Sequence[Mapping]], int] = msg.estimate_tokens
    """How the request's messages are counted (`LLM.prepare`'s `count`)."""

    def answer(self, history: list[msg.Message], emit: Callable) -> tuple[Turn, int]:
        """The model's answer to `history`, and how many continuations it took."""
        turn = self.request(history, emit)
        if turn.empty:  # Ollama drops a tool call its parser cannot read, and only logs it
            turn = self.request([*history, msg.user(EMPTY_NUDGE)], emit)
            if turn.empty:
                raise ModelOutputError(
                    "The model answered with nothing twice (a tool call Ollama could not parse "
                    "is dropped without a word); try again, rephrase, or use a larger model."
                )
        continued = 0
        while turn.cut and not turn.calls and continued < self.max_continuations:
            more = self.request(
                [*history, msg.assistant(turn.content), msg.user(CONTINUE_PROMPT)], emit
            )
            turn = Turn(
                turn.content + more.content,
                turn.thinking + more.thinking,
                more.calls,
                more.done_reason,
            )
            continued += 1
        return turn, continued

    def request(self, history: list[msg.Message], emit: Callable) -> Turn:
        """One streamed request, with its pieces emitted as they come."""
        turn, content, thinking = Turn(), [], []
        request = self.llm.stream(
            history, model=self.model, tools=self.tools, think=self.think, count=self.count
        )
        for event in request:
            if isinstance(event, ContentDelta):
                content.append(event.text)
                emit(ev.Content(event.text))
            elif isinstance(event, ThinkingDelta):
                thinking.append(event.text)
                emit(ev.Thinking(event.text))
            elif isinstance(event, ToolCalls):
                turn.calls += [{"name": c.name, "arguments": c.arguments} for c in event.calls]
            elif isinstance(event, Done):
                turn.done_reason = event.stats.done_reason
                emit(self._usage(event))
        turn.content, turn.thinking = "".join(content), "".join(thinking)
        return turn

    def _usage(self, done: Done) -> ev.Usage:
        stats = done.stats
        context = self.llm.model_info(self.model).context_length
        return ev.Usage(
            stats.prompt_eval_count,
            stats.estimated_prompt_tokens,
            stats.num_ctx,
            context,
            answer_tokens=stats.eval_count,
            eval_seconds=stats.eval_duration_ns / 1e9,
            done_reason=stats.done_reason,
        )
