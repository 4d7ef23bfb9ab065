"""The Markdown widget a streamed answer grows in: text that keeps its height skips the layout.

Loaded with the first answer (markdown-it with it), not at start-up.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownParagraph


class StreamedParagraph(MarkdownParagraph):
    """A paragraph that asks for a layout of the screen only when it needs another line.

    Textual lays out the whole screen after every text update of a block; while a paragraph
    grows within its last line, nothing moves and a repaint of the paragraph is enough.
    """

    def set_content(self, content: Content) -> None:
        width = self.size.width - self.styles.gutter.width
        old = self._content
        same = width > 0 and old.get_height(self.styles, width) == content.get_height(
            self.styles, width
        )
        self._content = content
        self.update(content, layout=not same)


class StreamingMarkdown(Markdown):
    """Markdown whose paragraphs repaint in place while their height holds."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {
        **Markdown.BLOCKS,
        "paragraph_open": StreamedParagraph,
    }
