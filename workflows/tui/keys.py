"""The TUI's key bindings (the actions live in the mixins of GemloomApp)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding("f1", "help", "Help"),
    Binding("escape", "stop", "Stop answer", show=False),
    Binding("ctrl+n", "new_session", "New"),
    Binding("ctrl+b", "toggle_sidebar", "Sessions"),
    Binding("ctrl+l", "models", "Models"),
    Binding("ctrl+g", "jobs", "Jobs"),
    Binding("ctrl+y", "memory", "Memory"),
    Binding("ctrl+r", "reconnect", "Reconnect", show=False),
    Binding("ctrl+e", "rename", "Rename", show=False),
    Binding("ctrl+d", "delete_session", "Delete", show=False),
    Binding("ctrl+f", "fork", "Fork", show=False),
    Binding("ctrl+t", "history", "Rewind/fork", show=False),
]
