"""The previous whole pack of a root, kept so a re-pack splices in only what changed.

Beside the file cache sit the last whole pack's bytes (`pack-FMT-GEN.bin`) and an index
(`pack-FMT.msgpack`): per file its size, mtime, ctime and inode, its status, and where its
section lies in those bytes. A re-pack reuses the section of every file whose size, times and
inode are unchanged (an edit that puts the mtime back still moves the ctime), and the header
when no file was added, removed or changed status. The index names its bytes file and their
length, and is written after them: a crash leaves the old pair whole.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ormsgpack

from gemloom.atomic import write_atomic
from gemloom.secrets import Redaction
from gemloom.tokens import estimate
from gemloom.tools.codebase import cache as _cache
from gemloom.tools.codebase.budget import NEWLINE
from gemloom.tools.codebase.render import (
    Entry,
    footer,
    header,
    section_parts,
    shown_path,
    wrappers,
)

_SOURCES = ("render.py", "files.py", "splice.py", "pack.py")
# The pack's bytes depend on the file records (cache.VERSION) and on the code that renders
# them: a change to either starts afresh.
VERSION = (
    _cache.VERSION
    + ":"
    + hashlib.sha256(
        b"".join((Path(__file__).parent / name).read_bytes() for name in _SOURCES)
    ).hexdigest()[:12]
)


@dataclass
class Section:
    """Where one file's section sits in the pack bytes, and its figures."""

    start: int  # the section (head, content, tail)
    content: int  # where its content starts
    end: int  # where its content ends
    stop: int  # where the section ends
    cost: float  # tokens of the whole section


@dataclass
class Row:
    """One file of the previous pack: what identified it on disk and what the pack did."""

    size: int
    mtime_ns: int
    ctime_ns: int  # changes on any write, even one that puts the mtime back
    ino: int
    status: str
    reason: str
    tokens: float
    redactions: tuple[Redaction, ...]
    section: Section | None


@dataclass
class Previous:
    """The last pack of a root in one format: its bytes, its header and its files."""

    data: memoryview
    fmt: str
    header: tuple[int, float, str]  # where it ends, its tokens with the footer's, its hash
    key: list[Any]  # what the header was made from (see `header_key`)
    rows: dict[str, Row] = field(default_factory=dict)

    def reuse(self, rel: str, st: os.stat_result) -> Entry | None:
        """The file's entry from the last pack if it is unchanged on disk, else None."""
        row = self.rows.get(rel)
        if row is None or (row.size, row.mtime_ns, row.ctime_ns, row.ino) != (
            st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino,
        ):  # fmt: skip
            return None
        if row.section is None:
            return Entry(rel, row.status, reason=row.reason)
        s = row.section
        head, tail = _frame(rel, row.status, self.fmt)
        if not (_at(self.data, s.start, head) and _at(self.data, s.stop - len(tail), tail)):
            return None  # not the section it should be: the bytes file was damaged
        return Entry(rel, row.status, tokens=row.tokens, redactions=row.redactions,
                     body=self.data[s.content : s.end])  # fmt: skip

    def head(self) -> tuple[memoryview, float] | None:
        """The header's bytes and tokens, when they are what was written."""
        end, tokens, digest = self.header
        head = self.data[:end]
        return (head, tokens) if _digest(head) == digest else None

    def moved(self, rel: str, offset: int) -> tuple[Section, memoryview]:
        """A reused file's section placed at `offset` of the new pack, and its bytes."""
        old = self.rows[rel].section
        assert old is not None  # reuse() gave an entry only for a file with a section
        shift = offset - old.start
        where = Section(offset, old.content + shift, old.end + shift, old.stop + shift, old.cost)
        return where, self.data[old.start : old.stop]


def _digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _frame(rel: str, status: str, fmt: str) -> tuple[bytes, bytes]:
    """How a section of this file must begin and end (markdown fences aside)."""
    if fmt == "markdown":
        return f"### {shown_path(rel)}".encode("utf-8", "surrogateescape"), b"\n\n"
    head, tail = wrappers(Entry(rel, status), fmt)
    return head.encode("utf-8", "surrogateescape"), tail.encode()


def _at(data: memoryview, offset: int, expected: bytes) -> bool:
    return offset >= 0 and data[offset : offset + len(expected)] == expected


@dataclass
class Layout:
    """Where the parts of a pack went: its header, each section, and the tokens of all."""

    header: tuple[int, float]  # where the header ends; its tokens with the footer's
    key: list[Any]  # what the header was made from
    fresh_header: bool
    sections: dict[str, Section] = field(default_factory=dict)
    tokens: float = 0.0


def assemble(
    name: str, entries: list[Entry], fmt: str, previous: Previous | None = None,
    reused: set[str] | None = None,
) -> tuple[list[bytes | memoryview], Layout]:  # fmt: skip
    """The pack's parts, to be joined, and its layout; sections of `reused` files and an
    unchanged header are taken from `previous`."""
    key = header_key(name, entries)
    kept = previous.head() if previous is not None and key == previous.key else None
    if kept is not None:
        head, frame = kept
    else:
        text = header(name, entries, fmt)
        head = text.encode("utf-8", "surrogateescape")
        frame = estimate(text) + estimate(footer(fmt))
    layout = Layout((len(head), frame), key, kept is None, tokens=frame)
    parts: list[bytes | memoryview] = [head]
    offset = len(head)
    for entry in entries:
        if entry.status not in ("full", "outline"):
            continue
        if previous is not None and reused and entry.path in reused:
            where, piece = previous.moved(entry.path, offset)
            parts.append(piece)
        else:
            where, pieces = _section(entry, fmt, offset)
            parts += pieces
        layout.sections[entry.path] = where
        layout.tokens += where.cost
        offset = where.stop
    parts.append(footer(fmt).encode())
    return parts, layout


def _section(entry: Entry, fmt: str, offset: int) -> tuple[Section, list[bytes]]:
    """A freshly rendered section at `offset`, and its pieces."""
    head, newline, tail = section_parts(entry, fmt)
    body = entry.content()
    cost = estimate(head) + estimate(tail) + content_tokens(entry) + (NEWLINE if newline else 0.0)
    pieces = [head.encode("utf-8", "surrogateescape"), body, (newline + tail).encode()]
    content = offset + len(pieces[0])
    stop = content + len(body) + len(pieces[2])
    return Section(offset, content, content + len(body), stop, cost), pieces


def content_tokens(entry: Entry) -> float:
    """Estimated tokens of what a full or outlined file's section shows."""
    return entry.tokens if entry.status == "full" else estimate(entry.text)


def header_key(name: str, entries: list[Entry]) -> list[Any]:
    """Everything the header shows, as plain data: equal keys make equal headers."""
    rows = [[e.path, e.status, e.reason, [[r.kind, r.line] for r in e.redactions]]
            for e in entries]  # fmt: skip
    return [name, rows]


def _files(folder: Path, fmt: str) -> tuple[Path, str]:
    return folder / f"pack-{fmt}.msgpack", f"pack-{fmt}-"


def _row(raw: list[Any]) -> Row:
    size, mtime_ns, ctime_ns, ino, status, reason, tokens, found, where = raw
    section = Section(*where) if where else None
    redactions = tuple(Redaction(str(k), int(n)) for k, n in found)
    return Row(int(size), int(mtime_ns), int(ctime_ns), int(ino), str(status), str(reason),
               float(tokens), redactions, section)  # fmt: skip


def load(folder: Path | None, fmt: str, options: list[Any]) -> Previous | None:
    """The last pack made with these options, or None (none yet, other options, damaged)."""
    if folder is None:
        return None
    index, prefix = _files(folder, fmt)
    try:
        raw = ormsgpack.unpackb(index.read_bytes())
        version, saved_options, blob, length, header, key, rows = raw
        if version != VERSION or saved_options != options:
            return None
        data = (folder / (prefix + str(blob) + ".bin")).read_bytes()
        if len(data) != length:
            return None
        end, tokens, digest = header
        previous = Previous(memoryview(data), fmt, (int(end), float(tokens), str(digest)), key)
        previous.rows = {str(path): _row(row) for path, row in rows.items()}
    except (OSError, ValueError, TypeError, KeyError, ormsgpack.MsgpackDecodeError):
        return None  # rebuilt from the files
    return previous


def save(
    folder: Path | None, fmt: str, options: list[Any], data: bytes, header: tuple[int, float],
    key: list[Any], rows: dict[str, list[Any]],
) -> None:  # fmt: skip
    """Keep this pack for the next re-pack; a failure to write only costs speed next time."""
    if folder is None:
        return
    index, prefix = _files(folder, fmt)
    blob = uuid.uuid4().hex[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / (prefix + blob + ".bin"), data, durable=False)
        end, tokens = header
        raw = [VERSION, options, blob, len(data), [end, tokens, _digest(data[:end])], key, rows]
        write_atomic(index, ormsgpack.packb(raw), durable=False)
        for old in folder.glob(prefix + "*.bin"):
            if old.name != prefix + blob + ".bin":
                old.unlink(missing_ok=True)
    except OSError:
        return


def row(entry: Entry, st: os.stat_result | None, section: Section | None) -> list[Any]:
    """An index row for a file of the new pack (no `st`: the file could not be read)."""
    where = None if section is None else [section.start, section.content, section.end,
                                          section.stop, section.cost]  # fmt: skip
    known = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) if st else (-1, -1, -1, -1)
    found = [[r.kind, r.line] for r in entry.redactions]
    return [*known, entry.status, entry.reason, entry.tokens, found, where]
