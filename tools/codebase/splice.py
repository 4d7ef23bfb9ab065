"""The previous unbudgeted pack of a root, kept so a re-pack splices in only what changed.

Beside the file cache sit the last pack's bytes (`pack-FMT-GEN.bin`) and an index
(`pack-FMT.msgpack`): per file its size, mtime and inode, its status, and where its section
lies in those bytes. A re-pack reuses the section of every file whose size, mtime and inode are
unchanged, and the header when no file was added, removed or changed status. The index names
its bytes file and their length, and is written after them: a crash leaves the old pair whole.
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
from gemloom.tools.codebase import cache as _cache
from gemloom.tools.codebase.render import Entry

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
    header: tuple[int, float]  # where the header ends, and its tokens with the footer's
    key: list[Any]  # what the header was made from (see `header_key`)
    rows: dict[str, Row] = field(default_factory=dict)

    def reuse(self, rel: str, st: os.stat_result) -> Entry | None:
        """The file's entry from the last pack if it is unchanged on disk, else None."""
        row = self.rows.get(rel)
        if row is None or (row.size, row.mtime_ns, row.ino) != (
            st.st_size, st.st_mtime_ns, st.st_ino,
        ):  # fmt: skip
            return None
        if row.section is None:
            return Entry(rel, row.status, reason=row.reason)
        s = row.section
        return Entry(rel, row.status, tokens=row.tokens, redactions=row.redactions,
                     body=self.data[s.content : s.end])  # fmt: skip

    def section(self, rel: str) -> tuple[memoryview, float] | None:
        """The bytes and tokens of a reused file's whole section."""
        row = self.rows.get(rel)
        if row is None or row.section is None:
            return None
        s = row.section
        return self.data[s.start : s.stop], s.cost


def header_key(name: str, entries: list[Entry]) -> list[Any]:
    """Everything the header shows, as plain data: equal keys make equal headers."""
    rows = [[e.path, e.status, e.reason, [[r.kind, r.line] for r in e.redactions]]
            for e in entries]  # fmt: skip
    return [name, rows]


def _files(folder: Path, fmt: str) -> tuple[Path, str]:
    return folder / f"pack-{fmt}.msgpack", f"pack-{fmt}-"


def _row(raw: list[Any]) -> Row:
    size, mtime_ns, ino, status, reason, tokens, found, where = raw
    section = Section(*where) if where else None
    redactions = tuple(Redaction(str(k), int(n)) for k, n in found)
    return Row(int(size), int(mtime_ns), int(ino), str(status), str(reason), float(tokens),
               redactions, section)  # fmt: skip


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
        previous = Previous(memoryview(data), (int(header[0]), float(header[1])), key)
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
        raw = [VERSION, options, blob, len(data), list(header), key, rows]
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
    size, mtime_ns, ino = (st.st_size, st.st_mtime_ns, st.st_ino) if st else (-1, -1, -1)
    found = [[r.kind, r.line] for r in entry.redactions]
    return [size, mtime_ns, ino, entry.status, entry.reason, entry.tokens, found, where]
