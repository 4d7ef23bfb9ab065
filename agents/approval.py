"""Approval policy and the supervisor's decisions for write and execute tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gemloom.tools.registry import Risk


class Mode(StrEnum):
    """What happens before a tool of some risk runs."""

    ASK = "ask"
    ALLOW = "allow"
    DENY = "deny"


@dataclass
class Policy:
    """Per-risk modes; read tools run freely, write and execute tools ask by default."""

    modes: dict[Risk, Mode] = field(
        default_factory=lambda: {
            Risk.READ: Mode.ALLOW,
            Risk.WRITE: Mode.ASK,
            Risk.EXECUTE: Mode.ASK,
        }
    )

    @classmethod
    def allow_all(cls) -> Policy:
        """Everything runs without asking (`--yes`)."""
        return cls({risk: Mode.ALLOW for risk in Risk})

    @classmethod
    def deny_risky(cls) -> Policy:
        """Only read tools run; write and execute calls are refused."""
        return cls({Risk.READ: Mode.ALLOW, Risk.WRITE: Mode.DENY, Risk.EXECUTE: Mode.DENY})

    def mode(self, risk: Risk, tool: str, allowed: list[str]) -> Mode:
        """The mode for one call, given the tools allowed for this session."""
        mode = self.modes.get(risk, Mode.ASK)
        if mode is Mode.ASK and tool in allowed:
            return Mode.ALLOW
        return mode


class Action(StrEnum):
    """The supervisor's answer to an approval request."""

    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"
    ALWAYS = "always"


@dataclass
class Decision:
    """An answer to an approval request, sent back with `Command(resume=...)`."""

    action: Action
    arguments: dict[str, Any] | None = None
    reason: str = ""

    @classmethod
    def parse(cls, value: Any) -> Decision:
        """Accept a Decision, a dict, or a bare action string from a resume value."""
        if isinstance(value, Decision):
            return value
        if isinstance(value, str):
            return cls(Action(value))
        if isinstance(value, dict):
            return cls(
                Action(value.get("action", "reject")),
                value.get("arguments"),
                value.get("reason", ""),
            )
        return cls(Action.REJECT, reason=f"unreadable approval answer {value!r}")

    def as_resume(self) -> dict[str, Any]:
        """The plain value to pass as `Command(resume=...)` (checkpoint friendly)."""
        return {"action": self.action.value, "arguments": self.arguments, "reason": self.reason}
