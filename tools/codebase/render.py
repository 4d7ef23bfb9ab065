"""Rendering a pack as XML-ish tags or Markdown: header, tree, then one section per file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import PurePosixPath

from gemloom.scanner import Scanner
from gemloom.secrets import Redaction

STATUSES = ("full", "outline", "omitted", "skipped")
_MARK = {"full": "", "outline": " [outline]", "omitted": " [omitted]", "skipped": " [skipped]"}
_LANGS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".ts": "typescript", ".tsx": "tsx", ".jsx": "jsx", ".rs": "rust", ".go": "go",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".java": "java",
    ".kt": "kotlin", ".rb": "ruby", ".sh": "bash", ".md": "markdown", ".json": "json",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".html": "html", ".css": "css",
    ".sql": "sql", ".rst": "rst", ".cfg": "ini", ".ini": "ini",
}  # fmt: skip
LEGEND = (
    "Every file under the root is listed in the tree. Unmarked files appear below in full; "
    "[outline] files appear as signatures and docstrings; [omitted] files did not fit and can be "
    "read on request; [skipped] files are not text or were left out by a rule (reasons below)."
)
XML_NOTE = (
    " Inside a file, a `<` that would open or close a pack tag is written `&lt;` (and a literal "
    "`&lt;` before such a name as `&amp;lt;`), so only the pack's own tags delimit files."
)
UNREAD_NOTE = (
    " Some [omitted] files were not scanned for secrets: redactions are counted in every file "
    "shown, not in every file."
)
"""Added to the legend when an [omitted] file was never read or scanned (`header`)."""
_PACK_TAGS = r"(?:file|codebase|legend|tree|skipped|redactions)\b"
_ESCAPE = re.compile(rf"<(?=/?{_PACK_TAGS})|&(?=(?:amp;)*lt;/?{_PACK_TAGS})", re.IGNORECASE)
TAG_PATTERN = rf"(?i:(?:<|&(?:amp;)*lt;)/?{_PACK_TAGS})"
"""Text that may look like a pack tag (RE2 syntax): only files it matches need escaping."""
_MAYBE_TAG = Scanner(TAG_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BACKTICKS = re.compile(rb"`+")


class Entry:
    """One file of the tree and what the pack does with it.

    A section's content is kept as UTF-8 bytes (`body`) when it comes straight from a file or
    an earlier pack; `text` decodes it on first use, so a pack that only writes bytes never does.
    """

    __slots__ = ("_text", "body", "path", "reason", "redactions", "status", "tokens")

    def __init__(
        self, path: str, status: str, text: str = "", tokens: float = 0.0, reason: str = "",
        redactions: tuple[Redaction, ...] = (), *, body: bytes | memoryview | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self.status = status  # one of STATUSES
        self._text: str | None = None if body is not None else text
        self.body = body
        self.tokens = tokens  # estimated tokens of the file's content (full text)
        self.reason = reason  # why a file was skipped
        self.redactions = redactions

    @property
    def text(self) -> str:
        """What the file's section shows (full text or outline)."""
        if self._text is None:
            self._text = str(self.body or b"", "utf-8", "surrogateescape")
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text, self.body = value, None

    def show(self, body: bytes | memoryview) -> None:
        """Show these UTF-8 bytes as the section's content (decoded to `text` only on use)."""
        self._text, self.body = None, body

    def content(self) -> bytes | memoryview:
        """The section's content as UTF-8 bytes."""
        if self.body is None:
            self.body = self.text.encode("utf-8", "surrogateescape")
        return self.body

    def __repr__(self) -> str:
        return f"Entry({self.path!r}, {self.status!r}, tokens={self.tokens:.1f})"


def path_order(entry: Entry) -> str:
    """The sort key of the tree: folder by folder ('a/b' before 'a-b'), as comparing the lists
    of parts would; NUL, which no path holds, sorts before every other character."""
    return entry.path.replace("/", "\0")


def shown_path(path: str) -> str:
    """A path as the pack prints it: control characters (a newline in a name) made visible."""
    return (
        _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path) if _CONTROL.search(path) else path
    )


def escape_tags(text: str) -> str:
    """File content with anything that looks like a pack tag escaped, so it cannot end a section."""
    if not _MAYBE_TAG.search(text):  # RE2: fast, most files hold no tag-like text at all
        return text
    return _ESCAPE.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", text)


def tree(entries: Sequence[Entry]) -> str:
    """An indented tree of every entry with its status marker, folders first opened in order."""
    lines: list[str] = []
    opened: list[str] = []
    for entry in sorted(entries, key=path_order):
        *folders, name = shown_path(entry.path).split("/")
        common = 0
        while common < min(len(opened), len(folders)) and opened[common] == folders[common]:
            common += 1
        opened = opened[:common]
        for folder in folders[common:]:
            lines.append("  " * len(opened) + folder + "/")
            opened.append(folder)
        lines.append("  " * len(folders) + name + _MARK[entry.status])
    return "\n".join(lines)


def _counts(entries: Sequence[Entry]) -> dict[str, int]:
    counts = {s: sum(e.status == s for e in entries) for s in STATUSES}
    return {
        "full": counts["full"], "outlined": counts["outline"], "omitted": counts["omitted"],
        "skipped": counts["skipped"], "redacted": sum(bool(e.redactions) for e in entries),
    }  # fmt: skip


def _redaction_lines(entries: Sequence[Entry]) -> list[str]:
    lines = []
    for e in entries:
        if e.redactions:
            kinds = sorted({r.kind for r in e.redactions})
            where = ", ".join(str(r.line) for r in e.redactions)
            lines.append(
                f"{shown_path(e.path)}: {len(e.redactions)} ({', '.join(kinds)}) on lines {where}"
            )
    return lines


def header(name: str, entries: Sequence[Entry], fmt: str) -> str:
    """Everything before the file sections: counts, legend, tree, skipped and redactions."""
    c = _counts(entries)
    # omitted entries have a reason only when they were never read (built docs, unscanned)
    legend = LEGEND + (
        UNREAD_NOTE if any(e.reason for e in entries if e.status == "omitted") else ""
    )
    skipped = [f"{shown_path(e.path)}: {e.reason}" for e in entries if e.status == "skipped"]
    redacted = _redaction_lines(entries)
    if fmt == "markdown":
        listing = tree(entries)
        fence = "`" * max(3, _longest_backticks(listing) + 1)
        parts = [
            f"# Codebase: {name}\n",
            f"{len(entries)} files: {c['full']} full, {c['outlined']} outlined, "
            f"{c['omitted']} omitted, {c['skipped']} skipped; {c['redacted']} redacted.\n",
            legend + "\n",
            f"## Tree\n\n{fence}text\n{listing}\n{fence}\n",
        ]
        if skipped:
            parts.append("## Skipped\n\n" + "".join(f"- {s}\n" for s in skipped))
        if redacted:
            parts.append("## Redacted secrets\n\n" + "".join(f"- {r}\n" for r in redacted))
        return "\n".join(parts) + "\n## Files\n\n"
    attrs = " ".join(f'{k}="{v}"' for k, v in c.items())
    parts = [f'<codebase name="{escape(name)}" files="{len(entries)}" {attrs}>']
    parts += [f"<legend>{legend}{XML_NOTE}</legend>", "<tree>", escape_tags(tree(entries))]
    parts.append("</tree>")
    if skipped:
        parts += ["<skipped>", *map(escape_tags, skipped), "</skipped>"]
    if redacted:
        parts += ["<redactions>", *map(escape_tags, redacted), "</redactions>"]
    return "\n".join(parts) + "\n"


def footer(fmt: str) -> str:
    """What closes the pack."""
    return "" if fmt == "markdown" else "</codebase>\n"


def wrappers(entry: Entry, fmt: str) -> tuple[str, str]:
    """The text before and after a file's content in its section."""
    if fmt == "markdown":
        label = " (outline)" if entry.status == "outline" else ""
        fence = "`" * max(3, _longest_backticks(entry.content()) + 1)
        lang = (
            "text" if entry.status != "full" else _LANGS.get(PurePosixPath(entry.path).suffix, "")
        )
        return f"### {shown_path(entry.path)}{label}\n\n{fence}{lang}\n", f"{fence}\n\n"
    kind = ' outline="true"' if entry.status == "outline" else ""
    return f'<file path="{escape(shown_path(entry.path))}"{kind}>\n', "</file>\n"


def _longest_backticks(text: str | bytes | memoryview) -> int:
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    elif isinstance(text, memoryview):
        text = bytes(text)
    if b"```" not in text:
        return 0
    return max(len(run) for run in _BACKTICKS.findall(text))


def section_parts(entry: Entry, fmt: str) -> tuple[str, str, str]:
    """What goes around a full or outlined file's content: its head, a newline if the content
    does not end in one, and its tail."""
    head, tail = wrappers(entry, fmt)
    body = entry.content()
    return head, "" if not body or body[-1:] == b"\n" else "\n", tail
