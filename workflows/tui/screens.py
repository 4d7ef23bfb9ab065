"""Small screens: help, model picker, checkpoints, text prompts and confirmations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; max-width: 110; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 0 1; }}
{name} DataTable {{ height: auto; max-height: 16; }}
"""


def titled(title: str, hints: str) -> Vertical:
    """A dialog's box: its title at the top, its own keys at the bottom."""
    box = Vertical()
    box.border_title = title
    box.border_subtitle = hints
    return box


class HelpScreen(ModalScreen[None]):
    """Every binding and slash command, in a box that scrolls (Up/Down, PgUp/PgDn, Home/End)."""

    DEFAULT_CSS = (
        MODAL_CSS.format(name="HelpScreen")
        + """
    HelpScreen > VerticalScroll { width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    """
    )
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]

    def __init__(self, text: str):
        super().__init__()
        self.text = text
        """The help text (Markdown)."""

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it loads when help first opens

        box = VerticalScroll(Markdown(self.text), id="help-body")
        box.border_title = "Help · ↑↓ PgUp PgDn scroll · esc closes"
        box.can_focus = True
        yield box

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(None)


class PickScreen(ModalScreen[Any]):
    """A table to pick one row from; returns the row's key or None."""

    DEFAULT_CSS = MODAL_CSS.format(name="PickScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        columns: Iterable[str],
        rows: Iterable[tuple[Any, tuple]],
        start: Any = None,
    ):
        super().__init__()
        self.start = start
        """The key of the row the cursor starts on (the first row if absent)."""
        self.title_text = title
        """What is being picked."""
        self.columns = list(columns)
        """Column headings."""
        self.rows = list(rows)
        """(key, cells) pairs."""

    def compose(self) -> ComposeResult:
        with titled("Pick one", "↑↓ move · Enter pick · esc cancel"):
            yield Label(self.title_text)
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.columns)
        for key, cells in self.rows:
            table.add_row(*cells, key=str(key))
        keys = [str(key) for key, _ in self.rows]
        if self.start is not None and str(self.start) in keys:
            table.move_cursor(row=keys.index(str(self.start)))
        table.focus()

    @on(DataTable.RowSelected)
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)

    def action_cancel(self) -> None:
        """Pick nothing."""
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (a title, a path, a query)."""

    DEFAULT_CSS = MODAL_CSS.format(name="PromptScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = ""):
        super().__init__()
        self.question = question
        """The question shown above the field."""
        self.value = value
        """The initial text."""

    def compose(self) -> ComposeResult:
        with titled("Question", "Enter answer · esc cancel"):
            yield Label(self.question)
            yield Input(self.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Answer nothing."""
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question
        """The question."""

    def compose(self) -> ComposeResult:
        with titled("Confirm", "y yes · n or esc no"):
            yield Label(Content(self.question))

    def action_answer(self, yes: bool) -> None:
        """Answer."""
        self.dismiss(yes)
