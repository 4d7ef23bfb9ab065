"""Relevance of files to a question: path and name matches, symbols, recency, entry points."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

ENTRY_POINTS = frozenset(
    {"readme", "main", "__main__", "__init__", "cli", "app", "index", "lib", "mod", "server"}
)
MANIFESTS = frozenset({"pyproject.toml", "package.json", "cargo.toml", "go.mod", "setup.py"})
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "what",
        "where",
        "which",
        "how",
        "does",
        "this",
        "that",
        "from",
        "into",
        "are",
        "was",
        "were",
        "has",
        "have",
        "not",
        "all",
        "any",
        "can",
        "could",
        "should",
        "would",
        "why",
        "who",
        "when",
        "code",
        "file",
        "files",
        "function",
        "class",
    ]
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_")


def terms(question: str) -> list[str]:
    """Lower-case search terms of a question, identifiers split into their words too."""
    found: list[str] = []
    for word in _WORD.findall(question):
        for piece in [word, *_SPLIT.split(word)]:
            piece = piece.lower()
            if len(piece) >= 3 and piece not in _STOP and piece not in found:
                found.append(piece)
    return found


def recent_files(root: Path, commits: int = 30) -> list[str]:
    """Files changed in the last commits, most recent first (empty outside git)."""
    git = shutil.which("git")
    if git is None:
        return []
    command = [git, "-C", str(root), "log", f"-n{commits}", "--name-only", "--format=", "--"]
    try:
        done = subprocess.run([*command, "."], capture_output=True, timeout=30, check=False)
        prefix = subprocess.run(
            [git, "-C", str(root), "rev-parse", "--show-prefix"],
            capture_output=True, timeout=30, check=False,
        ).stdout.decode().strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    names = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    return list(dict.fromkeys(n.removeprefix(prefix) for n in names if n.startswith(prefix)))


def score(path: str, text: str, words: Iterable[str], recent: dict[str, int]) -> float:
    """How relevant one file looks; higher is more relevant."""
    pure = PurePosixPath(path)
    stem, lowered_path = pure.stem.lower(), path.lower()
    value = 1.0 / (1 + path.count("/"))  # shallow files first
    if stem in ENTRY_POINTS or pure.name.lower() in MANIFESTS:
        value += 3
    if path in recent:
        value += 3 * (1 - recent[path] / (len(recent) + 1))
    if "test" in lowered_path:
        value -= 0.5
    lowered = text.lower() if text else ""
    for word in words:
        if word == stem:
            value += 10
        elif word in lowered_path:
            value += 5
        if lowered and word in lowered:
            value += min(lowered.count(word), 20) * 0.2
            if _declares(lowered, word):
                value += 4
    return value


_DECLARED = re.compile(r"(?:def|class|function|fn|func|struct|interface|type)\s+\w*$")


def _declares(lowered: str, word: str, tries: int = 50) -> bool:
    """Whether a declaration names `word` (found by literal scans: cheap on big trees)."""
    start = lowered.find(word)
    while start >= 0 and tries:
        line_start = lowered.rfind("\n", 0, start) + 1
        if _DECLARED.search(lowered, line_start, start):
            return True
        start, tries = lowered.find(word, start + 1), tries - 1
    return False


def rank(files: dict[str, str], question: str, recent: list[str]) -> list[str]:
    """Paths from most to least relevant (ties: smaller files first, then by path)."""
    words = terms(question)
    order = {path: i for i, path in enumerate(recent)}
    scores = {p: score(p, t, words, order) for p, t in files.items()}
    return sorted(files, key=lambda p: (-scores[p], len(files[p]), p))
