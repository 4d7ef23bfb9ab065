"""A first pass for exact recall over many rows: PCA-shrunk vectors, then an exact re-rank.

One query against 100k unit vectors of 384 floats reads 150 MB: 10-35 ms on two busy cores,
bound by memory, not arithmetic. Sentence embeddings keep most of their variance in a few
directions (MiniLM: 72% in 96 of 384), so scoring every row on its first dims // 4 principal
components (a quarter of the bytes) and re-ranking the best CANDIDATES rows on their full
vectors finds 0.988-0.994 of the exact top 5 on real sentences at 100k (bench/memory.py), at
0.16-0.5 of the full scan's time in the same run. The basis is fitted on the
store's own vectors and kept only in memory: it is derived from the stamped side files, so it
shares their crash guarantees. When it is fitted it is tried on a few stored rows; vectors
without such a structure (random ones: the first pass finds under AGREEMENT of the exact top 5)
are all scored on their full vectors instead.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

CANDIDATES = 200  # rows re-ranked on their full vectors
PROBES = 16  # stored rows whose neighbours test the first pass when it is fitted
AGREEMENT = 0.95  # a first pass that finds less of the probes' exact top 5 is not used
SAMPLE = 5_000  # rows the basis is fitted on (a 384 x 384 covariance needs no more)
MIN_DIMS = 64


class Projection:
    """The top principal directions of a set of unit vectors, and rows scored along them."""

    def __init__(self, vectors: np.ndarray):
        # BLAS's threads wait on each other on a busy machine: 15 s instead of 3 s at 100k
        with threadpool_limits(1, user_api="blas"):
            self._fit(vectors)

    def _fit(self, vectors: np.ndarray) -> None:
        probes = np.linspace(0, len(vectors) - 1, PROBES).astype(int)
        fitted = np.ones(len(vectors), dtype=bool)
        fitted[probes] = False  # probes stand for queries: the basis must not have seen them
        chosen = np.flatnonzero(fitted)
        sample = np.asarray(vectors[chosen[:: max(1, len(chosen) // SAMPLE)]], dtype=np.float64)
        _, directions = np.linalg.eigh(np.cov(sample, rowvar=False))  # np.cov centres
        dims = min(vectors.shape[1], max(MIN_DIMS, vectors.shape[1] // 4))
        self.basis = np.ascontiguousarray(directions[:, ::-1][:, :dims], dtype=np.float32)
        self.fitted_on = len(vectors)
        self._rows = np.zeros((0, dims), dtype=np.float32)
        self.count = 0  # rows projected so far
        self.extend(vectors)
        self.agreement = self._probe(vectors, probes)

    def _probe(self, vectors: np.ndarray, probes: np.ndarray, k: int = 5) -> float:
        """The share of some stored rows' exact top k (themselves left out) among the candidates."""
        queries = np.asarray(vectors[probes], dtype=np.float32)
        exact = np.asarray(vectors @ queries.T)  # one pass over the rows for every probe
        found = 0
        for column, at in enumerate(probes):
            exact[at, column] = -np.inf
            usable = np.ones(self.count, dtype=bool)
            usable[at] = False
            picked = self.candidates(queries[column], self.rows, usable)
            truth = np.argpartition(-exact[:, column], k)[:k]
            found += len(set(truth.tolist()) & set(picked.tolist()))
        return found / (PROBES * k)

    @property
    def rows(self) -> np.ndarray:
        """Every projected row so far, in row order."""
        return self._rows[: self.count]

    def extend(self, vectors: np.ndarray) -> None:
        """Project the rows appended since the last call (vectors holds every row)."""
        new = np.asarray(vectors[self.count :], dtype=np.float32)
        if not len(new):
            return
        with threadpool_limits(1, user_api="blas") if len(new) > 1000 else nullcontext():
            self._append(new)

    def _append(self, new: np.ndarray) -> None:
        if self.count + len(new) > len(self._rows):  # grow by doubling: appends stay cheap
            grown = np.empty((max(2 * len(self._rows), self.count + len(new)), self.basis.shape[1]),
                             dtype=np.float32)  # fmt: skip
            grown[: self.count] = self.rows
            self._rows = grown
        # uncentred: the mean would move every row's score alike
        self._rows[self.count : self.count + len(new)] = new @ self.basis
        self.count += len(new)

    def candidates(
        self, query: np.ndarray, reduced: np.ndarray, usable: np.ndarray | None
    ) -> np.ndarray:
        """Positions in `reduced` (some rows' projections) of the best rows by the first pass.

        `usable` masks out rows that fail a filter applied after the subset was chosen.
        """
        scores = np.einsum("ij,j->i", reduced, query @ self.basis)  # one thread: see exact.py
        if usable is not None:
            scores[~usable] = -np.inf
        pool = min(CANDIDATES, len(scores) if usable is None else int(usable.sum()))
        if pool <= 0:
            return np.zeros(0, dtype=np.int64)
        if len(scores) > pool:
            return np.sort(np.argpartition(-scores, pool - 1)[:pool])  # sorted: reads in order
        return np.arange(pool)
