"""The memory store: the one module that talks to Chroma, embedded or through a server."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from gemloom.errors import GemloomError
from gemloom.memory.embedders import Embedder, default_embedder, embedder_for
from gemloom.memory.errors import (
    BadMemoryInput,
    EmbedderMismatch,
    MemoryStoreError,
    StoreUnavailable,
    UnknownMemory,
)
from gemloom.memory.lock import WriterLock
from gemloom.memory.records import Hit, Kind, Record, Source, check_text, now, split_text
from gemloom.secrets import redact
from gemloom.settings import Settings, load_settings

log = logging.getLogger(__name__)
COLLECTION = "gemloom-memory"
CHROMA_URL_ENV = "GEMLOOM_CHROMA_URL"  # Settings.chroma_url
NEAR_DUPLICATE = 0.06  # cosine distance under which a new text updates the old record
PAGE = 1000
OVERFETCH = 10  # filtered recall first looks at k * OVERFETCH unfiltered neighbours


@dataclass
class Added:
    """What add() did with one piece of text: 'added', 'duplicate' or 'updated'."""

    record: Record
    action: str


@contextlib.contextmanager
def _chroma(action: str) -> Iterator[None]:
    """Turn Chroma's and the transport's errors into one-line MemoryStoreErrors."""
    try:
        yield
    except GemloomError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "readonly" in first or "unable to open database" in first:
            first += "; check that the store directory is writable"
        raise MemoryStoreError(f"The memory store could not {action}: {first}") from None


HNSW = {  # Chroma's defaults found 0.38 of the true top 5 among 20k random vectors; these 0.84
    "hnsw:space": "cosine",
    "hnsw:search_ef": 200,
    "hnsw:construction_ef": 200,
    "hnsw:M": 32,
}


def _client(path: Path | None, url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)  # no network beyond the store itself
    if url:
        parts = urlparse(url if "://" in url else f"http://{url}")
        try:
            return chromadb.HttpClient(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 8000,
                ssl=parts.scheme == "https",
                settings=quiet,
            )
        except Exception:
            raise StoreUnavailable(
                f"Cannot reach the Chroma server at {url}: start it with "
                f"`chroma run --path DIR`, or unset {CHROMA_URL_ENV} to use the local store."
            ) from None
    with _chroma(f"open {path}"):
        return chromadb.PersistentClient(path=str(path), settings=quiet)


def _where(**conditions: Any) -> dict[str, Any] | None:
    clauses = [{k: v} for k, v in conditions.items() if v is not None]
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else None


class MemoryStore:
    """Records with provenance in one Chroma collection, embedded by one recorded embedder."""

    def __init__(
        self,
        client: Any,
        where: str,
        embedder: Embedder,
        lock: WriterLock | None = None,
        name: str = COLLECTION,
    ):
        self.client = client
        self.where = where
        self.name = name
        self.embedder = embedder
        self.near_duplicate = NEAR_DUPLICATE
        self._lock = lock
        self.collection = self._collection(name, embedder)
        # Forgotten records live apart: a "deleted" filter on every query would make
        # each recall a slow filtered search in Chroma.
        self.forgotten = self._collection(f"{name}-forgotten", embedder)

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        url: str | None = None,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        name: str = COLLECTION,
    ) -> MemoryStore:
        """Open the server store at `url`, else the embedded one at `path` (default: data dir)."""
        settings = settings or load_settings()
        url = url if url is not None else settings.chroma_url or None
        path = Path(path) if path else settings.data_dir / "memory"
        lock = None if url else WriterLock(path).acquire()
        try:
            client = _client(path, url)
            embedder = embedder or _embedder_for_store(client, settings, name)
            return cls(client, url or str(path), embedder, lock, name)
        except BaseException:
            if lock:
                lock.release()
            raise

    def close(self) -> None:
        """Release the writer lock; the store object must not be used afterwards."""
        if self._lock:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _collection(self, name: str, embedder: Embedder) -> Any:
        recorded = _recorded_embedder(self.client, name)
        if recorded and recorded != embedder.key:
            raise EmbedderMismatch(self.where, recorded, embedder.key)
        with _chroma("open its collection"):
            return self.client.get_or_create_collection(
                name,
                embedding_function=embedder,
                metadata={"embedder": embedder.key, **HNSW},
            )

    # -- writing ------------------------------------------------------------------------

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
            with _chroma("store the memory"):
                target.upsert(
                    ids=[records[i].id for i in chosen],
                    documents=[records[i].text for i in chosen],
                    metadatas=[records[i].metadata() for i in chosen],
                    embeddings=np.asarray(vectors)[chosen],
                )

    def put(self, records: Iterable[Record], vectors: np.ndarray | None = None) -> int:
        """Store whole records as they are (ids, times, provenance kept), with given vectors."""
        count = 0
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= 1024:
                self._put(batch, None if vectors is None else vectors[count : count + len(batch)])
                count, batch = count + len(batch), []
        if batch:
            self._put(batch, None if vectors is None else vectors[count:])
        return count + len(batch)

    def forget(self, memory_id: str) -> Record:
        """Soft-delete a memory: recall skips it, show and export still have it."""
        record = self.get(memory_id)
        if not record.deleted:
            with _chroma("forget the memory"):
                got = self.collection.get(ids=[record.id], include=["embeddings"])
                record.deleted = True
                self._put([record], np.asarray(got["embeddings"]))
                self.collection.delete(ids=[record.id])
        return record

    def delete_namespace(self, namespace: str) -> int:
        """Remove every memory of a namespace for good; returns how many went."""
        gone = 0
        for target in (self.collection, self.forgotten):
            ids = [r.id for r in _all(target, {"namespace": namespace})]
            for start in range(0, len(ids), PAGE):
                with _chroma("delete the namespace"):
                    target.delete(ids=ids[start : start + PAGE])
            gone += len(ids)
        return gone

    # -- reading ------------------------------------------------------------------------

    def get(self, memory_id: str) -> Record:
        """One memory by id (deleted ones too), or UnknownMemory."""
        memory_id = (memory_id or "").strip()
        if not memory_id:
            raise BadMemoryInput("Give the id of a memory (`gemloom memory list` shows them).")
        for target in (self.collection, self.forgotten):
            with _chroma("read the memory"):
                got = target.get(ids=[memory_id], include=["documents", "metadatas"])
            if got["ids"]:
                return Record.from_chroma(got["documents"][0], got["metadatas"][0])
        raise UnknownMemory(memory_id)

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
        """Filtered search: over-fetch unfiltered and filter here; Chroma's filter if too few."""
        kind = _kind(kind) if kind else None
        spaces = list(namespaces or [])
        if not (kind or since or spaces):
            return self._query(vector, k, None)

        def keep(r: Record) -> bool:
            return (
                (kind is None or r.kind == kind)
                and (since is None or r.created >= since)
                and (not spaces or r.namespace in spaces)
            )

        wide = self._query(vector, k * OVERFETCH, None)
        kept = [h for h in wide if keep(h.record)]
        if len(kept) >= k or len(wide) < k * OVERFETCH:
            return kept[:k]
        where = _where(
            kind=kind.value if kind else None,
            created_ts={"$gte": since.timestamp()} if since else None,
            namespace={"$in": spaces} if spaces else None,
        )
        return self._query(vector, k, where)

    def _query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[Hit]:
        with _chroma("search"):
            found = self.collection.query(
                query_embeddings=vector, n_results=k, where=where,
                include=["documents", "metadatas", "distances"],
            )  # fmt: skip
        return [
            Hit(record=Record.from_chroma(doc, meta), distance=float(dist))
            for doc, meta, dist in zip(
                found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
            )
        ]

    def records(self, deleted: bool | None = None, **conditions: Any) -> Iterator[Record]:
        """Records matching metadata equalities (kind=, namespace=); deleted: None = both."""
        if deleted is not True:
            yield from _all(self.collection, _where(**conditions))
        if deleted is not False:
            yield from _all(self.forgotten, _where(**conditions))

    def count(self) -> int:
        """How many records the store holds, forgotten ones included."""
        with _chroma("count memories"):
            return int(self.collection.count() + self.forgotten.count())

    def stats(self) -> dict[str, Any]:
        """Counts by kind and namespace, deleted records, the embedder and where the store is."""
        by_kind: dict[str, int] = {}
        by_namespace: dict[str, int] = {}
        deleted = 0
        for record in self.records():
            deleted += record.deleted
            if not record.deleted:
                by_kind[record.kind.value] = by_kind.get(record.kind.value, 0) + 1
                by_namespace[record.namespace] = by_namespace.get(record.namespace, 0) + 1
        return {
            "where": self.where, "embedder": self.embedder.key, "dims": self.embedder.dims,
            "live": sum(by_kind.values()), "deleted": deleted,
            "by_kind": by_kind, "by_namespace": by_namespace,
        }  # fmt: skip

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder(texts), dtype=np.float32)

    # -- migration ----------------------------------------------------------------------

    def reembed(self, new: Embedder) -> int:
        """Re-embed every record with another embedder and record it; returns the count."""
        names = (self.name, f"{self.name}-forgotten")
        temps = [f"{n}-reembed" for n in names]
        for temp in temps:
            with contextlib.suppress(Exception):
                self.client.delete_collection(temp)
        records = list(self.records())
        old = (self.collection, self.forgotten, self.embedder)
        self.collection, self.forgotten = (self._collection(t, new) for t in temps)
        self.embedder = new
        try:
            count = self.put(records)
        except BaseException:
            self.collection, self.forgotten, self.embedder = old
            for temp in temps:
                with contextlib.suppress(Exception):
                    self.client.delete_collection(temp)
            raise
        with _chroma("finish the migration"):
            for name, target in zip(names, (self.collection, self.forgotten), strict=True):
                self.client.delete_collection(name)
                target.modify(name=name)
        return count


def _all(collection: Any, where: dict[str, Any] | None = None) -> Iterator[Record]:
    offset = 0
    while True:
        with _chroma("read memories"):
            got = collection.get(
                where=where, limit=PAGE, offset=offset, include=["documents", "metadatas"]
            )
        yield from (
            Record.from_chroma(d, m)
            for d, m in zip(got["documents"], got["metadatas"], strict=True)
        )
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def _recorded_embedder(client: Any, name: str) -> str | None:
    with _chroma("list its collections"):
        found = [c for c in client.list_collections() if c.name == name]
    return (found[0].metadata or {}).get("embedder") if found else None


def _embedder_for_store(client: Any, settings: Settings, name: str) -> Embedder:
    """The embedder an existing store was built with, else the default (Ollama or offline)."""
    recorded = _recorded_embedder(client, name)
    return embedder_for(recorded, settings) if recorded else default_embedder(settings)


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(str(value).strip().lower().replace(" ", "_"))
    except ValueError:
        raise BadMemoryInput(
            f"Unknown memory kind '{value}': use one of {', '.join(k.value for k in Kind)}."
        ) from None
