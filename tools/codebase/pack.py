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

from gemloom.errors import ExitCode, GemloomError
from gemloom.settings import Settings, load_settings
from gemloom.tokens import estimate
from gemloom.tools.codebase import splice
from gemloom.tools.codebase.cache import FileCache
from gemloom.tools.codebase.files import (
    MAX_FILE_BYTES,
    SKIP_KINDS,
    Skip,
    built_docs,
    load,
    name_kind,
    resolve,
)
from gemloom.tools.codebase.render import Entry, escape_tags, path_order
from gemloom.tools.codebase.walk import list_files

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


def _entry(
    root: str, rel: str, cache: FileCache, skip: frozenset[str], max_bytes: int, fmt: str,
    previous: splice.Previous | None = None, defer: bool = False,
) -> tuple[Entry, os.stat_result | None, bool]:  # fmt: skip
    """The file's entry, its stat (None when it cannot be read) and whether it was reused.

    With `defer` (a budgeted pack), built documentation (`files.built_docs`: Sphinx HTML and
    the like, output of sources the tree holds) is listed as omitted without being read,
    scanned for secrets, estimated or ranked: in sqlalchemy's sdist it is two thirds of the
    bytes and never makes a 200K pack. It is only read when the rest of the tree fits whole.
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
        record, changed = load(full, rel, st, cache.get(rel))
        if changed:
            cache.put(rel, record)
        if record.body is None:
            raise Skip(record.kind)
        if record.kind in skip:
            raise Skip(f"{record.kind} (skipped by default)")
    except Skip as reason:
        return Entry(rel, "skipped", reason=str(reason)), st, False
    if fmt == "xml" and record.tagged:  # rare: escaping makes a few more tokens
        text = escape_tags(record.body.decode("utf-8"))
        return Entry(rel, "full", text, estimate(text), redactions=record.redactions), st, False
    entry = Entry(rel, "full", tokens=record.tokens, redactions=record.redactions,
                  body=record.body)  # fmt: skip
    return entry, st, False


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
    listing = list_files(path, use_git)
    paths = _select(listing.files, include, exclude)
    cache = FileCache(settings.data_dir, path)
    name = path.name or str(path)
    options = [fmt, list(include), list(exclude), sorted(skip), max_file_bytes, listing.git, name]
    previous = splice.load(cache.folder, fmt, options)
    read = functools.partial(_entries, path, paths, listing.skipped, cache, skip, max_file_bytes,
                             fmt)  # fmt: skip
    found, entries = _read(read, previous, budget)
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
    else:
        if reused:  # fitting reads every file's record (outlines, ranking) as it always has
            found, entries = _read(read, None, budget)
        _fit(path, name, entries, budget, question, fmt, cache)
        parts, layout = splice.assemble(name, entries, fmt)
    if previous is not None:
        cache.forget(set(previous.rows) - set(paths))
    else:
        cache.keep_only(set(paths))
    cache.save()
    tokens = math.ceil(layout.tokens)
    return Pack(path, parts, _stats(entries, tokens, budget, listing.git), entries)


Found = list[tuple[Entry, os.stat_result | None, bool]]


def _entries(
    root: Path, paths: list[str], skipped: dict[str, str], cache: FileCache,
    skip: frozenset[str], max_bytes: int, fmt: str, previous: splice.Previous | None,
    defer: bool,
) -> tuple[Found, list[Entry]]:  # fmt: skip
    """Each file's entry (with its stat and whether it was reused), and all entries in order."""
    folder = str(root)  # joined to each path as a string: no Path objects per file
    found = [_entry(folder, rel, cache, skip, max_bytes, fmt, previous, defer) for rel in paths]
    entries = [entry for entry, _, _ in found]
    entries += [Entry(rel, "skipped", reason=why) for rel, why in skipped.items()]
    entries.sort(key=path_order)
    return found, entries


def _read(
    read: Callable[[splice.Previous | None, bool], tuple[Found, list[Entry]]],
    previous: splice.Previous | None, budget: int | None,
) -> tuple[Found, list[Entry]]:  # fmt: skip
    """The entries, built docs deferred in a budgeted pack unless the rest of the tree fits."""
    found, entries = read(previous, budget is not None)
    if budget is not None and _deferred(entries) and _content(entries) <= budget:
        found, entries = read(previous, False)  # the rest fits whole: the docs may too
    return found, entries


def _content(entries: list[Entry]) -> float:
    """Tokens of the full files' content: at most those of the pack that shows them all."""
    return sum(e.tokens for e in entries if e.status == "full")


def _deferred(entries: list[Entry]) -> bool:
    return any(e.reason == DEFERRED for e in entries)


def _fit(
    root: Path, name: str, entries: list[Entry], budget: int, question: str, fmt: str,
    cache: FileCache,
) -> None:  # fmt: skip
    """Rank, outline and omit files of a tree that does not fit `budget` whole."""
    from gemloom.tools.codebase.budget import fit  # parsers and ranking: budgeted packs only
    from gemloom.tools.codebase.outline import outline
    from gemloom.tools.codebase.rank import rank, recent_files

    texts = {e.path: e.text for e in entries if e.status == "full"}
    by_path = {e.path: e for e in entries}
    order = [by_path[p] for p in rank(texts, question, recent_files(root))]

    def outline_of(entry: Entry) -> tuple[str, float]:
        record = cache.get(entry.path)
        if record is None or record.body is None:
            text = outline(entry.path, entry.text)  # of the already escaped text
            return text, estimate(text)
        if record.outline is None:  # the cache keeps the outline of the unescaped text
            record.outline = outline(entry.path, record.body.decode("utf-8"))
            cache.put(entry.path, record)
        text = _shown(record.outline, fmt)
        return text, estimate(text)

    fit(name, entries, order, budget, fmt, outline_of)
    while _total(name, entries, fmt) > budget:  # header digits can tip the balance
        last = next(e for e in reversed(order) if e.status != "omitted")
        last.status = "omitted"
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
