"""What the programs put in memory: meeting decisions and action items, review findings."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from gemloom.background import in_background
from gemloom.errors import GemloomError


@contextmanager
def memory_or_none(warn: Callable[[str], None] | None = None) -> Iterator[Any]:
    """The memory store for the length of a command, or None (with a warning) when unavailable.

    A program's main output must not fail because memory is locked by another process or its
    embedder is missing; it says so and goes on without it.
    """
    with memory_beside(warn) as memory:
        yield memory.get()


class OpeningMemory:
    """The memory store, opened in a thread of its own from `start` on, or on first use.

    Opening imports Chroma (about 0.7 s), which `gemloom ingest` spends beside the
    transcription, where Whisper leaves the interpreter free, instead of before it. `get()`
    waits for the store: it, or None once it has said why the memory is unavailable.
    """

    def __init__(self, warn: Callable[[str], None] | None = None):
        self._say = warn or (lambda text: print(text, file=sys.stderr))
        self._opened: Future[Any] | None = None
        self._lock = threading.Lock()
        self._said = False

    def start(self) -> None:
        """Begin opening the store (once; later calls do nothing)."""
        with self._lock:
            if self._opened is None:
                self._opened = in_background(_open, "gemloom-memory")

    def get(self) -> Any:
        """The open store, or None (said once) when it cannot be opened."""
        self.start()
        assert self._opened is not None
        try:
            return self._opened.result()
        except GemloomError as exc:
            if not self._said:
                self._said = True
                self._say(f"note: not saving to memory: {exc}")
            return None

    def close(self) -> None:
        """Close the store if it was opened (waiting for an opening under way)."""
        if self._opened is not None and (store := self.get()) is not None:
            store.close()


@contextmanager
def memory_beside(warn: Callable[[str], None] | None = None) -> Iterator[OpeningMemory]:
    """An `OpeningMemory` for the length of a command, closed at its end."""
    memory = OpeningMemory(warn)
    try:
        yield memory
    finally:
        memory.close()


def _open() -> Any:
    from gemloom.memory.store import MemoryStore

    return MemoryStore.open()


def _store(store: Any) -> Any:
    return store.get() if isinstance(store, OpeningMemory) else store


def meeting_hook(store: Any, namespace: str = "meetings") -> Callable[[Any], None] | None:
    """A `remember` hook that stores a meeting's decisions and action items with provenance
    (in `store`, or in the store an `OpeningMemory` opens: nothing if it cannot)."""
    if store is None:
        return None
    from gemloom.memory.records import Source

    def remember(item: Any) -> None:
        if (target := _store(store)) is None:
            return
        target.add(
            f"{item.text} [at {item.timestamp} in {item.source}]",
            kind=item.kind,
            tags=["meeting", f"at:{item.timestamp}"],
            source=Source(path=item.source, content_hash=item.file_hash),
            namespace=namespace,
        )

    return remember


def meeting_forget_hook(store: Any, namespace: str = "meetings") -> Callable[[str], None] | None:
    """A hook that forgets the decisions and action items stored from a recording's content.

    Called before notes made again (or of a new version) are remembered, so memory holds one
    set per recording, not one per run.
    """
    if store is None:
        return None

    def forget(file_hash: str) -> None:
        if (target := _store(store)) is None:
            return
        for record in list(target.records(deleted=False, namespace=namespace)):
            if record.source.content_hash == file_hash:
                target.forget(record.id)

    return forget


def finding_hook(store: Any, namespace: str = "reviews") -> Callable[[Any], None] | None:
    """A `remember` hook that stores review findings with their screenshot and code location
    (in `store`, or in the store an `OpeningMemory` opens: nothing if it cannot)."""
    if store is None:
        return None
    from gemloom.memory.records import Source

    def remember(finding: Any) -> None:
        if (target := _store(store)) is None:
            return
        where = f" ({finding.location.path}:{finding.location.line})" if finding.location else ""
        fix = f" Fix: {finding.suggested_fix}" if finding.suggested_fix else ""
        target.add(
            f"{finding.title}{where}.{fix}",
            kind="review_finding",
            tags=[finding.severity, finding.category, finding.id],
            source=Source(
                path=finding.location.path if finding.location else finding.evidence.screenshot,
                screenshot_hash=finding.evidence.sha256,
            ),
            namespace=namespace,
        )

    return remember
