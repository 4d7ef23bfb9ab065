"""`gemloom chat`: the Textual app, started from the command line."""

from __future__ import annotations


def chat_command() -> None:
    """Open the TUI: chat with the agent, approve its tools, browse sessions and memory."""
    from gemloom.workflows.tui.app import GemloomApp

    GemloomApp().run()
