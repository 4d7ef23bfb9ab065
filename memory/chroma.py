"""The Chroma boundary: clients embedded or remote, its errors as ours, paging, the lock hold."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gemloom.errors import GemloomError
from gemloom.memory.embedders import (
    RETIRED_KEYS,
    Embedder,
    RetiredEmbedder,
    default_embedder,
    embedder_for,
)
from gemloom.memory.errors import MemoryStoreError
from gemloom.memory.records import Record
from gemloom.memory.server import CHROMA_URL_ENV, connect  # noqa: F401 (store re-exports it)
from gemloom.settings import Settings, load_settings

if TYPE_CHECKING:
    from gemloom.memory.store import MemoryStore

T = TypeVar("T")
COLLECTION = "gemloom-memory"
PAGE = 1000


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
# An embedded store's recall never reaches its HNSW graph: the side index (memory/exact.py) answers
# every query exactly. Chroma still builds the graph on every write, so there it is built as
# cheaply as Chroma allows; it only serves if a Chroma server is later started on the directory.
HNSW_SIDE = HNSW | {"hnsw:construction_ef": 8, "hnsw:M": 4}
PUT_BATCH = 5000  # under Chroma's max batch (5,461 on this build)


def _client(path: Path | None, url: str | None, settings: Settings | None = None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if url:  # memory/server.py: the token, headers, tenant and database
        return connect(url, settings or load_settings())
    quiet = ChromaSettings(anonymized_telemetry=False)  # no network beyond the store itself
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
