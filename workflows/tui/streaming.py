"""The Markdown widget a streamed answer grows in: text that keeps its height skips the layout.

Loaded with the first answer (markdown-it with it), not at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownParagraph

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


class StreamedParagraph(MarkdownParagraph):
    """A paragraph that asks for a layout of the screen only when it needs another line.

    Textual lays out the whole screen after every text update of a block; while a paragraph
    grows within its last line, nothing moves and a repaint of the paragraph is enough.
    """

    def set_content(self, content: Content) -> None:
        width = self.size.width - self.styles.gutter.width
        rules = cast("RulesMap", self.styles)  # the rules Content reads, as its docstring says
        same = width > 0 and self._content.get_height(rules, width) == content.get_height(
            rules, width
        )
        self._content = content
        self.update(content, layout=not same)


class StreamingMarkdown(Markdown):
    """Markdown whose paragraphs repaint in place while their height holds."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {
        **Markdown.BLOCKS,
        "paragraph_open": StreamedParagraph,
    }
