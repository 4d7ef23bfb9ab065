"""Memory store speed on real-sentence embeddings: add and recall beside their floors, one run.

The records are sentences of the Python docstrings on this machine (bench/corpus.py), embedded
once by the offline embedder and cached in the temp dir. Floors: for adding, the same rows
written to a plain SQLite table; for recall, exact numpy search over the same matrix, whose
top 5 is also the truth that the store's answers are scored against. Wall and CPU time are both
printed: on a shared machine the wall time mostly measures the other jobs.

The trade-off: an embedded store answers recall from its side index (memory/exact.py), so its
Chroma HNSW graph is built cheaply (HNSW_SIDE). `--compare` also builds a store with the graph a
Chroma server store gets (HNSW) and shows what answering from HNSW costs and finds, either graph.

Run: .venv/bin/python bench/memory.py [--records 100000] [--queries 200] [--compare]
     [--ef 25,50,200] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from corpus import embedded, sentences

from gemloom.memory import store as store_module
from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import HNSW, HNSW_SIDE, MemoryStore

K = 5
SHARES = {  # a store where some kinds are rare, as notes outnumber review findings
    Kind.NOTE: 0.40, Kind.FACT: 0.25, Kind.MEETING: 0.15, Kind.DECISION: 0.10,
    Kind.ACTION_ITEM: 0.07, Kind.REVIEW_FINDING: 0.03,
}  # fmt: skip
FILTERS = (("no filter", None), ("kind 40%", Kind.NOTE), ("kind 10%", Kind.DECISION),
           ("kind 3%", Kind.REVIEW_FINDING))  # fmt: skip


def p50(samples: list[float]) -> float:
    """The median in milliseconds."""
    return float(np.percentile(np.asarray(samples) * 1000, 50))


@contextmanager
def timed() -> Iterator[list[float]]:
    """Wall and CPU seconds of the block, filled in when it ends."""
    took: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield took
    took += [time.perf_counter() - wall, time.process_time() - cpu]


def graph(hnsw: dict) -> str:
    return f"M {hnsw['hnsw:M']}, construction_ef {hnsw['hnsw:construction_ef']}"


def exact(matrix: np.ndarray, mask: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """Exact cosine top-k in numpy over the matching rows gathered beforehand: floor and truth."""
    rows = np.arange(len(matrix)) if mask is None else np.flatnonzero(mask)
    subset = np.ascontiguousarray(matrix[rows])

    def search(q: np.ndarray) -> np.ndarray:
        scores = np.einsum("ij,j->i", subset, q)  # one thread: BLAS threads lose on a busy box
        top = np.argpartition(-scores, K)[:K]
        return rows[top[np.argsort(-scores[top])]]

    return search


def sqlite_floor(records: list[Record], vectors: np.ndarray, folder: Path) -> list[float]:
    """Wall and CPU seconds to write the same ids, texts, metadata and vectors to one table."""
    with timed() as took:
        db = sqlite3.connect(folder / "floor.db")
        db.execute("create table r (id text primary key, text text, meta text, vec blob)")
        rows = (
            (r.id, r.text, json.dumps(r.metadata()), v.tobytes())
            for r, v in zip(records, vectors, strict=True)
        )
        db.executemany("insert into r values (?, ?, ?, ?)", rows)
        db.commit()
        db.close()
    return took


def add(where: Path, records: list[Record], vectors: np.ndarray, floor: list[float], hnsw: dict):
    """Put the records with their vectors into a new store whose graph has these settings."""
    patched = mock.patch.object(store_module, "HNSW_SIDE", hnsw)
    with patched, MemoryStore.open(where, embedder=OfflineEmbedder()) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        store.put(records, vectors)
        took = [time.perf_counter() - wall, time.process_time() - cpu]
    print(
        f"add {len(records):,} records, graph {graph(hnsw)}: wall {took[0]:6.1f} s, "
        f"cpu {took[1]:5.1f} s   floor (plain SQLite insert): wall {floor[0]:5.2f} s, "
        f"cpu {floor[1]:5.2f} s   ratio wall {took[0] / floor[0]:5.1f}x, "
        f"cpu {took[1] / floor[1]:5.1f}x   goal < 60 s"
    )


def recall(store: MemoryStore, vectors, queries, ids, kinds, label: str) -> None:
    """p50 (wall and CPU) and top-5 agreement with exact search, with and without kind filters."""
    for name, kind in FILTERS:
        truth = exact(vectors, None if kind is None else kinds == kind.value)
        floor, took, cpu, agree = [], [], [], 0
        for q in queries:
            with timed() as right_took:
                right = truth(q)
            with timed() as store_took:
                hits = store.recall_vector(q, K, kind)
            floor.append(right_took[0])
            took.append(store_took[0])
            cpu.append(store_took[1])
            agree += len({ids[i] for i in right} & {h.record.id for h in hits})
        print(
            f"  {label:22} {name:9}  p50 {p50(took):6.2f} ms (cpu {p50(cpu):6.2f})   "
            f"floor (exact numpy) {p50(floor):6.2f} ms   ratio {p50(took) / p50(floor):5.2f}   "
            f"top-{K} agreement {agree / (len(queries) * K):.3f}   goal < 5 ms, >= 0.95"
        )


def from_hnsw(where: Path, ef: int, vectors, queries, ids, kinds, name: str) -> None:
    """Recall as a Chroma server store answers it: HNSW at this ef_search, over-fetched."""
    with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:
        store.collection.modify(configuration={"hnsw": {"ef_search": ef}})
    with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:  # ef now in force
        store.exact = None  # the path a server store takes: no side files
        recall(store, vectors, queries, ids, kinds, f"HNSW {name} ef {ef}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--compare", action="store_true", help="also build the server's graph")
    parser.add_argument("--ef", default="", help="HNSW recall also at these ef_search values")
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
    data = (vectors, queries, ids, kinds)
    print(f"{args.records:,} docstring sentences, {args.queries} held-out sentences as queries; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        where = args.store or Path(folder) / "memory"
        floor = sqlite_floor(records, vectors, Path(folder))
        stores = [(where, HNSW_SIDE, "side")]
        if args.compare:
            stores.append((Path(folder) / "server-graph", HNSW, "server"))
        for path, hnsw, _ in stores:
            if not path.exists():  # opening creates the collections, with the graph settings
                add(path, records, vectors, floor, hnsw)
            else:
                print(f"add: skipped, {path} exists")
        print(f"recall k={K}")
        with MemoryStore.open(where, embedder=OfflineEmbedder()) as store, timed() as first:
            store.recall_vector(queries[0], K)
        print(f"  first recall after opening (reads the side files, fits the first pass): "
              f"wall {first[0] * 1000:.0f} ms, cpu {first[1] * 1000:.0f} ms")  # fmt: skip
        with MemoryStore.open(where, embedder=OfflineEmbedder()) as store:
            store.recall_vector(queries[0], K)
            recall(store, *data, "side index")
        efs = [HNSW["hnsw:search_ef"], *[int(e) for e in args.ef.split(",") if e.strip()]]
        for path, hnsw, name in stores:
            for ef in efs:
                from_hnsw(
                    path, ef, *data, f"{name} {hnsw['hnsw:M']}/{hnsw['hnsw:construction_ef']}"
                )


if __name__ == "__main__":
    main()
