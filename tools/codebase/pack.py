"""pack(): a directory turned into one deterministic, budgeted context block."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from gemloom.errors import ExitCode, GemloomError
from gemloom.settings import Settings, load_settings
from gemloom.tokens import estimate
from gemloom.tools.codebase.budget import fit, frame_tokens, section_tokens
from gemloom.tools.codebase.cache import FileCache
from gemloom.tools.codebase.files import MAX_FILE_BYTES, SKIP_KINDS, Skip, load, name_kind, resolve
from gemloom.tools.codebase.outline import outline
from gemloom.tools.codebase.rank import rank, recent_files
from gemloom.tools.codebase.render import Entry, escape_tags, footer, header, section
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
    """A packed codebase: the text for the model, its figures, and what happened to each file."""

    root: Path
    text: str
    stats: PackStats
    entries: list[Entry]


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


def _entry(
    root: Path, rel: str, cache: FileCache, skip: frozenset[str], max_bytes: int, fmt: str
) -> Entry:
    try:
        full, st = resolve(root, rel)
        if (kind := name_kind(rel)) in skip:
            raise Skip(f"{kind} (skipped by default)")
        if st.st_size > max_bytes:
            raise Skip(f"larger than {max_bytes:,} bytes")
        record, changed = load(full, rel, st, cache.get(rel))
        if changed:
            cache.put(rel, record)
        if record.text is None:
            raise Skip(record.kind)
        if record.kind in skip:
            raise Skip(f"{record.kind} (skipped by default)")
    except Skip as reason:
        return Entry(rel, "skipped", reason=str(reason))
    if fmt == "xml" and record.tagged:  # rare: escaping makes a few more tokens
        text = escape_tags(record.text)
        return Entry(rel, "full", text, estimate(text), redactions=record.redactions)
    return Entry(rel, "full", record.text, record.tokens, redactions=record.redactions)


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
    listing = list_files(path, use_git)
    paths = _select(listing.files, tuple(include), tuple(exclude))
    cache = FileCache(settings.data_dir, path)
    skip = frozenset(skip)
    entries = [_entry(path, rel, cache, skip, max_file_bytes, fmt) for rel in paths]
    entries += [Entry(rel, "skipped", reason=why) for rel, why in listing.skipped.items()]
    entries.sort(key=lambda e: e.path.split("/"))
    name = path.name or str(path)
    if budget is not None:
        _fit(path, name, entries, budget, question, fmt, cache)
    text, tokens = _render(name, entries, fmt)
    cache.keep_only(set(paths))
    cache.save()
    return Pack(path, text, _stats(entries, tokens, budget, listing.git), entries)


def _fit(
    root: Path, name: str, entries: list[Entry], budget: int, question: str, fmt: str,
    cache: FileCache,
) -> None:  # fmt: skip
    texts = {e.path: e.text for e in entries if e.status == "full"}
    needed = frame_tokens(name, entries, fmt) + sum(
        section_tokens(e, "full", e.text, e.tokens, fmt) for e in entries if e.status == "full"
    )
    if needed <= budget:
        return
    by_path = {e.path: e for e in entries}
    order = [by_path[p] for p in rank(texts, question, recent_files(root))]

    def outline_of(entry: Entry) -> tuple[str, float]:
        record = cache.get(entry.path)
        if record is None or record.text is None:
            text = outline(entry.path, entry.text)  # of the already escaped text
            return text, estimate(text)
        if record.outline is None:  # the cache keeps the outline of the unescaped text
            record.outline = outline(entry.path, record.text)
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
    shown = [e for e in entries if e.status in ("full", "outline")]
    return frame_tokens(name, entries, fmt) + sum(
        section_tokens(e, e.status, e.text, _content_tokens(e), fmt) for e in shown
    )


def _content_tokens(entry: Entry) -> float:
    return entry.tokens if entry.status == "full" else estimate(entry.text)


def _render(name: str, entries: list[Entry], fmt: str) -> tuple[str, int]:
    parts = [header(name, entries, fmt)]
    for entry in entries:
        if entry.status in ("full", "outline"):
            parts += section(entry, fmt)
    parts.append(footer(fmt))
    return "".join(parts), math.ceil(_total(name, entries, fmt))


def _stats(entries: list[Entry], tokens: int, budget: int | None, git: bool) -> PackStats:
    count = {s: sum(e.status == s for e in entries) for s in ("full", "outline", "omitted")}
    per_file = {e.path: math.ceil(_content_tokens(e)) if e.status in ("full", "outline") else 0
                for e in entries}  # fmt: skip
    return PackStats(
        files=len(entries), full=count["full"], outlined=count["outline"],
        omitted=count["omitted"], skipped=sum(e.status == "skipped" for e in entries),
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
