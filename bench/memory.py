"""Memory store speed: recall at 100,000 records beside brute-force numpy, and embedder speed.

Run: .venv/bin/python bench/memory.py [--records 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import MemoryStore

KINDS = list(Kind)


def unit(rows: int, rng: np.random.Generator) -> np.ndarray:
    """Random unit vectors of 384 dimensions."""
    vectors = rng.standard_normal((rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def percentiles(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p95 {np.percentile(ms, 95):7.2f} ms"


def timed(fn, queries: np.ndarray) -> list[float]:
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - start)
    return times


def brute(matrix: np.ndarray, mask: np.ndarray | None, k: int):
    """Exact cosine top-k by numpy over the same unit vectors."""

    def search(q: np.ndarray) -> np.ndarray:
        scores = matrix @ q
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        top = np.argpartition(-scores, k)[:k]
        return top[np.argsort(-scores[top])]

    return search


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--texts", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    vectors = unit(args.records, rng)
    kinds = rng.integers(0, len(KINDS), args.records)
    records = [Record(text=f"memory {i}", kind=KINDS[kinds[i]]) for i in range(args.records)]
    embedder = OfflineEmbedder()
    texts = [
        f"Note {i}: the team agreed to review pull request {i} before lunch."
        for i in range(args.texts)
    ]
    embedder(texts[:32])  # measured before Chroma's threads start
    start = time.perf_counter()
    embedder(texts)
    rate = len(texts) / (time.perf_counter() - start)
    print(f"offline embedder (numpy all-MiniLM-L6-v2): {rate:.0f} texts/s (goal >= 100)")
    with (
        tempfile.TemporaryDirectory() as folder,
        MemoryStore.open(Path(folder), embedder=embedder) as store,
    ):
        start = time.perf_counter()
        store.put(records, vectors)
        took = time.perf_counter() - start
        print(f"add {args.records:,} records (precomputed vectors): {took:.1f} s")
        queries = unit(args.queries, rng)
        k = 5
        for label, kind in (("no filter", None), ("kind filter", Kind.DECISION)):
            mask = None if kind is None else kinds == KINDS.index(kind)
            chroma = timed(lambda q, kind=kind: store.recall_vector(q, k, kind), queries)
            numpy = timed(brute(vectors, mask, k), queries)
            print(
                f"recall k={k}, {label:11}  chroma: {percentiles(chroma)}   "
                f"numpy brute force: {percentiles(numpy)}"
            )
        recall_at_k(store, vectors, queries, k)


def recall_at_k(store: MemoryStore, vectors: np.ndarray, queries: np.ndarray, k: int) -> None:
    """How many of the exact top-k the approximate index returns."""
    exact = brute(vectors, None, k)
    found = 0
    for q in queries[:50]:
        truth = {f"memory {i}" for i in exact(q)}
        found += len(truth & {h.record.text for h in store.recall_vector(q, k)})
    print(f"HNSW recall@{k} against brute force: {found / (50 * k):.3f}")


if __name__ == "__main__":
    main()
