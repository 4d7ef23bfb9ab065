"""Sending a message: its attachments and codebase, the user's bubble, the turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from gemloom.workflows.tui.chat import UserMessage
from gemloom.workflows.tui.render import Welcome


class Sending:
    """Mixin for GemloomApp: turn a typed message and what is attached into an agent turn."""

    attachments: dict[str, list[Any]]  # set by the app
    attached_names: dict[str, list[str]]
    codebase: tuple[Path, str, int, int] | None

    async def send_message(self: Any, text: str, view: UserMessage | None = None) -> None:
        """Send a message (with pending attachments) to the current or a new session."""
        if self.session_id is None:
            self.session_id = self.sessions.create(text[:80])
            await self._drop_welcome()
        assert self.prompts is not None, "a message is sent only after the settings are read"
        self.prompts.add(self.session_id, text)
        images, audio = self.attachments["images"], self.attachments["audio"]
        names = self.attachment_names()
        self.attachments = {"images": [], "audio": []}
        self.attached_names = {"images": [], "audio": []}
        note = f"\n📎 {', '.join(names)}" if names else ""
        shown = text
        if self.codebase is not None:
            root, packed, tokens, _ = self.codebase
            text = f"{packed}\n\n{text}"
            note += f"\n📦 codebase {root.name} ({tokens:,} tokens)"
            self.codebase = None
        self.show_attachments()
        if view is None:
            await self.chat.mount(UserMessage(shown + note, markup=False))
        elif note:
            view.update(shown + note)
        self.chat.scroll_end(animate=False)
        session_id = self.session_id
        self.start_turn(
            lambda: self.sessions.send(session_id, text, images=images, audio=audio), shown
        )

    async def _drop_welcome(self: Any) -> None:
        for welcome in self.query(Welcome):
            await welcome.remove()

    def show_attachments(self: Any) -> None:
        """List what goes with the next message."""
        names = self.attachment_names()
        lines = ["attached: " + ", ".join(names) + " (/detach removes)"] if names else []
        if self.codebase is not None:
            root, _, tokens, budget = self.codebase
            lines.append(
                f"codebase {root.name}: {tokens:,} / {budget:,} tokens "
                f"({tokens / budget:.0%} of its budget)"
            )
        bar = self.query_one("#attachments", Static)
        bar.update("\n".join(lines))
        bar.set_class(bool(lines), "shown")
