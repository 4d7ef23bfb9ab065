"""Memory store speed on real-sentence embeddings: add and recall beside their floors, one run.

The records are sentences of the Python docstrings on this machine (bench/corpus.py), embedded
once by the offline embedder and cached in the temp dir. Floors: for adding, the same rows
written to a plain SQLite table; for recall, exact numpy search over the same matrix, whose
top 5 is also the truth that the store's answers are scored against.

Run: .venv/bin/python bench/memory.py [--records 100000] [--queries 200] [--ef 25,50,100,200]
     [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from corpus import embedded, sentences

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import HNSW, MemoryStore

K = 5
SHARES = {  # a store where some kinds are rare, as notes outnumber review findings
    Kind.NOTE: 0.40, Kind.FACT: 0.25, Kind.MEETING: 0.15, Kind.DECISION: 0.10,
    Kind.ACTION_ITEM: 0.07, Kind.REVIEW_FINDING: 0.03,
}  # fmt: skip


def p50(samples: list[float]) -> float:
    """The median in milliseconds."""
    return float(np.percentile(np.asarray(samples) * 1000, 50))


def exact(matrix: np.ndarray, mask: np.ndarray | None):
    """Exact cosine top-k in numpy over the matching rows gathered beforehand: floor and truth."""
    rows = np.arange(len(matrix)) if mask is None else np.flatnonzero(mask)
    subset = np.ascontiguousarray(matrix[rows])

    def search(q: np.ndarray) -> np.ndarray:
        scores = np.einsum("ij,j->i", subset, q)  # one thread: BLAS threads lose on a busy box
        top = np.argpartition(-scores, K)[:K]
        return rows[top[np.argsort(-scores[top])]]

    return search


def sqlite_floor(records: list[Record], vectors: np.ndarray, folder: Path) -> float:
    """Seconds to write the same ids, texts, metadata and vectors to one SQLite table."""
    start = time.perf_counter()
    db = sqlite3.connect(folder / "floor.db")
    db.execute("create table r (id text primary key, text text, meta text, vec blob)")
    rows = (
        (r.id, r.text, json.dumps(r.metadata()), v.tobytes())
        for r, v in zip(records, vectors, strict=True)
    )
    db.executemany("insert into r values (?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return time.perf_counter() - start


def add(store: MemoryStore, records: list[Record], vectors: np.ndarray, floor: float) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    store.put(records, vectors)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"add {len(records):,} records with vectors: {wall:6.1f} s (cpu {cpu:.1f} s)   "
        f"floor (plain SQLite insert): {floor:5.2f} s   ratio {wall / floor:5.1f}x   goal < 60 s"
    )


def recall(store, vectors, queries, ids, kinds, ef: int | str) -> None:
    """p50 and top-5 agreement with exact search, with no filter and with kind filters."""
    for label, kind in (("no filter", None), ("kind 40%", Kind.NOTE), ("kind 10%", Kind.DECISION),
                        ("kind 3%", Kind.REVIEW_FINDING)):  # fmt: skip
        truth = exact(vectors, None if kind is None else kinds == kind.value)
        floor, took, agree = [], [], 0
        for q in queries:
            start = time.perf_counter()
            right = truth(q)
            floor.append(time.perf_counter() - start)
            start = time.perf_counter()
            hits = store.recall_vector(q, K, kind)
            took.append(time.perf_counter() - start)
            agree += len({ids[i] for i in right} & {h.record.id for h in hits})
        print(
            f"  ef {ef!s:>4}  {label:9}  store p50 {p50(took):6.2f} ms   "
            f"floor (exact numpy) p50 {p50(floor):6.2f} ms   ratio {p50(took) / p50(floor):4.2f}   "
            f"top-{K} agreement {agree / (len(queries) * K):.3f}   goal p50 < 5 ms, >= 0.95"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", default="", help="also sweep these ef_search values, e.g. 25,50")
    parser.add_argument("--store", type=Path, help="keep the store here; a second run only recalls")
    args = parser.parse_args()
    total = args.records + args.queries
    all_vectors = embedded(total, OfflineEmbedder(), "minilm-int8")
    texts = sentences(total)
    vectors, queries = all_vectors[: args.records], all_vectors[args.records :]
    kinds = np.random.default_rng(7).choice(
        [k.value for k in SHARES], size=args.records, p=list(SHARES.values())
    )
    records = [Record(id=f"{i:032x}", text=t, kind=Kind(k))
               for i, (t, k) in enumerate(zip(texts, kinds, strict=False))]  # fmt: skip
    ids = [r.id for r in records]
    print(f"{args.records:,} docstring sentences, {args.queries} held-out sentences as queries")
    with tempfile.TemporaryDirectory() as folder:
        where = args.store or Path(folder) / "memory"
        with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:
            if store.count() != args.records:
                add(store, records, vectors, sqlite_floor(records, vectors, Path(folder)))
            else:
                print(f"add: skipped, {where} holds the records already")
        print(f"recall k={K}; the store's ef_search is {HNSW['hnsw:search_ef']}")
        for ef in [HNSW["hnsw:search_ef"], *[int(e) for e in args.ef.split(",") if e.strip()]]:
            with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:
                store.collection.modify(configuration={"hnsw": {"ef_search": ef}})
            with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:  # ef now in force
                recall(store, vectors, queries, ids, kinds, ef)


if __name__ == "__main__":
    main()
