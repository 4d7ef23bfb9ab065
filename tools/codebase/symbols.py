"""Symbols each file defines and refers to, and a PageRank over the references between files.

Definitions come from declaration patterns, not a full parse: on sqlalchemy (8.7 MB of Python)
tree-sitter takes about six times as long to parse as these patterns take to scan, and the
ranking must see every file while the outline parses only the files it shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from gemloom.tools.codebase.grammars import language_of, suffix

_PY_DEFS = (re.compile(r"def [ \t]*([A-Za-z_]\w*)"), re.compile(r"class [ \t]*([A-Za-z_]\w*)"))
# Other languages' declarations, each keyword at a word boundary: checked by `_declared`, as a
# leading boundary in the pattern keeps `re` from skipping ahead to the keywords' first letters.
_OTHER_DEFS = re.compile(
    r"(?:function\*?|class|interface|struct|enum|trait|type|func|fn|def|module|impl)\s+"
    r"(?:\([^)]*\)\s*)?([A-Za-z_]\w*)"
)
# Prose and markup declare no code names: their "class" and "type" are words (or HTML
# attributes), and scanning them (sqlalchemy's sdist holds 45 MB of built HTML docs) was most
# of a budgeted pack's time.
PROSE = frozenset(
    {".rst", ".md", ".markdown", ".txt", ".html", ".htm", ".xml", ".svg", ".css", ".json",
     ".csv", ".ini", ".cfg", ".toml", ".yaml", ".yml", ".lock", ".map"}
)  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
MAX_DEFINERS = 12  # a name defined in more files than this says little about any of them
DAMPING = 0.85
ITERATIONS = 30


@dataclass(frozen=True)
class Symbols:
    """Names a file declares and identifiers it uses."""

    defines: frozenset[str]
    refers: frozenset[str]


def symbols(path: str, text: str, refers: bool = True) -> Symbols:
    """The names `text` declares and (if `refers`) the identifiers it mentions."""
    return Symbols(declared(path, text), refers_to(text) if refers else frozenset())


def refers_to(text: str) -> frozenset[str]:
    """The identifiers `text` mentions (three characters or more)."""
    return frozenset(_IDENTIFIER.findall(text))


def declared(path: str, text: str) -> frozenset[str]:
    """The names `text` declares (Python by literal scans for `def` and `class`: fast; none
    in prose and markup)."""
    language = language_of(path)
    if language is None and suffix(path).lower() in PROSE:
        return frozenset()
    if language != "python":
        return _declared(text)
    names = set()
    for pattern in _PY_DEFS:  # each starts with a literal, which re finds fast
        for found in pattern.finditer(text):
            at = found.start()
            if text[text.rfind("\n", 0, at) + 1 : at].strip() in ("", "async"):
                names.add(found.group(1))
    return frozenset(names)


def _declared(text: str) -> frozenset[str]:
    """The names `_OTHER_DEFS` finds with a word boundary before each keyword (what findall
    of the pattern behind one finds), three times as fast: a match that starts inside a word
    is passed over and the search goes on from its next character, as the boundary makes it
    (a word character of `re` is str.isalnum() or an underscore)."""
    names, at, search = set(), 0, _OTHER_DEFS.search
    while (found := search(text, at)) is not None:
        start = found.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            at = start + 1
            continue
        names.add(found.group(1))
        at = found.end()
    return frozenset(names)


def definers(index: dict[str, Symbols]) -> dict[str, list[str]]:
    """For each defined name, the files that define it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path, sym in index.items():
        for name in sym.defines:
            found[name].append(path)
    return found


def _edge_weight(name: str, count: int, mentioned: set[str]) -> float:
    weight = 1.0 / count
    if name.startswith("_"):
        weight *= 0.1  # private helpers tie files loosely
    return weight * 10 if name in mentioned else weight


def pagerank(
    index: dict[str, Symbols],
    personal: dict[str, float],
    mentioned: set[str],
    defined: dict[str, list[str]] | None = None,
) -> dict[str, float]:
    """A personalized PageRank over 'file A uses a name file B defines', summing to 1."""
    paths = list(index)
    position = {p: i for i, p in enumerate(paths)}
    defined = definers(index) if defined is None else defined
    where = {n: f for n, f in defined.items() if len(f) <= MAX_DEFINERS}
    sources, targets, weights = [], [], []
    for path, sym in index.items():
        for name in sym.refers & where.keys():
            for target in where[name]:
                if target != path:
                    sources.append(position[path])
                    targets.append(position[target])
                    weights.append(_edge_weight(name, len(where[name]), mentioned))
    ranks = _iterate(len(paths), sources, targets, weights, personal, position)
    return dict(zip(paths, ranks, strict=True))


def _iterate(
    size: int, sources: list[int], targets: list[int], weights: list[float],
    personal: dict[str, float], position: dict[str, int],
) -> list[float]:  # fmt: skip
    if not size:
        return []
    src, dst, w = np.array(sources, int), np.array(targets, int), np.array(weights, float)
    out = np.bincount(src, weights=w, minlength=size)  # (bincount: add.at's sums, faster)
    share = w / out[src] if len(w) else w
    bias = np.zeros(size)
    for path, value in personal.items():
        bias[position[path]] = value
    bias = bias / bias.sum() if bias.sum() > 0 else np.full(size, 1.0 / size)
    rank = np.full(size, 1.0 / size)
    dangling = out == 0
    for _ in range(ITERATIONS):
        flow = np.bincount(dst, weights=rank[src] * share, minlength=size)
        rank = DAMPING * (flow + rank[dangling].sum() * bias) + (1 - DAMPING) * bias
    return rank.tolist()
