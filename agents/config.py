"""The limits an agent's nodes keep to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AgentConfig:
    """Limits that keep a small local model from running away."""

    max_steps: int = 20
    max_invalid: int = 3
    repeat_limit: int = 3
    compact_at: float = 0.8
    keep_turns: int = 1
    think: bool | None = None
    model: str | None = None
    max_continuations: int = 2
    """Requests to go on with an answer cut at the length limit before it is reported cut."""
