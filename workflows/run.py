"""Agent sessions on the terminal: show events, ask for approval, drive a turn (gemloom run)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from gemloom.agents import events as ev
from gemloom.agents.approval import Action, Decision, Policy
from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.errors import ExitCode
from gemloom.terminal import json_text, safe, visible
from gemloom.tools.audio.tools import MeetingProgress
from gemloom.tools.mcp.tools import McpNotice
from gemloom.tools.registry import default_registry

PROMPT = "[y]es / [n]o / [a]lways for this session / [e]dit: "
ANSWERS = {
    "y": Action.APPROVE,
    "yes": Action.APPROVE,
    "a": Action.ALWAYS,
    "always": Action.ALWAYS,
    "e": Action.EDIT,
    "edit": Action.EDIT,
    "n": Action.REJECT,
    "no": Action.REJECT,
    "": Action.REJECT,
}
MAX_TRIES = 3
LINE_LIMIT = 1 << 16
NO_TERMINAL = "no terminal to ask the user; write and execute tools need --yes here"
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@dataclass
class RunTally:
    """What happened during one run, for the exit code."""

    stopped: bool = False
    rejected: bool = False
    shown: set[str] = field(default_factory=set)
    """Call ids already printed: a resumed tool step announces its call again."""

    @property
    def exit_code(self) -> int:
        """OK, STOPPED_EARLY or REJECTED (gemloom/errors.py)."""
        return (
            ExitCode.REJECTED
            if self.rejected
            else ExitCode.STOPPED_EARLY
            if self.stopped
            else ExitCode.OK
        )


def _brief(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(visible(text).split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def render(event: ev.Event, outcome: RunTally) -> None:
    """Print one event: the answer on stdout, tool activity and notes on stderr."""
    match event:
        case ev.Content(text):
            out.out(visible(text), end="")
        case ev.ToolProposed(call_id, name, arguments, risk, leaked):
            if call_id in outcome.shown:
                return
            outcome.shown.add(call_id)
            tag = " (recovered from text)" if leaked else ""
            err.print(f"\n[cyan]→ {safe(name)}[/] {_brief(arguments)} [dim]{risk}{tag}[/]")
        case ev.ToolFinished(_, name, result, error):
            style = "red" if error else "green"
            err.print(f"[{style}]← {safe(name)}[/] {_brief(result)}")
        case ev.Rejected(_, reason):
            outcome.rejected = True
            err.print(f"[yellow]✗ rejected[/] {safe(reason)}")
        case ev.Stopped(reason):
            outcome.stopped = True
            err.print(f"\n[yellow]stopped:[/] {safe(reason)}")
        case ev.Compacted(count, before, after, _):
            err.print(f"[dim]compacted {count} older messages: {before:,} → {after:,} tokens[/]")
        case McpNotice(server, text):
            err.print(f"[yellow]! MCP server {safe(server)}[/] {safe(text)}")
        case MeetingProgress(tool, text):
            err.print(f"[dim]⟳ {safe(tool)}: {safe(text)}[/]")


def ask(request: dict[str, Any]) -> Decision:
    """Ask on the terminal whether a write or execute call may run; anything unclear is a no."""
    name = safe(request["name"])
    if not _terminal():
        err.print(f"[yellow]no terminal to ask whether {name} may run[/] (pass --yes to allow)")
        return Decision(Action.REJECT, reason=NO_TERMINAL)
    arguments = escape(json_text(request["arguments"]))
    err.print(f"\n[bold]Allow {name}[/] ({safe(request['risk'])}) with {arguments}?")
    _drop_typeahead()
    for _ in range(MAX_TRIES):
        answer = _read(PROMPT)
        if answer is None:
            return Decision(Action.REJECT, reason="no answer (end of input)")
        action = ANSWERS.get(answer.lower())
        if action is Action.REJECT:
            reason = _read("reason (sent to the model): ") if answer else None
            return Decision(Action.REJECT, reason=reason or "rejected by the user")
        if action is Action.EDIT:
            if (edited := _edited()) is not None:
                return Decision(Action.EDIT, edited)
            continue
        if action is not None:
            return Decision(action)
        err.print("answer y, n, a or e", markup=False)
    return Decision(Action.REJECT, reason=f"no valid answer in {MAX_TRIES} tries")


def _edited() -> dict[str, Any] | None:
    try:
        edited = json.loads(_read("new arguments as JSON: ") or "")
    except ValueError:
        edited = None
    if not isinstance(edited, dict):
        err.print("[red]not a JSON object[/]")
        return None
    return edited


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno() if sys.stdin is not None else None
    except (OSError, ValueError):  # replaced by a file-like object, or closed
        return None


def _terminal() -> bool:
    """Whether standard input is a terminal: only a person at one can approve a call."""
    fd = _stdin_fd()
    return fd is not None and os.isatty(fd)


def _drop_typeahead() -> None:
    """Forget keys pressed before the question was shown: they were not an answer to it."""
    if (fd := _stdin_fd()) is None:
        return
    with contextlib.suppress(OSError, ImportError):
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)


def _read(prompt: str) -> str | None:
    """One line typed on the terminal, or None at end of input (a line cut short counts as that)."""
    err.print(prompt, end="", markup=False)
    fd = _stdin_fd()
    try:
        data = os.read(fd, LINE_LIMIT) if fd is not None else b""
    except OSError:
        return None
    if not data.endswith(b"\n"):
        return None
    return data.decode(errors="replace").strip()


def drive(sessions: Sessions, session_id: str, events: Iterator[ev.Event]) -> RunTally:
    """Render a run, answering approval requests on the terminal until the turn ends."""
    outcome = RunTally()
    with sessions.held(session_id):  # the whole turn, approval prompts included
        while True:
            for event in events:
                render(event, outcome)
            request = sessions.awaiting(session_id)
            if request is None:
                out.print()
                return outcome
            events = sessions.answer(session_id, ask(request))


def open_sessions(yes: bool = False, tools: str | None = None, max_steps: int = 20) -> Sessions:
    """Sessions for the terminal with the chosen policy and tools."""
    registry = default_registry()
    if tools:
        registry = registry.select(t.strip() for t in tools.split(",") if t.strip())
    policy = Policy.allow_all() if yes else Policy()
    return Sessions(registry=registry, policy=policy, config=AgentConfig(max_steps=max_steps))
