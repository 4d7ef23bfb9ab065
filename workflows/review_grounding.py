"""Grounding: find where visible strings and component names live in a repository.

A small confined search of its own (tools/codebase.py had no plain search function when this
was written): it walks the repository, honours .gitignore with pathspec, skips binaries and
large files, and never leaves the root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gemloom.errors import GemloomError

MAX_FILE_BYTES = 1_000_000
ALWAYS_SKIPPED = {".git", "node_modules", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache"}
MIN_NEEDLE = 4  # shorter strings match everywhere and ground nothing
ELLIPSES = ("…", "...", "..")


@dataclass(frozen=True)
class Hit:
    """One line of a file that holds the needle."""

    path: str
    line: int
    text: str


@dataclass
class RepoIndex:
    """The text files of a repository, read once, searchable line by line."""

    root: Path
    files: dict[str, list[str]] = field(default_factory=dict)
    preferred: frozenset[str] = frozenset()
    """Paths searched first (the files a diff touches)."""

    def search(self, needle: str, limit: int = 20) -> list[Hit]:
        """Lines holding `needle`: exact case first, then any case; preferred files first."""
        if len(needle.strip()) < MIN_NEEDLE:
            return []
        order = sorted(self.files, key=lambda p: (p not in self.preferred, p))
        for fold in (False, True):
            wanted = needle.casefold() if fold else needle
            hits = [
                Hit(path, number, line.strip())
                for path in order
                for number, line in enumerate(self.files[path], 1)
                if wanted in (line.casefold() if fold else line)
            ]
            if hits:
                return hits[:limit]
        return []

    def locate(self, needles: Iterable[str]) -> Hit | None:
        """The first hit for the first needle that has one, trying prefixes of cut-off text."""
        for needle in needles:
            for variant in variants(needle):
                if hits := self.search(variant, limit=1):
                    return hits[0]
        return None


def variants(text: str) -> list[str]:
    """`text`, then shorter forms for text cut off on screen: no ellipsis, fewer words."""
    text = " ".join(text.split())
    out = [text] if text else []
    stripped = text
    for mark in ELLIPSES:
        stripped = stripped.removesuffix(mark).rstrip()
    words = stripped.split(" ")
    if stripped != text and stripped:
        out.append(stripped)
    for keep in range(len(words) - 1, 1, -1):  # the last word may be cut mid-way
        out.append(" ".join(words[:keep]))
    return [v for v in out if len(v) >= MIN_NEEDLE]


def _ignore_spec(root: Path) -> pathspec.GitIgnoreSpec:
    lines: list[str] = []
    for ignore in sorted(root.rglob(".gitignore")):
        if any(part in ALWAYS_SKIPPED for part in ignore.relative_to(root).parts):
            continue
        base = ignore.parent.relative_to(root).as_posix()
        for raw in ignore.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            lines.append(_rebase(line, "" if base == "." else base))
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _rebase(pattern: str, base: str) -> str:
    """A nested .gitignore pattern rewritten relative to the root."""
    if not base:
        return pattern
    negate, body = ("!", pattern[1:]) if pattern.startswith("!") else ("", pattern)
    anchored = "/" in body.rstrip("/")
    body = body.lstrip("/")
    return f"{negate}{base}/{body}" if anchored else f"{negate}{base}/**/{body}"


def _text(path: Path) -> list[str] | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def index(root: str | Path, preferred: Iterable[str] = ()) -> RepoIndex:
    """Read the repository's text files (gitignored, binary and huge files left out)."""
    base = Path(root).expanduser().resolve()
    if not base.is_dir():
        raise GemloomError(f"Repository {root} is not a directory.")
    spec = _ignore_spec(base)
    repo = RepoIndex(base, preferred=frozenset(preferred))
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base)
        if any(part in ALWAYS_SKIPPED for part in rel.parts) or path.is_symlink():
            continue
        if not path.is_file() or spec.match_file(rel.as_posix()):
            continue
        if (lines := _text(path)) is not None:
            repo.files[rel.as_posix()] = lines
    return repo


def diff_paths(diff: str) -> list[str]:
    """Paths a unified diff changes (its `+++ b/...` lines)."""
    found = re.findall(r"^\+\+\+ (?:b/)?(\S+)", diff, re.MULTILINE)
    return [p for p in found if p != "/dev/null"]
