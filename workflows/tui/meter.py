"""The context meter: how full the context of the session on screen is, in plain words."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

WARN_AT = 0.7  # of the context: warn before compaction starts at 0.8
EMPTY = "context: nothing sent yet in this session"


class Meter(Static):
    """One line under the chat: context use, and the last answer's size and speed."""

    DEFAULT_CSS = """
    Meter { height: 1; padding: 0 1; color: $text-muted; }
    Meter.warn { color: $text-warning; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(EMPTY, markup=False, **kwargs)
        self.context_length = 0
        """The chat model's context, once known."""
        self._warned = False

    def reset(self) -> None:
        """A new session: no figures yet."""
        self._warned = False
        self.remove_class("warn")
        self.update(EMPTY)

    def estimate(self, messages: list[Any]) -> None:
        """A reopened session: our own estimate until Ollama counts the next call."""
        from gemloom import messages as msg

        self.reset()
        if messages and self.context_length:
            used = msg.estimate_tokens(messages)
            self.update(f"context: about {used:,} of {self.context_length:,} used (estimated)")

    def show(self, usage: Any) -> None:
        """Figures of the last model call, from its Usage event (Ollama's count when given)."""
        used, context = usage.prompt_tokens or usage.estimated_tokens, usage.context_length
        share = used / context if context else 0.0
        how = "" if usage.prompt_tokens else " (estimated)"
        text = f"context: {used:,} of {context:,} used{how} ({share:.0%})"
        if count := usage.answer_tokens:
            text += f" · answer: {count:,} token{'s' if count != 1 else ''}"
            if usage.speed:
                text += f", {usage.speed:,.0f}/s"
        self.update(text)
        self.set_class(share >= WARN_AT, "warn")
        if share >= WARN_AT and not self._warned:
            self._warned = True
            self.notify(
                f"Context {share:.0%} full: older turns are compacted at 80%.", severity="warning"
            )
