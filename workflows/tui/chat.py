"""Widgets of the chat: messages with streamed Markdown, thinking, tool calls, compaction marks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Static

if TYPE_CHECKING:  # the Markdown widget (markdown-it) loads with the first answer, not at start
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownStream


class UserMessage(Static):
    """What the person typed (class "queued" while it waits for the agent)."""

    DEFAULT_CSS = """
    UserMessage { background: $boost; padding: 0 1; margin: 1 0 0 0; border-left: thick $accent; }
    UserMessage.queued { border-left: thick $warning; color: $text-muted; }
    """


class TurnNote(Static):
    """Why a turn ended early, in the chat itself: stopped, failed, cut, or stopped by gemloom."""

    DEFAULT_CSS = """
    TurnNote { margin: 0 0 0 1; padding: 0 1; color: $text-warning; }
    TurnNote.failed, TurnNote.cut { color: $text-error; }
    """

    def __init__(self, text: str, classes: str = ""):
        super().__init__(text, markup=False, classes=classes)


class AssistantMessage(Vertical):
    """The model's answer, streamed as Markdown.

    Finished stretches of a long answer become fixed Markdown widgets and only the newest one
    streams: a re-parse and re-layout then covers the last few paragraphs, not the whole answer.
    While it streams, its height grows RESERVE lines at a time, ahead of the text: a new line of
    text then repaints that line, not every line of the chat above it (which moves up a line).
    """

    DEFAULT_CSS = """
    AssistantMessage { height: auto; margin: 0 0 0 1; padding: 0; }
    AssistantMessage > Markdown { margin: 0; padding: 0; }
    AssistantMessage.interrupted { border: round $error; border-subtitle-color: $text-error; }
    """
    FREEZE_AT = 1500
    """Characters after which the streaming part is fixed at its next paragraph break."""
    RESERVE = 6
    """Lines of height the streaming answer holds ahead of its text."""

    def __init__(self, text: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.text = text
        """The whole answer so far."""
        self._live: Markdown | None = None
        self._stream: MarkdownStream | None = None
        self._live_text = ""
        self._reserved = 0

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown

        if self.text:
            yield Markdown(self.text)

    async def add_text(self, fragment: str) -> None:
        """Add a piece of the answer; MarkdownStream batches re-renders of each part."""
        self.text += fragment
        self._reserve()
        cut = _paragraph_break(self._live_text, fragment, self.FREEZE_AT)
        if cut is not None:
            await self._write(fragment[:cut])
            await self._freeze()
            fragment = fragment[cut:]
        if fragment:
            await self._write(fragment)

    async def _write(self, fragment: str) -> None:
        from gemloom.workflows.tui.streaming import StreamingMarkdown

        if self._live is None or self._stream is None:  # set and cleared together
            self._live, self._live_text = StreamingMarkdown(), ""
            await self.mount(self._live)
            self._stream = StreamingMarkdown.get_stream(self._live)
        self._live_text += fragment
        await self._stream.write(fragment)

    async def _freeze(self) -> None:
        """Swap the finished part's block widgets for one widget: layout cost follows widgets."""
        from rich.markdown import Markdown as RichMarkdown

        live, text = self._live, self._live_text
        await self._stop_stream()
        if live is not None:
            await self.mount(FrozenPart(RichMarkdown(text), text), before=live)
            await live.remove()

    def _reserve(self) -> None:
        """Hold RESERVE lines more once the text (as last laid out) is a line from the bottom."""
        if self._live is None:
            return
        blocks = self._live.children
        used = max((block.virtual_region_with_margin.bottom for block in blocks), default=0)
        if used and used + 1 >= self._reserved:
            self._reserved = used + self.RESERVE
            self._live.styles.min_height = self._reserved

    async def finish(self) -> None:
        """Flush the streaming part and give back its held lines; what follows starts anew."""
        live = self._live
        await self._stop_stream()
        if live is not None:
            live.styles.min_height = None

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
        self._live = self._stream = None
        self._reserved = 0


class FrozenPart(Static):
    """A finished stretch of a long answer, drawn as one widget."""

    DEFAULT_CSS = "FrozenPart { margin: 0 0 1 0; }"

    def __init__(self, renderable: Any, source: str):
        super().__init__(renderable)
        self.source = source
        """The Markdown it shows."""


def _paragraph_break(live: str, fragment: str, limit: int) -> int | None:
    """Where in `fragment` to fix the streaming part: after a blank line outside code fences."""
    if len(live) + len(fragment) < limit:
        return None
    end = fragment.rfind("\n\n")
    if end < 0:
        return None
    head = live + fragment[: end + 2]
    fences = sum(1 for line in head.splitlines() if line.lstrip().startswith(("```", "~~~")))
    return end + 2 if fences % 2 == 0 else None


class ThinkingView(Collapsible):
    """The model's reasoning, collapsed by default."""

    def __init__(self) -> None:
        self.body = Static("", classes="thinking-text")
        """The reasoning text."""
        super().__init__(self.body, title="thinking…", collapsed=True)
        self.text = ""
        """The whole reasoning so far."""

    def append(self, fragment: str) -> None:
        """Add reasoning text."""
        self.text += fragment
        self.body.update(self.text)


def _brief(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


STATUS_WORDS = {  # status -> (mark, what the timeline says)
    "proposed": ("→", "running"),
    "waiting": ("?", "waiting for approval"),
    "approved": ("→", "running (approved)"),
    "rejected": ("✗", "rejected"),
    "done": ("✓", "done"),
    "error": ("!", "failed"),
}


def _css_class(status: str) -> str:
    word = STATUS_WORDS.get(status, ("", status))[1].split()[0]
    return f"-{word}"


class ToolCallView(Collapsible):
    """One entry of the tool timeline: name, arguments, status and result."""

    DEFAULT_CSS = """
    ToolCallView { margin: 0 0 0 2; }
    ToolCallView.-running CollapsibleTitle { color: $text-accent; }
    ToolCallView.-waiting CollapsibleTitle { color: $text-warning; text-style: bold; }
    ToolCallView.-done CollapsibleTitle { color: $text-success; }
    ToolCallView.-failed CollapsibleTitle, ToolCallView.-rejected CollapsibleTitle {
        color: $text-error; }
    """

    def __init__(
        self, call_id: str, name: str, arguments: dict[str, Any], risk: str, server: str = ""
    ):
        self.call_id = call_id
        """Which call of the session this is."""
        self.tool_name = name
        """The tool's name."""
        self.server = server
        """The MCP server the tool comes from ("" for gemloom's own tools)."""
        self.arguments = arguments
        """The arguments as proposed (or approved)."""
        self.status = "proposed"
        """proposed, waiting, approved, rejected, done or error."""
        self.detail = Static(self._detail(""), markup=False)
        super().__init__(self.detail, title=self._heading(), collapsed=True)
        self.add_class(_css_class(self.status))
        self.risk = risk
        """read, write or execute."""

    def _heading(self) -> str:
        mark, word = STATUS_WORDS.get(self.status, ("·", self.status))
        where = f" (MCP server {self.server})" if self.server else ""
        return f"{mark} {word}: {self.tool_name}{where} {_brief(self.arguments)}"

    def _detail(self, result: str) -> str:
        args = json.dumps(self.arguments, ensure_ascii=False, indent=1)
        return f"arguments:\n{args}\n\nresult:\n{result}" if result else f"arguments:\n{args}"

    def set_status(self, status: str, result: str = "") -> None:
        """Show a new status (and the result, when there is one)."""
        self.remove_class(_css_class(self.status))
        self.status = status
        self.add_class(_css_class(status))
        self.title = self._heading()
        if result:
            self.detail.update(self._detail(result))


class CompactionMark(Static):
    """A visible mark where older turns were folded into a summary."""

    DEFAULT_CSS = "CompactionMark { color: $warning; text-align: center; margin: 1 0; }"


class ChatLog(VerticalScroll):
    """The scrolling conversation."""

    DEFAULT_CSS = "ChatLog { height: 1fr; padding: 0 1; }"

    def on_mount(self) -> None:
        self.anchor()  # stay at the bottom while answers grow, without a scroll per piece

    def tool_view(self, call_id: str) -> ToolCallView | None:
        """The timeline entry of a call, if shown."""
        for view in reversed(list(self.query(ToolCallView))):
            if view.call_id == call_id:
                return view
        return None
