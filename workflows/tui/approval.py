"""The approval modal: approve, edit, reject with a reason, or always allow a tool call."""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from gemloom.agents.approval import Action, Decision


class ApprovalScreen(ModalScreen[Decision]):
    """Shows a proposed write/execute call and returns the supervisor's Decision."""

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1; }
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
        Binding("escape", "dismiss_reject", "Reject", show=False),
    ]

    def __init__(self, request: dict[str, Any]):
        super().__init__()
        self.request = request
        """The pending call: call_id, name, arguments, risk."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Allow [b]{self.request['name']}[/b] ({self.request['risk']})?", id="question"
            )
            yield TextArea(
                json.dumps(self.request["arguments"], indent=2, ensure_ascii=False),
                language="json",
                id="arguments",
            )
            yield Input(
                placeholder="reason for rejecting (sent to the model), Enter to reject", id="reason"
            )
            with Horizontal():
                yield Button("Approve [y]", id="approve", variant="success")
                yield Button("Always [a]", id="always")
                yield Button("Edit [e]", id="edit")
                yield Button("Reject [n]", id="reject", variant="error")

    def on_mount(self) -> None:
        self.query_one("#approve", Button).focus()

    def action_approve(self) -> None:
        """Run the call as proposed."""
        self.dismiss(Decision(Action.APPROVE))

    def action_always(self) -> None:
        """Run it, and allow this tool for the rest of the session."""
        self.dismiss(Decision(Action.ALWAYS))

    def action_edit(self) -> None:
        """Move to the arguments; ctrl+s runs the edited call."""
        self.query_one("#arguments", TextArea).focus()
        self.notify("Edit the JSON, then ctrl+s to run it.")

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

    def action_dismiss_reject(self) -> None:
        """Reject without a reason."""
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
