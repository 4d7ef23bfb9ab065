"""The memory store: the one module that talks to Chroma, embedded or through a server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gemloom.memory.chroma import (
    CHROMA_URL_ENV,
    COLLECTION,
    HNSW,
    HNSW_SIDE,
    PAGE,
    PUT_BATCH,
    _all,
    _chroma,
    _client,
    _embedder_for_store,
    _holding,
    _recorded_embedder,
    _where,
)
from gemloom.memory.embedders import Embedder
from gemloom.memory.errors import BadMemoryInput, EmbedderMismatch, UnknownMemory
from gemloom.memory.exact import ExactIndex
from gemloom.memory.lock import StoreLock
from gemloom.memory.records import Record, _kind
from gemloom.memory.search import OVERFETCH, SearchMixin
from gemloom.memory.writes import NEAR_DUPLICATE, Added, WriteMixin
from gemloom.settings import Settings, load_settings

log = logging.getLogger(__name__)
__all__ = [  # names other modules import from here
    "CHROMA_URL_ENV", "COLLECTION", "HNSW", "HNSW_SIDE", "NEAR_DUPLICATE", "OVERFETCH", "PAGE",
    "PUT_BATCH", "Added", "MemoryStore", "_kind",
]  # fmt: skip


class MemoryStore(WriteMixin, SearchMixin):
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
        self._writing = 0  # depth of nested writes in this process
        # Filtered recall in numpy beside an embedded store; a server's store has no side files.
        self.exact = ExactIndex(Path(where)) if lock else None
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
            outermost = write and not self._writing
            if outermost and self.exact:
                self.exact.begin(self._generation, self.collection)
            self._writing += write
            try:
                yield
            finally:
                self._writing -= write
                if write:
                    self._generation = self._lock.bump()
                if outermost and self.exact:
                    self.exact.settle(self._generation)

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
                client = _client(path, url, settings)  # opening may migrate or replay Chroma's log
                embedder = embedder or _embedder_for_store(client, settings, name)
                store = cls(client, url or str(path), embedder, lock, name)
                if lock:
                    before, store._generation = lock.generation(), lock.bump()
                    if store.exact:
                        store.exact.carry(before, store._generation)
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
                metadata={"embedder": embedder.key, **(HNSW_SIDE if self.exact else HNSW)},
            )

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
        if self.exact:
            self.exact.reset()  # new vectors: rebuilt from the new collections on next use
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
