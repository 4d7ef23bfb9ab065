"""An Ollama client the TUI can stop mid-answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from gemloom import messages as msg
from gemloom.errors import GemloomError
from gemloom.llm import LLM, StreamEvent


class AnswerStopped(GemloomError):
    """The person stopped the answer (Escape)."""

    def __init__(self) -> None:
        super().__init__("Stopped by you.")


class StoppableLLM(LLM):
    """LLM whose stream ends with AnswerStopped at the next piece once `stop` is set."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stop = threading.Event()
        """Set from the UI thread; checked before the request and between streamed pieces."""

    def stream(self, messages: Sequence[msg.Message], **kwargs: Any) -> Iterator[StreamEvent]:
        """LLM.stream, cut short when `stop` is set."""
        if self.stop.is_set():
            raise AnswerStopped()
        for event in super().stream(messages, **kwargs):
            if self.stop.is_set():
                raise AnswerStopped()  # leaving the loop closes the HTTP stream
            yield event
