"""Relevance of files to a question, in the spirit of Aider's repository map.

A file scores by its path and words matching the question, the symbols it declares, recency and
entry points; a PageRank over which file uses the names another defines (biased towards those
scores) adds the files the matches depend on; files the question names, and files defining the
identifiers it names, come first.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from gemloom.tools.codebase.grammars import file_name
from gemloom.tools.codebase.grammars import stem as file_stem
from gemloom.tools.codebase.symbols import Symbols, declared, definers, pagerank, refers_to

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
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FIRST = 100.0  # what a file the question names gets: more than any other signal
BM25_WEIGHT = 2.0  # the question's words in a file's text
GRAPH_WEIGHT = 2.0  # a file of average PageRank gains this much
GRAPH_SOURCES = 25  # the best files by words and paths, whose references the graph follows
NAMED_DEFINERS = 3  # an identifier defined in at most this many files puts them first
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


def score(path: str, names: str, counts: dict[str, int], recent: dict[str, int]) -> float:
    """How relevant one file looks by its path, declarations and recency; higher is more.

    `names` holds the names the file declares, lower-cased, one a line.
    """
    name = file_name(path)
    stem, lowered_path = file_stem(path).lower(), path.lower()
    value = 1.0 / (1 + path.count("/"))  # shallow files first
    if stem in ENTRY_POINTS or name.lower() in MANIFESTS:
        value += 3
    if path in recent:
        value += 3 * (1 - recent[path] / (len(recent) + 1))
    if "test" in lowered_path:
        value -= 0.5
    for word, count in counts.items():
        if word == stem:
            value += 10
        elif word in lowered_path:
            value += 5
        if count and word in names:  # a declared name holds the word
            value += 4
    return value


def bm25(counts: dict[str, dict[str, int]], lengths: dict[str, int]) -> dict[str, float]:
    """BM25 (k1 1.5, b 0.75) of each file for the question's words, counted as substrings."""
    total, average = len(counts), sum(lengths.values()) / max(len(lengths), 1) or 1.0
    frequency: dict[str, int] = {}
    for found in counts.values():
        for word, count in found.items():
            frequency[word] = frequency.get(word, 0) + (count > 0)
    result = {}
    for path, found in counts.items():
        norm = 1.5 * (0.25 + 0.75 * lengths[path] / average)
        result[path] = sum(
            math.log(1 + (total - frequency[w] + 0.5) / (frequency[w] + 0.5)) * c * 2.5 / (c + norm)
            for w, c in found.items() if c
        )  # fmt: skip
    return result


def named(question: str) -> set[str]:
    """Identifiers in the question as written: `snake_case`, `CamelCase`, `dotted.names`."""
    found = set()
    for token in _IDENT.findall(question):
        inner_capital = any(c.isupper() for c in token[1:])
        if (len(token) > 2 and "_" in token) or inner_capital:
            found.add(token)
    return found


def _first(files: dict[str, str], where: dict[str, list[str]], question: str) -> set[str]:
    """Files the question names by path or stem, and files defining the identifiers it names."""
    idents = named(question)
    lowered = question.lower()
    chosen = {p for p in files if p.lower() in lowered or file_stem(p) in idents}
    for name in idents | {w for w in _WORD.findall(question) if len(w) >= 5}:
        found = where.get(name, [])
        if 0 < len(found) <= NAMED_DEFINERS and (name in idents or len(found) == 1):
            chosen.update(found)
    return chosen


def rank(
    files: dict[str, str], question: str, recent: list[str], data: dict[str, bytes] | None = None
) -> list[str]:
    """Paths from most to least relevant (ties: smaller files first, then by path); `data`,
    if the caller has it, holds each file's text as UTF-8 (not encoded again to count words)."""
    words = terms(question)
    order = {path: i for i, path in enumerate(recent)}
    defines = {p: declared(p, t) for p, t in files.items()}
    encoded = [w.encode() for w in words]
    counts = {
        p: dict(zip(words, map(t.count, encoded), strict=True)) for p, t in _lowered(files, data)
    }
    scores = {p: score(p, "\n".join(defines[p]).lower(), counts[p], order) for p in files}
    relevance = bm25(counts, {p: len(t) for p, t in files.items()})
    for path in files:
        scores[path] += BM25_WEIGHT * relevance[path]
    sources = set(sorted(files, key=lambda p: -scores[p])[:GRAPH_SOURCES])
    index = {
        p: Symbols(defines[p], refers_to(t) if p in sources else frozenset())
        for p, t in files.items()
    }
    where = definers(index)
    mentioned = named(question) | set(_WORD.findall(question))
    personal = {p: max(scores[p], 0.0) ** 2 for p in sources}
    graph = pagerank(index, personal, mentioned, where)
    first = _first(files, where, question)
    for path in files:
        scores[path] += GRAPH_WEIGHT * graph.get(path, 0.0) * len(files)
        scores[path] += FIRST if path in first else 0.0
    return sorted(files, key=lambda p: (-scores[p], len(files[p]), p))


def _lowered(files: dict[str, str], data: dict[str, bytes] | None) -> Iterator[tuple[str, bytes]]:
    """Each file's UTF-8 text with ASCII letters in lower case: the question's terms are ASCII,
    and bytes.lower() takes a quarter of str.lower()'s time."""
    for path, text in files.items():
        if data is not None:
            yield path, data[path].lower()
        else:
            yield path, text.encode("utf-8", "surrogatepass").lower()
