"""The previous whole pack of a root, kept so a re-pack splices in only what changed.

Beside the file cache sit a segments file (`pack-FMT-GEN.bin`) holding the last pack's header
and sections, and an index (`pack-FMT.msgpack`): per file its size, mtime, ctime and inode, its
status, and where its section lies in the segments file. A re-pack reuses the section of every
file whose size, times and inode are unchanged (an edit that puts the mtime back still moves
the ctime), and the header when no file was added, removed or changed status; it appends only
the new sections, and writes the pack anew once the file has grown to twice the pack.

The segments file only ever grows or is replaced by a rename, so a mapped one stays valid;
the index, written last and atomically, records its length and the xxh3 of each appended
stretch: a crash, a torn append or damage makes it not match, and the pack is built afresh.
"""

from __future__ import annotations

import functools
import hashlib
import mmap
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import ormsgpack
import xxhash

from gemloom.atomic import replacing, write_atomic
from gemloom.secrets import Redaction
from gemloom.tokens import estimate
from gemloom.tools.codebase import cache as _cache
from gemloom.tools.codebase.render import Entry, footer, header, section_parts

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: every pack is written whole
    fcntl = None  # type: ignore[assignment]

NEWLINE = estimate("\n")  # the closing newline a section may add
_IOV_MAX = 1024  # pieces per writev call: Linux's limit
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

    def moved(self, shift: int) -> Section:
        """The same section `shift` bytes further on."""
        return Section(self.start + shift, self.content + shift, self.end + shift,
                       self.stop + shift, self.cost)  # fmt: skip


Row = list[Any]
"""One file of the previous pack, as stored: size, mtime_ns, ctime_ns, inode (what identified
it on disk), status, reason, tokens, redactions as [kind, line] pairs, and its section's place
in the segments file as [start, content, end, stop, cost] (None without a section)."""
_WHERE = 8  # where the section lies: the last item of a row


@dataclass
class Previous:
    """The last whole pack of a root in one format: its segments file, header and files."""

    data: memoryview  # the segments file, mapped: sections are read only when used
    blob: str  # the segments file's generation, in its name
    header: tuple[int, int, float]  # where the header lies in `data`, and its tokens
    key: list[Any]  # what the header was made from (see `header_key`)
    digests: list[list[Any]]  # [end, xxh3] of each stretch of `data`: the first, then appends
    rows: dict[str, Row] = field(default_factory=dict)

    def reuse(self, rel: str, st: os.stat_result) -> Entry | None:
        """The file's entry from the last pack if it is unchanged on disk, else None."""
        row = self.rows.get(rel)
        if row is None:
            return None
        try:
            size, mtime, ctime, inode, status, reason, tokens, found, where = row
            if (size != st.st_size or mtime != st.st_mtime_ns or ctime != st.st_ctime_ns
                    or inode != st.st_ino):  # fmt: skip
                return None
            redactions = tuple(Redaction(str(k), int(n)) for k, n in found) if found else ()
            if where is None:
                return Entry(rel, str(status), reason=str(reason), redactions=redactions)
            start, content, end, stop, _ = where
            if not type(start) is type(content) is type(end) is type(stop) is int:
                return None
            return Entry(rel, str(status), tokens=float(tokens), redactions=redactions,
                         body=self.data[content:end])  # fmt: skip
        except (TypeError, ValueError):
            return None  # a damaged row: the file is read again

    def head(self) -> tuple[memoryview, float]:
        """The header's bytes and tokens."""
        start, end, tokens = self.header
        return self.data[start:end], tokens


@dataclass
class Layout:
    """Where the parts of a pack went, what is new in it, and the tokens of all."""

    key: list[Any]  # what the header was made from
    header: tuple[int, float]  # the header's length and its tokens with the footer's
    fresh_header: bool
    placed: dict[str, Section] = field(default_factory=dict)  # new sections, in the pack
    shifts: dict[str, int] = field(default_factory=dict)  # reused: pack offset - file offset
    fresh: list[tuple[str, list[bytes | memoryview]]] = field(default_factory=list)
    tokens: float = 0.0
    size: int = 0


def assemble(
    name: str, entries: list[Entry], fmt: str, previous: Previous | None = None,
    reused: set[str] | None = None,
) -> tuple[list[bytes | memoryview], Layout]:  # fmt: skip
    """The pack's parts, to be joined or written in turn, and its layout; sections of
    `reused` files and an unchanged header are taken from `previous`."""
    key = header_key(name, entries)
    head: bytes | memoryview
    if previous is not None and key == previous.key:
        head, frame = previous.head()
    else:
        text = header(name, entries, fmt)
        head = text.encode("utf-8", "surrogateescape")
        frame = estimate(text) + estimate(footer(fmt))
    layout = Layout(key, (len(head), frame), previous is None or key != previous.key,
                    tokens=frame)  # fmt: skip
    if layout.fresh_header:
        layout.fresh.append(("", [head]))
    parts: list[bytes | memoryview] = [head]
    offset = len(head)
    for entry in entries:
        if entry.status not in ("full", "outline"):
            continue
        if previous is not None and reused and entry.path in reused:
            start, _, _, stop, cost = previous.rows[entry.path][_WHERE]
            layout.shifts[entry.path] = offset - start
            parts.append(previous.data[start:stop])
            layout.tokens += cost
            offset += stop - start
        else:
            where, pieces = _section(entry, fmt, offset)
            parts += pieces
            layout.fresh.append((entry.path, pieces))
            layout.placed[entry.path] = where
            layout.tokens += where.cost
            offset = where.stop
    parts.append(footer(fmt).encode())
    layout.size = offset + len(parts[-1])
    return parts, layout


def _section(entry: Entry, fmt: str, offset: int) -> tuple[Section, list[bytes | memoryview]]:
    """A freshly rendered section at `offset`, and its pieces."""
    head, newline, tail = section_parts(entry, fmt)
    body = entry.content()
    cost = section_cost(head, tail, content_tokens(entry), bool(newline))
    pieces = [head.encode("utf-8", "surrogateescape"), body, (newline + tail).encode()]
    content = offset + len(pieces[0])
    stop = content + len(body) + len(pieces[2])
    return Section(offset, content, content + len(body), stop, cost), pieces


_fixed = functools.lru_cache(maxsize=16)(estimate)
"""The estimate of text every section ends with (its format's closing tag)."""


def section_cost(head: str, tail: str, tokens: float, newline: bool) -> float:
    """Tokens of a section: its head and tail around content of `tokens`, and the newline
    added after content that does not end in one (the pack's and the budget's figure)."""
    return estimate(head) + _fixed(tail) + tokens + (NEWLINE if newline else 0.0)


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


def _digest(data: bytes | memoryview) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def intact(previous: Previous) -> bool:
    """Whether each stretch of the segments file hashes as its index says, and they cover it
    all (a damaged list of digests says no)."""
    data, start = previous.data, 0
    try:
        for end, digest in previous.digests:
            if not start < end <= len(data) or _digest(data[start:end]) != digest:
                return False
            start = end
    except (ValueError, TypeError):
        return False
    return start == len(data)


def _mapped(path: Path, length: int) -> memoryview | None:
    """The first `length` bytes of a segments file, mapped read-only (never truncated in place:
    it only grows, and is replaced by renaming)."""
    with open(path, "rb") as handle:
        if length <= 0 or os.fstat(handle.fileno()).st_size < length:
            return None
        return memoryview(mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ))


def load(
    folder: Path | None, fmt: str, options: list[Any], *, verified: bool = True
) -> Previous | None:
    """The last whole pack made with these options, or None (none, other options, damaged).
    With `verified=False` its segments file is not hashed yet: the caller checks it with
    `intact` before trusting anything read from it."""
    if folder is None:
        return None
    index, prefix = _files(folder, fmt)
    try:
        raw = ormsgpack.unpackb(index.read_bytes())
        version, saved_options, blob, length, digest, header, key, rows = raw
        if version != VERSION or saved_options != options:
            return None
        data = _mapped(folder / f"{prefix}{blob}.bin", int(length))
        if data is None:
            return None
        start, end, tokens = header
        previous = Previous(data, str(blob), (int(start), int(end), float(tokens)), key, digest)
        if verified and not intact(previous):
            return None
        if not isinstance(rows, dict):
            return None
        previous.rows = rows  # read as used: a row of the wrong shape fails reuse, then rebuilt
    except (OSError, ValueError, TypeError, KeyError, ormsgpack.MsgpackDecodeError):
        return None  # rebuilt from the files
    return previous


def save(
    folder: Path | None, fmt: str, options: list[Any], parts: list[bytes | memoryview],
    layout: Layout, previous: Previous | None, rows: dict[str, list[Any]],
) -> None:  # fmt: skip
    """Keep this pack for the next re-pack: only its new sections are appended to the last
    segments file, unless that has grown to twice the pack. Failing costs only speed."""
    if folder is None:
        return
    index, prefix = _files(folder, fmt)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        grown = (
            None
            if previous is None
            else _append(
                folder / f"{prefix}{previous.blob}.bin", layout, 2 * layout.size, len(previous.data)
            )
        )
        if grown is None:
            blob, length, digest = _write_whole(folder, prefix, parts, layout.size)
            digests = [[length, digest]]
            places = layout.placed
            for path, shift in layout.shifts.items():  # reused sections, where they now are
                *at, cost = rows[path][_WHERE]
                rows[path] = [*rows[path][:_WHERE], [*(x + shift for x in at), cost]]
            header: list[Any] | None = [0, layout.header[0], layout.header[1]]
        else:
            assert previous is not None
            (length, added, places, header), blob = grown, previous.blob
            digests = [*previous.digests, *added]
            if header is None:
                header = list(previous.header)
        for path, section in places.items():  # reused rows stand as they are when appending
            rows[path] = [*rows[path][:_WHERE], _where(section)]
        raw = [VERSION, options, blob, length, digests, header, layout.key, rows]
        write_atomic(index, ormsgpack.packb(raw), durable=False)
    except OSError:
        return


def _where(section: Section | None) -> list[Any] | None:
    if section is None:
        return None
    return [section.start, section.content, section.end, section.stop, section.cost]


def _write_whole(
    folder: Path, prefix: str, parts: list[bytes | memoryview], size: int
) -> tuple[str, int, str]:
    """A new segments file holding exactly the pack; older ones are removed."""
    blob = uuid.uuid4().hex[:16]
    digest = xxhash.xxh3_128()
    with replacing(folder / f"{prefix}{blob}.bin", durable=False) as handle:
        write_parts(handle, parts)
    for part in parts:
        digest.update(part)
    for old in folder.glob(prefix + "*.bin"):
        if old.name != f"{prefix}{blob}.bin":
            old.unlink(missing_ok=True)
    return blob, size, digest.hexdigest()


def write_parts(handle: BinaryIO, parts: list[bytes | memoryview]) -> None:
    """Write pieces in order, a thousand to a system call (writev) where the file allows."""
    handle.flush()
    try:
        fd = handle.fileno() if hasattr(os, "writev") else None
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: in memory
        fd = None
    if fd is None:
        for part in parts:
            handle.write(part)
        return
    views, first = [memoryview(p) for p in parts if len(p)], 0
    while first < len(views):
        done = os.writev(fd, views[first : first + _IOV_MAX])
        while first < len(views) and done >= len(views[first]):
            done -= len(views[first])
            first += 1
        if done:  # a partial write (a pipe): the rest of that piece goes next
            views[first] = views[first][done:]


def _append(
    path: Path, layout: Layout, limit: int, known: int
) -> tuple[int, list[list[Any]], dict[str, Section], list[Any] | None] | None:
    """Append the pack's new header and sections to its segments file (`known` bytes long when
    last read): its new length, the digests of what follows `known`, where the new parts went.
    None when the file would pass `limit` bytes: then the pack is written whole instead."""
    if fcntl is None:  # pragma: no cover - no lock to keep two appenders apart
        return None
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:  # replaced by another pack meanwhile
        return None
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # one appender at a time
        base = os.fstat(handle.fileno()).st_size
        adding = sum(len(p) for _, pieces in layout.fresh for p in pieces)
        if base + adding > limit or base < known:
            return None
        digests = []
        if base > known:  # another pack appended since: its bytes are hashed as they are
            handle.seek(known)
            digests.append([base, _digest(handle.read(base - known))])
        handle.seek(base)
        places: dict[str, Section] = {}
        header = None
        offset, digest = base, xxhash.xxh3_128()
        for key, pieces in layout.fresh:
            if key == "":
                header = [offset, offset + layout.header[0], layout.header[1]]
            else:
                placed = layout.placed[key]
                places[key] = placed.moved(offset - placed.start)
            for piece in pieces:
                handle.write(piece)
                digest.update(piece)
                offset += len(piece)
    if offset > base:
        digests.append([offset, digest.hexdigest()])
    return offset, digests, places, header


def row(entry: Entry, st: os.stat_result | None) -> list[Any]:
    """An index row for a file of the new pack (no `st`: the file could not be read); its last
    item, where its section lies, is filled in when the pack is saved."""
    known = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) if st else (-1, -1, -1, -1)
    found = [[r.kind, r.line] for r in entry.redactions]
    return [*known, entry.status, entry.reason, entry.tokens, found, None]
