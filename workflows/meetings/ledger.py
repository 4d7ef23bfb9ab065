"""The meetings ledger: SQLite, keyed by content hash, so each recording is processed once."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gemloom.errors import GemloomError
from gemloom.settings import Settings
from gemloom.tools.audio.transcript import Segment
from gemloom.workflows.meetings.ledger_sql import (
    SQLITE,
    SQLITE_MIGRATIONS,
    SQLITE_SCHEMA,
    LedgerSQL,
)

SavedChunk = tuple[float, float, list[Segment]]  # (start, end, segments) of a transcribed chunk


class LedgerError(GemloomError):
    """The ledger database cannot be opened or written."""


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows about one recording."""

    digest: str
    name: str
    state: str  # working, done, quarantined, failed, or replaced (by a newer version)
    error: str | None
    outputs: list[str]


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def encode_segments(segments: Sequence[Segment]) -> tuple[str, str]:
    """A chunk's segments as JSON, and their word times as JSON (one list per segment)."""
    words = [[list(w) for w in s.words] for s in segments]
    return json.dumps([s.to_dict() for s in segments]), json.dumps(words)


def decode_segments(segments: str, words: str | None) -> list[Segment]:
    """The inverse of `encode_segments`; `words` is None for chunks saved before it was kept."""
    found = [Segment.from_dict(x) for x in json.loads(segments)]
    if words is None:
        return found
    timed = json.loads(words)
    return [
        replace(s, words=tuple((float(a), float(b), str(w)) for a, b, w in t))
        for s, t in zip(found, timed, strict=True)
    ]


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an older ledger's schema up to date, one numbered migration at a time."""
    db.execute("BEGIN IMMEDIATE")  # two processes opening one old ledger migrate it once
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        for number, statement in enumerate(SQLITE_MIGRATIONS[version:], version + 1):
            db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class Ledger:
    """Recording states, finished chunks and known paths, in one SQLite file.

    States and chunks go through `sql` and `_state`, so a subclass keeps them elsewhere
    (PostgreSQL: shared_ledger.py) by giving its own statements and runner.
    """

    sql: LedgerSQL = SQLITE

    def __init__(self, path: Path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SQLITE_SCHEMA)
            _migrate(self.db)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"Cannot open the meetings ledger {path}: {exc}.") from None
        self.path = path
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self.db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise LedgerError(f"The meetings ledger {self.path} failed: {exc}.") from None

    def _state(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Run one of `self.sql`'s statements where this ledger keeps states and chunks."""
        return self._run(sql, args)

    def get(self, digest: str) -> LedgerEntry | None:
        """The record of a recording, if any."""
        rows = self._state(self.sql.get, (digest,))
        if not rows:
            return None
        d, name, state, error, outputs = rows[0]
        return LedgerEntry(d, name, state, error, json.loads(outputs or "[]"))

    def set_state(
        self,
        digest: str,
        name: str,
        state: str,
        error: str | None = None,
        outputs: list[str] | None = None,
    ) -> None:
        """Record a recording's state (and its outputs when done)."""
        args = (digest, name, state, error, json.dumps(outputs or []), time.time())
        self._state(self.sql.set_state, args)

    def save_chunk(
        self, digest: str, index: int, start: float, end: float, segments: list[Segment]
    ) -> None:
        """Checkpoint one transcribed chunk, word times too; `runs` counts its transcriptions."""
        self._state(self.sql.save_chunk, (digest, index, start, end, *encode_segments(segments)))

    def chunks(self, digest: str) -> dict[int, SavedChunk]:
        """Finished chunks of a recording by index, whichever watcher transcribed them."""
        rows = self._state(self.sql.chunks, (digest,))
        return {i: (s, e, decode_segments(t, w)) for i, s, e, t, w in rows}

    def runs(self, digest: str) -> dict[int, int]:
        """How many times each chunk of a recording was transcribed."""
        return dict(self._state(self.sql.runs, (digest,)))

    def remember_path(self, path: Path, digest: str, st: os.stat_result | None = None) -> None:
        """Note which content a path held, so an unchanged file is not hashed again.

        `st` is the file's state when it was hashed: a file that grew while it was processed
        then no longer matches, and is taken again as a new version.
        """
        st = st or path.stat()
        self._run(
            "INSERT OR REPLACE INTO seen VALUES (?,?,?,?)",
            (str(path.resolve()), st.st_size, st.st_mtime_ns, digest),
        )

    def known_digest(self, path: Path) -> str | None:
        """The digest of a path seen before with the same size and mtime."""
        st = path.stat()
        rows = self._run(
            "SELECT digest FROM seen WHERE path=? AND size=? AND mtime_ns=?",
            (str(path.resolve()), st.st_size, st.st_mtime_ns),
        )
        return rows[0][0] if rows else None

    def path_digest(self, path: Path) -> str | None:
        """The digest this path held when it was last processed, whatever it holds now."""
        rows = self._run("SELECT digest FROM seen WHERE path=?", (str(path.resolve()),))
        return rows[0][0] if rows else None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self.db.close()


def open_ledger(settings: Settings, local: Path) -> Ledger:
    """The ledger at `local`; with a queue URL set, states and chunks go to PostgreSQL."""
    if settings.queue_url:
        from gemloom.workflows.meetings.shared_ledger import SharedLedger

        return SharedLedger(settings.queue_url, local)
    return Ledger(local)
