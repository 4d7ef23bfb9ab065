"""The memory store: the one module that talks to Chroma, embedded or through a server."""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from gemloom.errors import GemloomError
from gemloom.memory.embedders import (
    RETIRED_KEYS,
    Embedder,
    RetiredEmbedder,
    default_embedder,
    embedder_for,
)
from gemloom.memory.errors import (
    BadMemoryInput,
    EmbedderMismatch,
    MemoryStoreError,
    StoreUnavailable,
    UnknownMemory,
)
from gemloom.memory.lock import StoreLock
from gemloom.memory.records import Hit, Kind, Record, Source, check_text, now, split_text
from gemloom.secrets import redact
from gemloom.settings import Settings, load_settings

log = logging.getLogger(__name__)
T = TypeVar("T")
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


# Real sentence embeddings cluster, unlike the random vectors the old M 32 / construction_ef 200
# were tuned on: on 100k docstring sentences (bench/memory.py) M 16 with construction_ef 40 still
# finds >= 0.95 of the exact top 5 at ef_search 100, and builds several times faster. Chroma's
# sync_threshold stays at 1,000: the index is only saved every that many records, and a process
# that opens the store replays every unsaved record first.
HNSW = {
    "hnsw:space": "cosine",
    "hnsw:search_ef": 100,
    "hnsw:construction_ef": 40,
    "hnsw:M": 16,
}
PUT_BATCH = 5000  # under Chroma's max batch (5,461 on this build)


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
    try:
        with _chroma(f"open {path}"):
            return chromadb.PersistentClient(path=str(path), settings=quiet)
    except MemoryStoreError:
        # Chroma keeps a system that failed to start and hands it to the next open of the path.
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(path), None)
        raise


def _where(**conditions: Any) -> dict[str, Any] | None:
    clauses = [{k: v} for k, v in conditions.items() if v is not None]
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else None


def _holding(write: bool) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a MemoryStore method under the store lock (shared to read, exclusive to write)."""

    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def held(self: MemoryStore, *args: Any, **kwargs: Any) -> T:
            with self._hold(write):
                return method(self, *args, **kwargs)

        return held

    return wrap


class MemoryStore:
    """Records with provenance in one Chroma collection, embedded by one recorded embedder."""

    def __init__(
        self,
        client: Any,
        where: str,
        embedder: Embedder,
        lock: StoreLock | None = None,
        name: str = COLLECTION,
    ):
        self.client = client
        self.where = where
        self.name = name
        self.embedder = embedder
        self.near_duplicate = NEAR_DUPLICATE
        self._lock = lock
        self._seen = 0  # how many neighbours the last query returned before filtering
        self._generation = lock.generation() if lock else 0  # writes the client has seen
        self._open_collections()

    def _open_collections(self) -> None:
        self.collection = self._collection(self.name, self.embedder)
        # Forgotten records live apart: a "deleted" filter on every query would make
        # each recall a slow filtered search in Chroma.
        self.forgotten = self._collection(f"{self.name}-forgotten", self.embedder)

    @contextlib.contextmanager
    def _hold(self, write: bool) -> Iterator[None]:
        """One read or write under the store lock, on a client that has seen every write."""
        if self._lock is None:  # a Chroma server orders its clients itself
            yield
            return
        with self._lock.hold(write):
            if self._lock.generation() != self._generation:
                self._reopen()
            try:
                yield
            finally:
                if write:
                    self._generation = self._lock.bump()

    def _reopen(self) -> None:
        """Another process wrote: drop Chroma's cached index and read the store afresh."""
        with contextlib.suppress(Exception):
            self.client.close()
        self.client = _client(Path(self.where), None)
        self._open_collections()
        self._generation = self._lock.generation() if self._lock else 0

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        url: str | None = None,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        name: str = COLLECTION,
        lock_wait: float | None = None,
    ) -> MemoryStore:
        """Open the server store at `url`, else the embedded one at `path` (default: data dir).

        An embedded store is locked only during each read or write; one that waits longer than
        `lock_wait` seconds (default memory.lock.WAIT) for another process's write raises
        StoreLocked.
        """
        settings = settings or load_settings()
        url = url if url is not None else settings.chroma_url or None
        path = Path(path) if path else settings.data_dir / "memory"
        lock = None if url else StoreLock(path, lock_wait).open()
        try:
            with lock.hold(write=True) if lock else contextlib.nullcontext():
                client = _client(path, url)  # opening may migrate or replay Chroma's log
                embedder = embedder or _embedder_for_store(client, settings, name)
                store = cls(client, url or str(path), embedder, lock, name)
                if lock:
                    store._generation = lock.bump()
                return store
        except BaseException:
            if lock:
                lock.close()
            raise

    def close(self) -> None:
        """Close the client and the lock file; the store object must not be used afterwards."""
        if self._lock:
            with contextlib.suppress(Exception):
                self.client.close()  # an embedded client: the next open reads the disk afresh
            self._lock.close()
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
            with _chroma("store the memory"):
                target.upsert(
                    ids=[records[i].id for i in chosen],
                    documents=[records[i].text for i in chosen],
                    metadatas=[records[i].metadata() for i in chosen],
                    embeddings=np.asarray(vectors)[chosen],
                )

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
            gone += len(ids)
        return gone

    # -- reading ------------------------------------------------------------------------

    @_holding(write=False)
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
        """Filtered search: over-fetch unfiltered and filter here; Chroma's filter if too few."""
        kind = _kind(kind) if kind else None
        spaces = list(namespaces or [])
        if not (kind or since or spaces):
            return self._query(vector, k, None)
        after = since.timestamp() if since else None

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

    def records(self, deleted: bool | None = None, **conditions: Any) -> Iterator[Record]:
        """Records matching metadata equalities (kind=, namespace=); deleted: None = both."""
        with self._hold(write=False):
            if deleted is not True:
                yield from _all(self.collection, _where(**conditions))
            if deleted is not False:
                yield from _all(self.forgotten, _where(**conditions))

    @_holding(write=False)
    def count(self) -> int:
        """How many records the store holds, forgotten ones included."""
        with _chroma("count memories"):
            return int(self.collection.count() + self.forgotten.count())

    @_holding(write=False)
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

    @_holding(write=True)
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
    if recorded in RETIRED_KEYS:
        return RetiredEmbedder(recorded)  # readable, and migrated by reembed
    return embedder_for(recorded, settings) if recorded else default_embedder(settings)


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(str(value).strip().lower().replace(" ", "_"))
    except ValueError:
        raise BadMemoryInput(
            f"Unknown memory kind '{value}': use one of {', '.join(k.value for k in Kind)}."
        ) from None
