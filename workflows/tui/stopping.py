"""An Ollama client the TUI can stop mid-answer, and that keeps the figures of each call."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gemloom import messages as msg
from gemloom.errors import GemloomError
from gemloom.llm import LLM, StreamEvent


class AnswerStopped(GemloomError):
    """The person stopped the answer (Escape)."""

    def __init__(self) -> None:
        super().__init__("Stopped by you.")


@dataclass(frozen=True)
class CallFigures:
    """Ollama's own figures for one finished model call."""

    prompt_tokens: int
    answer_tokens: int
    eval_seconds: float
    done_reason: str

    @property
    def speed(self) -> float:
        """Generated tokens per second (0 when Ollama gave no duration)."""
        return self.answer_tokens / self.eval_seconds if self.eval_seconds else 0.0


class StoppableLLM(LLM):
    """LLM whose stream ends with AnswerStopped at the next piece once `stop` is set."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stop = threading.Event()
        """Set from the UI thread; checked before the request and between streamed pieces."""
        self.last: CallFigures | None = None
        """The figures of the last finished call."""

    def stream(self, messages: Sequence[msg.Message], **kwargs: Any) -> Iterator[StreamEvent]:
        """LLM.stream, cut short when `stop` is set."""
        if self.stop.is_set():
            raise AnswerStopped()
        for event in super().stream(messages, **kwargs):
            if self.stop.is_set():
                raise AnswerStopped()  # leaving the loop closes the HTTP stream
            yield event

    def _events(self, part: Any, stats: Any) -> Iterator[StreamEvent]:
        if part.done:
            self.last = CallFigures(
                part.prompt_eval_count or 0,
                part.eval_count or 0,
                (part.eval_duration or 0) / 1e9,
                part.done_reason or "",
            )
        yield from super()._events(part, stats)
