"""pack(): a directory turned into one deterministic, budgeted context block."""

from __future__ import annotations

import functools
import gc
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from gemloom.background import in_background
from gemloom.errors import ExitCode, GemloomError
from gemloom.secrets import Redaction
from gemloom.settings import Settings, load_settings
from gemloom.tokens import FLOOR_WEIGHT, estimate, floor_bytes
from gemloom.tools.codebase import splice
from gemloom.tools.codebase.cache import FileCache
from gemloom.tools.codebase.files import (
    BOM,
    MAX_FILE_BYTES,
    SKIP_KINDS,
    FileRecord,
    Skip,
    built_docs,
    load,
    name_kind,
    read_bytes,
    resolve,
    scan_record,
)
from gemloom.tools.codebase.render import Entry, escape_tags, path_order
from gemloom.tools.codebase.walk import StartedListing

FORMATS = ("xml", "markdown")


class PackError(GemloomError):
    """The codebase cannot be packed as asked (missing folder, bad format or budget)."""

    exit_code = ExitCode.USAGE


@dataclass
class PackStats:
    """Figures of a pack: how many files went in how, and estimated tokens."""

    files: int
    full: int
    outlined: int
    omitted: int
    skipped: int
    redacted: int
    tokens: int
    budget: int | None
    git: bool
    per_file: dict[str, int] = field(default_factory=dict)
    """Estimated tokens each file adds to the pack (0 for omitted and skipped files)."""

    def as_dict(self) -> dict[str, Any]:
        """The stats as plain JSON-ready data."""
        return dict(self.__dict__)


@dataclass
class Pack:
    """A packed codebase: its bytes for the model, its figures, and what happened to each file."""

    root: Path
    parts: list[bytes | memoryview] = field(repr=False)
    """The pack as UTF-8 pieces in order: `write` sends them without joining them."""
    stats: PackStats
    entries: list[Entry]

    @functools.cached_property
    def data(self) -> bytes:
        """The pack as one UTF-8 string of bytes (joined on first use)."""
        return b"".join(self.parts)

    @functools.cached_property
    def text(self) -> str:
        """The pack as text (decoded on first use)."""
        return self.data.decode("utf-8", "surrogateescape")

    def write(self, handle: BinaryIO) -> None:
        """Write the pack to a binary file, piece by piece (never joined in memory)."""
        splice.write_parts(handle, self.parts)


def _root(root: str | Path) -> Path:
    path = Path(root).expanduser()
    if not path.exists():
        raise PackError(f"Cannot pack '{root}': no such file or directory.")
    if not path.is_dir():
        raise PackError(f"Cannot pack '{root}': it is a file, not a directory.")
    return path.resolve()


def _check(fmt: str, budget: int | None) -> None:
    if fmt not in FORMATS:
        raise PackError(f"Unknown pack format '{fmt}': use one of {', '.join(FORMATS)}.")
    if budget is not None and budget <= 0:
        raise PackError(f"The token budget must be positive, not {budget}.")


def _select(paths: list[str], include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    if not (include or exclude):
        return paths
    import pathspec  # only for --include and --exclude

    if include:
        wanted = pathspec.PathSpec.from_lines("gitignore", include)
        paths = [p for p in paths if wanted.match_file(p)]
    if exclude:
        unwanted = pathspec.PathSpec.from_lines("gitignore", exclude)
        paths = [p for p in paths if not unwanted.match_file(p)]
    return paths


def _shown(text: str, fmt: str) -> str:
    """A file's text as its section shows it: pack tags in it escaped in the xml format."""
    return escape_tags(text) if fmt == "xml" else text


DEFERRED = "built documentation, not read"
"""The reason of an omitted entry that a budgeted pack listed without reading (`_entry`)."""
UNCOUNTED = "not shown: not scanned for secrets, or its redactions not counted"
"""The reason of an entry a budgeted pack that scans on demand does not show (`Pending`)."""
HASHED_BESIDE = 4 << 20
"""From this size on, the last pack's segments file is hashed in a thread (`_checking`)."""


class Pending:
    """What a budgeted pack that cannot fit whole knows of its text files before fitting:
    raw text to rank, a floor of each file's tokens (`tokens.floor_bytes` of the raw text),
    and the records of files not yet scanned for secrets, redacted or estimated. Only the
    files the fitting tries to show, whole or outlined, are scanned (`ready`), in rank order.

    A pending entry holds no text until `ready` fills it from the scanned record. Redactions
    are held back until the fitting is done and given to the files shown only (`release`):
    what is ranked, floored and listed depends on the files alone, never on what an earlier
    pack happened to scan and cache, so a warm pack equals a cold one.
    """

    def __init__(self, cache: FileCache, fmt: str) -> None:
        self.records: dict[str, FileRecord] = {}
        self.raw: dict[str, bytes] = {}
        self.floors: dict[str, float] = {}
        self.held: dict[str, tuple[Redaction, ...]] = {}
        self.cache = cache
        self.fmt = fmt

    def unscanned(self, rel: str, record: FileRecord) -> Entry:
        """The placeholder entry of a text file read but not scanned."""
        self.records[rel] = record
        self._known(rel, record.body or b"")
        return Entry(rel, "full", tokens=self.floors[rel], reason=UNCOUNTED)

    def scanned(self, entry: Entry, raw: bytes) -> Entry:
        """The entry of a file scanned before (a cached record), its redactions held back."""
        self._known(entry.path, raw)
        self.held[entry.path], entry.redactions, entry.reason = entry.redactions, (), UNCOUNTED
        return entry

    def _known(self, rel: str, raw: bytes) -> None:
        self.raw[rel] = raw
        self.floors[rel] = floor_bytes(raw)

    def floor(self, entry: Entry) -> float:
        """At most the entry's tokens, whether it is scanned yet or not."""
        return self.floors.get(entry.path, 0.0)

    def ready(self, entry: Entry) -> None:
        """Scan, redact and estimate the entry's file now, if it is still pending."""
        record = self.records.pop(entry.path, None)
        if record is None:
            return
        record = scan_record(record, entry.path)
        self.cache.put(entry.path, record)
        shown = _shown_entry(entry.path, record, self.fmt)
        if shown.body is not None:
            entry.show(shown.body)
        else:
            entry.text = shown.text
        entry.tokens, self.held[entry.path] = shown.tokens, shown.redactions

    def release(self, entries: list[Entry]) -> None:
        """Give the files shown their redactions (and others none), refusing any file shown
        without a scan."""
        for entry in entries:
            if entry.path not in self.raw:  # skipped, or built docs left unread
                continue
            if entry.status not in ("full", "outline"):
                entry.redactions, entry.reason = (), UNCOUNTED
            elif entry.path in self.records:  # never: `fit` shows a file only once it is ready
                raise RuntimeError(f"{entry.path} would be shown without a scan for secrets")
            else:
                entry.redactions, entry.reason = self.held.get(entry.path, ()), ""


def _entry(
    root: str, rel: str, cache: FileCache, skip: frozenset[str], max_bytes: int, fmt: str,
    previous: splice.Previous | None = None, defer: bool = False, pending: Pending | None = None,
) -> tuple[Entry, os.stat_result | None, bool]:  # fmt: skip
    """The file's entry, its stat (None when it cannot be read) and whether it was reused.

    With `defer` (a budgeted pack), built documentation (`files.built_docs`: Sphinx HTML and
    the like, output of sources the tree holds) is listed as omitted without being read,
    scanned for secrets, estimated or ranked: in sqlalchemy's sdist it is two thirds of the
    bytes and never makes a 200K pack. It is only read when the rest of the tree fits whole.
    With `pending`, a file with no cached record is read but left unscanned (`Pending`).
    """
    st = None
    try:
        full, st = resolve(root, rel)
        # the same options and the same file on disk: whatever decided it then decides it now
        if previous is not None and (reused := previous.reuse(rel, st)) is not None:
            return reused, st, True
        if (kind := name_kind(rel)) in skip:
            raise Skip(f"{kind} (skipped by default)")
        if st.st_size > max_bytes:
            raise Skip(f"larger than {max_bytes:,} bytes")
        if defer and built_docs(full, rel, st):
            return Entry(rel, "omitted", reason=DEFERRED), st, False
        record, changed = load(full, rel, st, cache.get(rel), scan=pending is None)
        if changed:
            cache.put(rel, record)
        if record.body is None:
            raise Skip(record.kind)
        if record.kind in skip:
            raise Skip(f"{record.kind} (skipped by default)")
    except Skip as reason:
        return Entry(rel, "skipped", reason=str(reason)), st, False
    if pending is None:
        return _shown_entry(rel, record, fmt), st, False
    if not record.scanned:
        return pending.unscanned(rel, record), st, False
    try:  # ranked and floored on the file's own text, as if it were not scanned yet
        raw = record.body if record.own else read_bytes(full, st).removeprefix(BOM)
    except Skip as reason:
        return Entry(rel, "skipped", reason=str(reason)), st, False
    return pending.scanned(_shown_entry(rel, record, fmt), raw or b""), st, False


def _shown_entry(rel: str, record: FileRecord, fmt: str) -> Entry:
    """The full entry of a scanned text file's record."""
    if not record.scanned or record.body is None:
        raise ValueError(f"{rel}: only a scanned text record can be shown")
    if fmt == "xml" and record.tagged:  # rare: escaping makes a few more tokens
        text = escape_tags(record.body.decode("utf-8"))
        return Entry(rel, "full", text, estimate(text), redactions=record.redactions)
    return Entry(rel, "full", tokens=record.tokens, redactions=record.redactions,
                 body=record.body)  # fmt: skip


def pack(
    root: str | Path,
    *,
    budget: int | None = None,
    question: str = "",
    fmt: str = "xml",
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    settings: Settings | None = None,
    skip: Iterable[str] = SKIP_KINDS,
    max_file_bytes: int = MAX_FILE_BYTES,
    use_git: bool | None = None,
) -> Pack:
    """Pack the directory `root` into one context block that fits `budget` tokens (if given)."""
    _check(fmt, budget)
    path = _root(root)
    settings = settings or load_settings()
    with _collector_paused():
        return _pack(path, budget, question, fmt, tuple(include), tuple(exclude), settings,
                     frozenset(skip), max_file_bytes, use_git)  # fmt: skip


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A pack makes thousands of small objects and no cycles: a collection meanwhile (one of
    the oldest generation costs tens of ms beside a large tree's index) only costs time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pack(
    path: Path, budget: int | None, question: str, fmt: str, include: tuple[str, ...],
    exclude: tuple[str, ...], settings: Settings, skip: frozenset[str], max_file_bytes: int,
    use_git: bool | None,
) -> Pack:  # fmt: skip
    started = StartedListing(path, use_git)  # git lists the tree while the last pack is read
    cache = FileCache(settings.data_dir, path)
    name = path.name or str(path)
    chosen = [fmt, list(include), list(exclude), sorted(skip), max_file_bytes]
    tried_git = started.git is not None
    options = [*chosen, tried_git, name]
    previous = splice.load(cache.folder, fmt, options, verified=False)
    checked = _checking(previous)
    early = None
    if previous is not None and tried_git:  # the last pack's files are looked at meanwhile
        early = _early(path, previous, cache, skip, max_file_bytes, fmt, budget is not None)
    if not checked():  # damaged: nothing of it is used
        previous, early = None, None
    listing = started.result()
    if listing.git != tried_git:  # git could not list it after all: a walk's pack, if any
        options = [*chosen, listing.git, name]
        previous, early = splice.load(cache.folder, fmt, options), None
    paths = _select(listing.files, include, exclude)
    read = functools.partial(_entries, path, paths, listing.skipped, cache, skip, max_file_bytes,
                             fmt)  # fmt: skip
    asked = budget is not None and previous is None  # else first try to splice a whole pack
    if budget is not None and asked and (lazy := _on_demand(read, cache, fmt, budget, path, paths)):
        return _fitted(path, name, budget, question, fmt, cache, lazy, paths, previous, listing.git)
    found, entries = _read(read, previous, budget, early)
    reused = {entry.path for entry, _, again in found if again}
    whole = budget is None or _content(entries) <= budget  # else no need to render it all
    if whole:
        parts, layout = splice.assemble(name, entries, fmt, previous, reused)
    if budget is None or (whole and layout.tokens <= budget):  # kept for the next re-pack
        if previous is None or len(reused) < len(found) or layout.fresh_header:
            kept = previous.rows if previous is not None else {}
            rows = {e.path: kept[e.path] if again else splice.row(e, st) for e, st, again in found}
            rows |= {e.path: splice.row(e, None) for e in entries if e.path not in rows}
            splice.save(cache.folder, fmt, options, parts, layout, previous, rows)
        return _finish(path, paths, cache, previous, layout, entries, budget, listing.git, parts)
    if not asked and (lazy := _on_demand(read, cache, fmt, budget, path, paths)):  # after whole
        return _fitted(path, name, budget, question, fmt, cache, lazy, paths, previous, listing.git)
    if reused:  # fitting reads every file's record (outlines, ranking) as it always has
        found, entries = _read(read, None, budget)
    return _fitted(path, name, budget, question, fmt, cache, (None, entries), paths, previous,
                   listing.git)  # fmt: skip


def _on_demand(
    read: Callable[..., tuple[Found, list[Entry]]], cache: FileCache, fmt: str, budget: int,
    root: Path, paths: list[str],
) -> tuple[Pending, list[Entry]] | None:  # fmt: skip
    """The entries of a budgeted pack with files left unscanned (`Pending`) and built docs
    deferred, when the floor of the tree's tokens is over the budget; None when the tree may
    fit whole (or nearly): then every file is scanned and estimated, its built docs too, as a
    whole pack's are. Decided on the files' own text alone, so a pack after a whole one
    decides as a cold one does; without reading them when their sizes already bound the
    floor under the budget (`gemloom pack -b` with a budget the whole tree fits)."""
    if _size_floor(root, paths) <= budget:
        return None
    pending = Pending(cache, fmt)
    entries = read(None, True, pending)[1]
    return (pending, entries) if sum(pending.floors.values()) > budget else None


def _size_floor(root: Path, paths: list[str]) -> float:
    """At least the sum of the files' `floor_bytes`, from their sizes alone: a floor counts at
    most FLOOR_WEIGHT a byte (a file that cannot be stat-ed is skipped, so adds nothing)."""
    folder, total = str(root), 0
    for rel in paths:
        try:
            total += os.stat(f"{folder}/{rel}").st_size
        except OSError:
            continue
    return FLOOR_WEIGHT * total


def _fitted(
    path: Path, name: str, budget: int, question: str, fmt: str, cache: FileCache,
    lazy: tuple[Pending | None, list[Entry]], paths: list[str], previous: splice.Previous | None,
    git: bool,
) -> Pack:  # fmt: skip
    """The budgeted pack of a tree that does not fit whole."""
    pending, entries = lazy
    _fit(path, name, entries, budget, question, fmt, cache, pending)
    parts, layout = splice.assemble(name, entries, fmt)
    return _finish(path, paths, cache, previous, layout, entries, budget, git, parts)


def _finish(
    path: Path, paths: list[str], cache: FileCache, previous: splice.Previous | None,
    layout: splice.Layout, entries: list[Entry], budget: int | None, git: bool,
    parts: list[bytes | memoryview],
) -> Pack:  # fmt: skip
    """The pack, once the cache has forgotten files gone from the tree and been saved."""
    if previous is not None:
        cache.forget(set(previous.rows) - set(paths))
    else:
        cache.keep_only(set(paths))
    cache.save()
    tokens = math.ceil(layout.tokens)
    return Pack(path, parts, _stats(entries, tokens, budget, git), entries)


def _checking(previous: splice.Previous | None) -> Callable[[], bool]:
    """Whether the last pack's segments file is intact, as a call to make before trusting it:
    a large one is hashed in a thread of its own while the re-pack looks at the files (xxh3
    lets go of the GIL; 37 MB of the stdlib's take about 2 ms), a small one at once."""
    if previous is None:
        return lambda: True
    if len(previous.data) < HASHED_BESIDE:
        return functools.partial(bool, splice.intact(previous))
    return in_background(functools.partial(splice.intact, previous), "gemloom-pack-check").result


Found = list[tuple[Entry, os.stat_result | None, bool]]
Made = dict[str, tuple[Entry, os.stat_result | None, bool]]  # the same, by path


def _early(
    root: Path, previous: splice.Previous, cache: FileCache, skip: frozenset[str],
    max_bytes: int, fmt: str, defer: bool,
) -> Made:  # fmt: skip
    """The entries of the last pack's files, made while git lists the tree in its own process
    (on another core): the first read of a re-pack takes those of the files still listed
    instead of making them again. A file no longer listed only cost a look, or a read if it
    changed too (its record is then forgotten with the files gone from the tree)."""
    folder = str(root)
    return {rel: _entry(folder, rel, cache, skip, max_bytes, fmt, previous, defer)
            for rel in previous.rows}  # fmt: skip


def _entries(
    root: Path, paths: list[str], skipped: dict[str, str], cache: FileCache,
    skip: frozenset[str], max_bytes: int, fmt: str, previous: splice.Previous | None,
    defer: bool, pending: Pending | None = None, early: Made | None = None,
) -> tuple[Found, list[Entry]]:  # fmt: skip
    """Each file's entry (with its stat and whether it was reused), and all entries in order;
    those in `early` (made with the same arguments, see `_early`) are taken from it."""
    folder = str(root)  # joined to each path as a string: no Path objects per file
    made = early or {}
    found = [made.get(rel) or _entry(folder, rel, cache, skip, max_bytes, fmt, previous, defer,
                                     pending)
             for rel in paths]  # fmt: skip
    entries = [entry for entry, _, _ in found]
    entries += [Entry(rel, "skipped", reason=why) for rel, why in skipped.items()]
    entries.sort(key=path_order)
    return found, entries


def _read(
    read: Callable[..., tuple[Found, list[Entry]]], previous: splice.Previous | None,
    budget: int | None, early: Made | None = None,
) -> tuple[Found, list[Entry]]:  # fmt: skip
    """The entries, built docs deferred in a budgeted pack unless the rest of the tree fits
    (the first read takes the entries made `early`)."""
    found, entries = read(previous, budget is not None, early=early)
    if budget is not None and _deferred(entries) and _content(entries) <= budget:
        # the rest fits whole: the docs may too, and only they are read again (deferring
        # changed nothing else: an entry not deferred is the same made either way)
        kept = {f[0].path: f for f in found if f[0].reason != DEFERRED}
        found, entries = read(previous, False, early=kept)
    return found, entries


def _content(entries: list[Entry]) -> float:
    """Tokens of the full files' content: at most those of the pack that shows them all."""
    return sum(e.tokens for e in entries if e.status == "full")


def _deferred(entries: list[Entry]) -> bool:
    return any(e.reason == DEFERRED for e in entries)


def _fit(
    root: Path, name: str, entries: list[Entry], budget: int, question: str, fmt: str,
    cache: FileCache, pending: Pending | None,
) -> None:  # fmt: skip
    """Rank, outline and omit files of a tree that does not fit `budget` whole.

    Files still `pending` are ranked on their raw text (nothing ranked is shown) and scanned
    only when the fitting tries to show them, whole or outlined.
    """
    from gemloom.tools.codebase.budget import fit  # parsers and ranking: budgeted packs only
    from gemloom.tools.codebase.outline import outline
    from gemloom.tools.codebase.rank import rank, recent_files

    raw = pending.raw if pending is not None else None
    texts = {e.path: raw[e.path].decode("utf-8", "surrogateescape") if raw else e.text
             for e in entries if e.status == "full"}  # fmt: skip
    by_path = {e.path: e for e in entries}
    order = [by_path[p] for p in rank(texts, question, recent_files(root), raw)]

    def outline_of(entry: Entry) -> tuple[str, float]:
        if pending is not None:
            pending.ready(entry)  # an outline too is made of the redacted text only
        record = cache.get(entry.path)
        if record is None or record.body is None or not record.scanned:
            text = outline(entry.path, entry.text)  # of the already escaped text
            return text, estimate(text)
        if record.outline is None:  # the cache keeps the outline of the unescaped text
            record.outline = outline(entry.path, record.body.decode("utf-8"))
            cache.put(entry.path, record)
        text = _shown(record.outline, fmt)
        return text, estimate(text)

    if pending is None:
        fit(name, entries, order, budget, fmt, outline_of)
    else:
        fit(name, entries, order, budget, fmt, outline_of, pending.ready, pending.floor)
        pending.release(entries)
    while _total(name, entries, fmt) > budget:  # header digits (and redactions) can tip it
        last = next(e for e in reversed(order) if e.status != "omitted")
        last.status = "omitted"
        if pending is not None:
            pending.release(entries)
    for entry in entries:
        if entry.status == "omitted":
            entry.text = ""


def _total(name: str, entries: list[Entry], fmt: str) -> float:
    from gemloom.tools.codebase.budget import frame_tokens, section_tokens

    shown = [e for e in entries if e.status in ("full", "outline")]
    return frame_tokens(name, entries, fmt) + sum(
        section_tokens(e, e.status, e.text, splice.content_tokens(e), fmt) for e in shown
    )


def _stats(entries: list[Entry], tokens: int, budget: int | None, git: bool) -> PackStats:
    count = Counter(e.status for e in entries)
    shown = ("full", "outline")
    per_file = {e.path: math.ceil(splice.content_tokens(e)) if e.status in shown else 0
                for e in entries}  # fmt: skip
    return PackStats(
        files=len(entries), full=count["full"], outlined=count["outline"],
        omitted=count["omitted"], skipped=count["skipped"],
        redacted=sum(bool(e.redactions) for e in entries), tokens=tokens, budget=budget,
        git=git, per_file=per_file,
    )  # fmt: skip


class EmptyPack(GemloomError):
    """Every file was ignored or skipped: the pack would hold nothing."""

    exit_code = ExitCode.FAILED


def require_files(packed: Pack, root: Path) -> None:
    """Raise EmptyPack when no file made it into the pack, saying why."""
    s = packed.stats
    if s.full + s.outlined + s.omitted:
        return
    why = f"{s.skipped} skipped (binary, lockfile, generated, too large)" if s.skipped else ""
    raise EmptyPack(
        f"Nothing to pack in {root}: every file is ignored (.gitignore, .gemloomignore, "
        f"--include/--exclude){' or ' + why if why else ''}; check those rules."
    )
