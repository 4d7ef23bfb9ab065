"""Recall: the nearest memories to a query, with filters by kind, time and namespace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from gemloom.memory.chroma import _chroma, _holding, _where
from gemloom.memory.errors import BadMemoryInput
from gemloom.memory.exact import ExactIndex
from gemloom.memory.records import Hit, Kind, Record, _kind

OVERFETCH = 10  # a server store's filtered recall first looks at k * OVERFETCH neighbours


class SearchMixin:
    """MemoryStore's recall methods (over its live collection)."""

    collection: Any
    exact: ExactIndex | None
    _seen: int
    _generation: int
    _embed: Callable[[list[str]], np.ndarray]  # MemoryStore's

    @_holding(write=False)
    def recall(
        self,
        query: str,
        k: int = 5,
        *,
        kind: Kind | str | None = None,
        since: datetime | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The k memories closest in meaning to the query, nearest first."""
        if not (query or "").strip():
            raise BadMemoryInput("Cannot recall with an empty query: say what to look for.")
        if k < 1:
            raise BadMemoryInput(f"k must be at least 1, not {k}.")
        return self._search(self._embed([query]), k, kind, since, namespaces)

    @_holding(write=False)
    def recall_vector(
        self, vector: np.ndarray, k: int = 5, kind: Kind | str | None = None
    ) -> list[Hit]:
        """The k live memories nearest to an embedding already computed (benchmarks, tools)."""
        return self._search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k, kind)

    def _search(
        self,
        vector: np.ndarray,
        k: int,
        kind: Kind | str | None = None,
        since: datetime | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The side index's search in an embedded store; on a server, HNSW over-fetched."""
        kind = _kind(kind) if kind else None
        spaces = list(namespaces or [])
        after = since.timestamp() if since else None
        if self.exact is not None:
            self.exact.fresh(self._generation, self.collection)
            return self._fetch(
                self.exact.nearest(vector, k, kind.value if kind else None, spaces, after)
            )
        if not (kind or since or spaces):
            return self._query(vector, k, None)

        def keep(meta: dict[str, Any]) -> bool:  # raw metadata: no record parsed to reject it
            return (
                (kind is None or meta["kind"] == kind.value)
                and (after is None or meta["created_ts"] >= after)
                and (not spaces or meta["namespace"] in spaces)
            )

        wide = self._query(vector, k * OVERFETCH, None, keep)
        if len(wide) >= k or self._seen < k * OVERFETCH:
            return wide[:k]
        where = _where(
            kind=kind.value if kind else None,
            created_ts={"$gte": after} if after is not None else None,
            namespace={"$in": spaces} if spaces else None,
        )
        return self._query(vector, k, where)

    def _fetch(self, nearest: list[tuple[str, float]]) -> list[Hit]:
        """The records of the exact search's ids, in its order."""
        if not nearest:
            return []
        stored = self.exact.records([i for i, _ in nearest]) if self.exact else None
        if stored is not None:  # straight from the side index: no round trip to Chroma
            return [
                Hit(record=Record.model_validate_json(raw), distance=distance)
                for raw, (_, distance) in zip(stored, nearest, strict=True)
            ]
        with _chroma("read the memories found"):
            got = self.collection.get(
                ids=[i for i, _ in nearest], include=["documents", "metadatas"]
            )
        found = dict(
            zip(got["ids"], zip(got["documents"], got["metadatas"], strict=True), strict=True)
        )
        return [
            Hit(record=Record.from_chroma(*found[i]), distance=distance)
            for i, distance in nearest
            if i in found
        ]

    def _query(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[Hit]:
        with _chroma("search"):
            found = self.collection.query(
                query_embeddings=vector, n_results=k, where=where,
                include=["documents", "metadatas", "distances"],
            )  # fmt: skip
        rows = zip(found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)
        self._seen = len(found["ids"][0])
        return [
            Hit(record=Record.from_chroma(doc, meta), distance=float(dist))
            for doc, meta, dist in rows
            if keep is None or keep(meta)
        ]
