"""Writing memories: add with de-duplication, put whole records, forget, delete a namespace."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from gemloom.memory.chroma import PAGE, PUT_BATCH, _all, _chroma, _holding, _where
from gemloom.memory.exact import ExactIndex
from gemloom.memory.records import Hit, Kind, Record, Source, _kind, check_text, now, split_text
from gemloom.secrets import redact

NEAR_DUPLICATE = 0.06  # cosine distance under which a new text updates the old record


@dataclass
class Added:
    """What add() did with one piece of text: 'added', 'duplicate' or 'updated'."""

    record: Record
    action: str


class WriteMixin:
    """MemoryStore's writing methods (over its live and forgotten collections)."""

    collection: Any
    forgotten: Any
    near_duplicate: float
    exact: ExactIndex | None
    # MemoryStore's own and SearchMixin's methods, which these call
    _embed: Callable[[list[str]], np.ndarray]
    _search: Callable[..., list[Hit]]
    get: Callable[[str], Record]

    @_holding(write=True)
    def add(
        self,
        text: str,
        kind: Kind | str = Kind.NOTE,
        *,
        tags: Sequence[str] = (),
        source: Source | None = None,
        namespace: str = "default",
        created: datetime | None = None,
    ) -> list[Added]:
        """Store a text (split into parts when long); duplicates are skipped or updated."""
        text = redact(text, (source.path or "") if source else "")[0]  # no secret is stored
        pieces = split_text(check_text(text))
        kind = _kind(kind)
        group = uuid.uuid4().hex if len(pieces) > 1 else None
        results = []
        for i, piece in enumerate(pieces, 1):
            record = Record(
                text=piece, kind=kind, namespace=namespace or "default", tags=list(tags),
                source=source or Source(), group=group, created=created or now(),
                part=f"{i}/{len(pieces)}" if group else None,
            )  # fmt: skip
            results.append(self._add_one(record, near=group is None))
        return results

    def _add_one(self, record: Record, near: bool) -> Added:
        same = list(_all(self.collection, _where(hash=record.hash, namespace=record.namespace)))
        if same:
            return Added(same[0], "duplicate")
        vector = self._embed([record.text])
        if near and (old := self._nearest(vector, record)) is not None:
            old.text, old.hash, old.source = record.text, record.hash, record.source
            old.tags = sorted({*old.tags, *record.tags})
            old.updated = record.created
            self._put([old], vector)
            return Added(old, "updated")
        self._put([record], vector)
        return Added(record, "added")

    def _nearest(self, vector: np.ndarray, record: Record) -> Record | None:
        hits = self._search(vector, 1, kind=record.kind, namespaces=[record.namespace])
        if hits and hits[0].distance < self.near_duplicate:
            return hits[0].record
        return None

    def _put(self, records: list[Record], vectors: np.ndarray | None = None) -> None:
        if vectors is None:
            vectors = self._embed([r.text for r in records])
        for deleted, target in ((False, self.collection), (True, self.forgotten)):
            chosen = [i for i, r in enumerate(records) if r.deleted == deleted]
            if not chosen:
                continue
            ids = [records[i].id for i in chosen]
            metas = [records[i].metadata() for i in chosen]
            with _chroma("store the memory"):
                target.upsert(ids=ids, metadatas=metas, embeddings=np.asarray(vectors)[chosen])
            if self.exact and not deleted:
                self.exact.add(ids, np.asarray(vectors)[chosen], metas)

    @_holding(write=True)
    def put(self, records: Iterable[Record], vectors: np.ndarray | None = None) -> int:
        """Store whole records as they are (ids, times, provenance kept), with given vectors."""
        count = 0
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= PUT_BATCH:
                self._put(batch, None if vectors is None else vectors[count : count + len(batch)])
                count, batch = count + len(batch), []
        if batch:
            self._put(batch, None if vectors is None else vectors[count:])
        return count + len(batch)

    @_holding(write=True)
    def forget(self, memory_id: str) -> Record:
        """Soft-delete a memory: recall skips it, show and export still have it."""
        record = self.get(memory_id)
        if not record.deleted:
            with _chroma("forget the memory"):
                got = self.collection.get(ids=[record.id], include=["embeddings"])
                record.deleted = True
                self._put([record], np.asarray(got["embeddings"]))
                self.collection.delete(ids=[record.id])
            if self.exact:
                self.exact.drop([record.id])
        return record

    @_holding(write=True)
    def delete_namespace(self, namespace: str) -> int:
        """Remove every memory of a namespace for good; returns how many went."""
        gone = 0
        for target in (self.collection, self.forgotten):
            ids = [r.id for r in _all(target, {"namespace": namespace})]
            for start in range(0, len(ids), PAGE):
                with _chroma("delete the namespace"):
                    target.delete(ids=ids[start : start + PAGE])
                if self.exact and target is self.collection:
                    self.exact.drop(ids[start : start + PAGE])
            gone += len(ids)
        return gone
