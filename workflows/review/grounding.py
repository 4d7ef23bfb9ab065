"""Grounding: find where visible strings and component names live in a repository.

The files come from the pack's own listing and reader (tools/codebase_walk, codebase_files): the
same git view or nested .gitignore rules, `.gemloomignore`, confinement (no symlink or hard link
out of the root, no devices) and secret redaction. Snippets copied into reports are therefore
the redacted text, and so is the `--diff` under review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gemloom.errors import GemloomError
from gemloom.secrets import redact
from gemloom.tools.codebase.files import Skip, read_text
from gemloom.tools.codebase.walk import list_files

MAX_FILE_BYTES = 1_000_000
ALWAYS_SKIPPED = {".git", "node_modules", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache"}
MIN_NEEDLE = 4  # shorter strings match everywhere and ground nothing
ELLIPSES = ("…", "...", "..")


@dataclass(frozen=True)
class CodeMatch:
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

    def search(self, needle: str, limit: int = 20) -> list[CodeMatch]:
        """Lines holding `needle`: exact case first, then any case; preferred files first."""
        if len(needle.strip()) < MIN_NEEDLE:
            return []
        order = sorted(self.files, key=lambda p: (p not in self.preferred, p))
        for fold in (False, True):
            wanted = needle.casefold() if fold else needle
            hits = [
                CodeMatch(path, number, line.strip())
                for path in order
                for number, line in enumerate(self.files[path], 1)
                if wanted in (line.casefold() if fold else line)
            ]
            if hits:
                return hits[:limit]
        return []

    def locate(self, needles: Iterable[str]) -> CodeMatch | None:
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


def _lines(root: Path, rel: str) -> list[str] | None:
    try:
        return read_text(root, rel, MAX_FILE_BYTES).text.splitlines()  # type: ignore[union-attr]
    except Skip:
        return None  # binary, not UTF-8, too large, a link out of the root, a device


def repository(root: str | Path) -> Path:
    """The repository's folder, resolved, or the error when it is not a folder."""
    base = Path(root).expanduser().resolve()
    if not base.is_dir():
        raise GemloomError(f"Repository {root} is not a directory.")
    return base


def index(root: str | Path, preferred: Iterable[str] = ()) -> RepoIndex:
    """Read the repository's text files, redacted (ignored, binary and huge files left out)."""
    base = repository(root)
    repo = RepoIndex(base, preferred=frozenset(preferred))
    for rel in list_files(base).files:
        if any(part in ALWAYS_SKIPPED for part in rel.split("/")):
            continue
        if (lines := _lines(base, rel)) is not None:
            repo.files[rel] = lines
    return repo


def diff_paths(diff: str) -> list[str]:
    """Paths a unified diff changes (its `+++ b/...` lines)."""
    found = re.findall(r"^\+\+\+ (?:b/)?(\S+)", diff, re.MULTILINE)
    return [p for p in found if p != "/dev/null"]


_HUNK = re.compile(r"^(?:diff --git |@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@)", re.MULTILINE)


def check_diff(text: str, shown: str) -> str:
    """`text` if it is a unified diff (empty means none), else a one-line GemloomError."""
    if not text.strip():
        return ""
    if "\0" in text or not _HUNK.search(text):
        raise GemloomError(
            f"{shown} is not a unified diff (no 'diff --git' or '@@ -N +N @@' line); "
            "make one with: git diff > change.diff"
        )
    return text


_COUNTS = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _redact_lines(prefixes: list[str], body: list[str], path: str) -> list[str]:
    """Hunk lines redacted together (multi-line keys) under the file's name, prefixes kept."""
    clean = redact("".join(body), path)[0].splitlines(keepends=True)
    if len(clean) != len(body):  # an odd line break inside a secret: line by line instead
        clean = [redact(line, path)[0] for line in body]
    return [p + line for p, line in zip(prefixes, clean, strict=True)]


def redact_diff(diff: str) -> str:
    """The diff with secrets redacted as in the code: each file's lines under its own name."""
    out: list[str] = []
    path, old, new = "", 0, 0
    prefixes: list[str] = []
    body: list[str] = []
    for line in diff.splitlines(keepends=True):
        if (old > 0 or new > 0) and line[:1] in (" ", "+", "-"):
            old -= line[0] != "+"
            new -= line[0] != "-"
            prefixes.append(line[0])
            body.append(line[1:])
            continue
        out += _redact_lines(prefixes, body, path)
        prefixes, body = [], []
        if m := _COUNTS.match(line):
            old, new = int(m.group(1) or 1), int(m.group(2) or 1)
        elif line.startswith("+++ "):
            path = line[4:].strip().removeprefix("b/")
        out.append(line if line.startswith("@@") else redact(line)[0])
    out += _redact_lines(prefixes, body, path)
    return "".join(out)
