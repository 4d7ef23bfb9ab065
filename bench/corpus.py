"""Real English sentences made offline from the Python standard library's docstrings."""

from __future__ import annotations

import ast
import hashlib
import re
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _roots() -> list[Path]:
    """The standard library first, then the installed packages: source read, never imported."""
    paths = sysconfig.get_paths()
    return [Path(paths["stdlib"]), Path(paths["purelib"])]


def _docstrings() -> Iterator[str]:
    """Every module, class and function docstring under the roots, by parsing, in path order."""
    for root in _roots():
        for path in sorted(root.rglob("*.py")):
            try:
                tree = ast.parse(path.read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, _DOCUMENTED) and (doc := ast.get_docstring(node)):
                    yield doc


def sentences(limit: int) -> list[str]:
    """`limit` distinct sentences of 5-60 words in a stable order, cached in the temp dir."""
    cache = Path(tempfile.gettempdir()) / f"gemloom-bench-sentences-{limit}.txt"
    if cache.exists():
        return cache.read_text().split("\n")
    texts = _collect(limit)
    cache.write_text("\n".join(texts))
    return texts


def _collect(limit: int) -> list[str]:
    """Distinct docstring sentences, shuffled by hash so neighbours are unrelated."""
    seen: dict[str, None] = {}
    for doc in _docstrings():
        if len(seen) >= limit + limit // 10:
            break
        for part in _SENTENCE.split(" ".join(doc.split())):
            words = part.split()
            if 5 <= len(words) <= 60 and part[0].isupper():
                seen.setdefault(part, None)
    unique = sorted(seen, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    if len(unique) >= limit:
        return unique[:limit]
    # Fewer distinct sentences than asked: join neighbours into new two-sentence texts.
    extra = [f"{a} {b}" for a, b in zip(unique, unique[1:] + unique[:1], strict=True)]
    extra += [f"{a} {b}" for a, b in zip(unique, unique[7:] + unique[:7], strict=True)]
    extra += [f"{a} {b}" for a, b in zip(unique, unique[31:] + unique[:31], strict=True)]
    return (unique + extra)[:limit]


def embedded(limit: int, embed: Callable[[list[str]], np.ndarray], tag: str) -> np.ndarray:
    """Vectors of sentences(limit) by `embed`, cached in the temp dir under the embedder's tag."""
    cache = Path(tempfile.gettempdir()) / f"gemloom-bench-vectors-{tag}-{limit}.npy"
    if cache.exists():
        return np.load(cache)
    texts = sentences(limit)
    vectors = np.concatenate(
        [np.asarray(embed(texts[i : i + 2048]), dtype=np.float32) for i in range(0, limit, 2048)]
    )
    np.save(cache, vectors)
    return vectors


if __name__ == "__main__":
    got = sentences(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(len(got), "sentences, for example:")
    for s in got[:5]:
        print(" -", s)
