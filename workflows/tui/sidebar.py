"""The sessions sidebar: list, open, start and show or hide sessions."""

from __future__ import annotations

from typing import Any

from textual.widgets import ListItem, ListView, Static

from gemloom.terminal import visible_data
from gemloom.workflows.tui.render import Welcome, history_views
from gemloom.workflows.tui.turns import queued_view


class SessionItem(ListItem):
    """A session in the sidebar."""

    def __init__(self, session_id: str, title: str):
        super().__init__(Static(title or "(untitled)", markup=False))
        self.session_id = session_id
        """The session's id."""


class SessionSidebar:
    """Mixin for GemloomApp: the saved sessions and the one on screen."""

    session_id: str | None  # set by the app
    _answer: Any
    _thinking: Any

    async def refresh_sessions(self: Any) -> None:
        """Reload the sidebar."""
        if self.sessions is None:
            return
        listing = self.query_one("#sessions", ListView)
        await listing.clear()
        await listing.extend(
            SessionItem(info.id, visible_data(info.title)) for info in self.sessions.list()
        )
        if listing.children:
            listing.index = 0

    async def open_session(self: Any, session_id: str) -> None:
        """Show a saved session and continue it from here."""
        self.session_id = session_id
        chat = self.chat
        await chat.remove_children()
        self._answer = self._thinking = None
        assert self.prompts is not None, "sessions open only after the settings are read"
        self.prompt.sent = self.prompts.load(session_id)
        messages = self.sessions.messages(session_id)
        for message in messages:
            await chat.mount(*history_views(visible_data(message)))
        await self._remount_queue()
        chat.scroll_end(animate=False)
        self.prompt.focus()
        self.meter.estimate(messages)
        self.title = f"gemloom · {visible_data(self.sessions.get(session_id).title)}"
        if self.sessions.unfinished(session_id):
            self.notify("This session stopped midway: /resume goes on from its last step.")
        elif request := self.sessions.awaiting(session_id):
            self.ask_approval(request)

    async def _remount_queue(self: Any) -> None:
        for queued in self.queue:
            queued.view = queued_view(queued.text)
            await self.chat.mount(queued.view)

    async def action_new_session(self: Any) -> None:
        """Start a fresh session."""
        self.session_id = None
        await self.chat.remove_children()
        await self.chat.mount(Welcome())
        await self._remount_queue()
        self.prompt.sent = []
        self.meter.reset()
        self.title = "gemloom"

    def action_toggle_sidebar(self: Any) -> None:
        """Show or hide the sessions sidebar."""
        self.query_one("#sidebar").toggle_class("hidden")
