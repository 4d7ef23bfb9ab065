"""What the programs put in memory: meeting decisions and action items, review findings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gemloom.errors import GemloomError


@contextmanager
def memory_or_none(warn: Callable[[str], None] | None = None) -> Iterator[Any]:
    """The memory store for the length of a command, or None (with a warning) when unavailable.

    A program's main output must not fail because memory is locked by another process or its
    embedder is missing; it says so and goes on without it.
    """
    from gemloom.memory.store import MemoryStore

    say = warn or (lambda text: print(text, file=sys.stderr))
    try:
        store = MemoryStore.open()
    except GemloomError as exc:
        say(f"note: not saving to memory: {exc}")
        yield None
        return
    with store:
        yield store


def meeting_hook(store: Any, namespace: str = "meetings") -> Callable[[Any], None] | None:
    """A `remember` hook that stores a meeting's decisions and action items with provenance."""
    if store is None:
        return None
    from gemloom.memory.records import Source

    def remember(item: Any) -> None:
        store.add(
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
        for record in list(store.records(deleted=False, namespace=namespace)):
            if record.source.content_hash == file_hash:
                store.forget(record.id)

    return forget


def finding_hook(store: Any, namespace: str = "reviews") -> Callable[[Any], None] | None:
    """A `remember` hook that stores review findings with their screenshot and code location."""
    if store is None:
        return None
    from gemloom.memory.records import Source

    def remember(finding: Any) -> None:
        where = f" ({finding.location.path}:{finding.location.line})" if finding.location else ""
        fix = f" Fix: {finding.suggested_fix}" if finding.suggested_fix else ""
        store.add(
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
