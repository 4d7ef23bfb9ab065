"""The approval modal: approve, edit, reject with a reason, or always allow a tool call."""

from __future__ import annotations

import json
import time
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from gemloom.agents.approval import Action, Decision
from gemloom.terminal import json_text

GUARD = 0.8  # seconds of quiet keyboard before a key press can decide anything
HINT = "y approve · a always · e edit · n reject with a reason · esc reject"


def _json_highlighting() -> str | None:
    """ "json" when tree-sitter can highlight it; with tree-sitter but no JSON grammar, Textual
    raises at mount instead of falling back to plain text."""
    from importlib.util import find_spec

    return "json" if find_spec("tree_sitter_json") else None


class ApprovalScreen(ModalScreen[Decision]):
    """Shows a proposed write/execute call and returns the supervisor's Decision.

    Keys typed before the dialog appeared, or while the person is still typing, must never
    count as a decision: a key press only acts once the keyboard has been quiet for GUARD
    seconds since the dialog opened; each swallowed key restarts that wait.
    """

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; background: $background 70%; }
    ApprovalScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: heavy $error; border-title-color: $text; border-title-background: $error;
        border-title-style: bold; background: $warning-muted; padding: 0 1; }
    ApprovalScreen #question { text-style: bold; margin: 1 0 0 0; }
    ApprovalScreen #guard { color: $text-warning; height: 1; }
    ApprovalScreen TextArea { height: 8; }
    ApprovalScreen Horizontal { height: auto; }
    ApprovalScreen Button { margin: 0 1 0 0; min-width: 10; }
    """
    BINDINGS = [
        Binding("y", "approve", "Approve"),
        Binding("a", "always", "Always allow"),
        Binding("e", "edit", "Edit args"),
        Binding("n", "reject", "Reject"),
        Binding("ctrl+s", "run_edited", "Run edited", show=False),
        Binding("escape", "escape", "Reject / leave the editor", show=False),
    ]

    def __init__(self, request: dict[str, Any], guard: float | None = None, server: str = ""):
        super().__init__()
        self.request = request
        """The pending call: call_id, name, arguments, risk."""
        self.server = server
        """The MCP server that offers the tool, or "" for gemloom's own tools."""
        self.guard = GUARD if guard is None else guard
        """Seconds of keyboard quiet needed before keys count."""
        self._armed_at = time.monotonic() + self.guard

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "⚠ Approval needed"
        with box:
            question = Content.assemble(
                "Allow ",
                (self.request["name"], "bold"),
                f" ({self.request['risk']})",
                f" from MCP server {self.server}" if self.server else "",
                " to run?",
            )
            yield Label(question, id="question")
            yield Label(Content(HINT), id="hint")
            yield TextArea(
                json_text(self.request["arguments"], indent=2),
                language=_json_highlighting(),
                id="arguments",
            )
            yield Input(
                placeholder="reason for rejecting (sent to the model), Enter to reject", id="reason"
            )
            yield Label("", id="guard")
            with Horizontal():
                yield Button(Content("Approve [y]"), id="approve", variant="success")
                yield Button(Content("Always [a]"), id="always")
                yield Button(Content("Edit [e]"), id="edit")
                yield Button(Content("Reject [n]"), id="reject", variant="error")

    def on_mount(self) -> None:
        self._armed_at = time.monotonic() + self.guard
        self.query_one("#approve", Button).focus()

    @property
    def armed(self) -> bool:
        """Whether key presses count yet."""
        return time.monotonic() >= self._armed_at

    async def _on_key(self, event: events.Key) -> None:
        if not self.armed:  # still typing (or typed ahead): swallow it, wait for quiet
            event.stop()
            event.prevent_default()
            self._armed_at = time.monotonic() + self.guard
            guard = self.query_one("#guard", Label)
            guard.update("Keys are ignored until the keyboard is quiet for a moment.")
            self.set_timer(self.guard + 0.05, self._clear_guard_note)

    def _clear_guard_note(self) -> None:
        if self.armed:
            self.query_one("#guard", Label).update("")

    def action_approve(self) -> None:
        """Run the call as proposed."""
        self.dismiss(Decision(Action.APPROVE))

    def action_always(self) -> None:
        """Run it, and allow this tool for the rest of the session."""
        self.dismiss(Decision(Action.ALWAYS))

    def action_edit(self) -> None:
        """Move to the arguments; ctrl+s runs the edited call, escape leaves the editor."""
        self.query_one("#arguments", TextArea).focus()
        self.query_one("#guard", Label).update("Edit the JSON: ctrl+s runs it, esc goes back.")

    def action_run_edited(self) -> None:
        """Run the call with the edited arguments, if they are a JSON object."""
        text = self.query_one("#arguments", TextArea).text
        try:
            edited = json.loads(text)
        except ValueError as exc:
            self.notify(f"Not valid JSON: {exc}", severity="error")
            return
        if not isinstance(edited, dict):
            self.notify("The arguments must be a JSON object.", severity="error")
            return
        self.dismiss(Decision(Action.EDIT, edited))

    def action_reject(self) -> None:
        """Move to the reason field; Enter there rejects."""
        self.query_one("#reason", Input).focus()

    def action_escape(self) -> None:
        """In the editor or the reason field: back to the buttons; elsewhere reject."""
        if isinstance(self.focused, TextArea | Input):
            self.query_one("#guard", Label).update("")
            self.query_one("#approve", Button).focus()
            return
        self.dismiss(Decision(Action.REJECT, reason="rejected by the user"))

    @on(Input.Submitted, "#reason")
    def _rejected(self, event: Input.Submitted) -> None:
        self.dismiss(Decision(Action.REJECT, reason=event.value.strip() or "rejected by the user"))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        actions = {
            "approve": self.action_approve,
            "always": self.action_always,
            "edit": self.action_edit,
            "reject": self.action_reject,
        }
        actions[event.button.id or ""]()
