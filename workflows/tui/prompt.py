"""The prompt: a multi-line text box where Enter sends, with per-session history on Up/Down."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("shift+enter", "ctrl+j", "alt+enter")  # terminals differ in what they can send
HISTORY_LIMIT = 500


class PromptHistory:
    """What was typed in each session, kept as JSON lines in the data directory."""

    def __init__(self, folder: Path):
        self.folder = folder
        """One `<session>.jsonl` file per session."""

    def _file(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.jsonl"

    def load(self, session_id: str | None) -> list[str]:
        """The session's prompts, oldest first (a damaged line is skipped, not fatal)."""
        if not session_id or not self._file(session_id).exists():
            return []
        entries = []
        for line in self._file(session_id).read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, str):
                entries.append(entry)
        return entries[-HISTORY_LIMIT:]

    def add(self, session_id: str | None, text: str) -> None:
        """Append a prompt (one short write, so a crash loses at most that line)."""
        if not session_id:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._file(session_id).open("a") as out:
            out.write(json.dumps(text, ensure_ascii=False) + "\n")


@dataclass
class Recall:
    """Walking through the history with Up/Down, and the draft it started from."""

    entries: list[str]
    index: int
    draft: str


class PromptArea(TextArea):
    """The message box: Enter sends, shift+enter / ctrl+j / alt+enter add a line."""

    DEFAULT_CSS = """
    PromptArea { height: auto; min-height: 3; max-height: 10; }
    """
    BINDINGS = [  # the app's keys win over the text box's end-of-line, delete-right and redo
        Binding("ctrl+e", "app.rename", "Rename", show=False),
        Binding("ctrl+d", "app.delete_session", "Delete", show=False),
        Binding("ctrl+y", "app.memory", "Memory", show=False),
    ]

    class Submitted(Message):
        """The person pressed Enter."""

        def __init__(self, prompt: PromptArea, value: str):
            super().__init__()
            self.prompt = prompt
            """The prompt that was submitted."""
            self.value = value
            """Its text."""

        @property
        def control(self) -> PromptArea:
            """The prompt (for `@on(..., selector)`)."""
            return self.prompt

    def __init__(self, **kwargs):
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent: list[str] = []
        """Earlier prompts of the session on screen, oldest first."""
        self._recall: Recall | None = None

    @property
    def value(self) -> str:
        """The text in the box."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history."""
        if text and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._recall = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            self._stop(event)
            self.post_message(self.Submitted(self, self.text))
        elif event.key in NEWLINE_KEYS:
            self._stop(event)
            self.insert("\n")
        elif event.key == "up" and self.cursor_location[0] == 0 and self.sent:
            self._stop(event)
            self._walk(-1)
        elif event.key == "down" and self._recall and self._at_last_line():
            self._stop(event)
            self._walk(1)
        else:
            await super()._on_key(event)

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def _at_last_line(self) -> bool:
        return self.cursor_location[0] == self.document.line_count - 1

    def _walk(self, step: int) -> None:
        """Show the previous (-1) or next (+1) prompt; past the newest, the draft returns."""
        if self._recall is None:
            self._recall = Recall(list(self.sent), len(self.sent), self.text)
        recall = self._recall
        recall.index = max(0, min(len(recall.entries), recall.index + step))
        if recall.index == len(recall.entries):
            self.value, self._recall = recall.draft, None
        else:
            self.value = recall.entries[recall.index]
