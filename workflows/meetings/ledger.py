"""The meetings ledger: SQLite, keyed by content hash, so each recording is processed once."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gemloom.errors import GemloomError
from gemloom.settings import Settings
from gemloom.tools.audio.transcript import Segment

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    error TEXT, outputs TEXT, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    digest TEXT NOT NULL, idx INTEGER NOT NULL, start REAL NOT NULL, end_ REAL NOT NULL,
    segments TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (digest, idx)
);
CREATE TABLE IF NOT EXISTS seen (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL
);
"""


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


class Ledger:
    """Recording states, finished chunks and known paths, in one SQLite file."""

    def __init__(self, path: Path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
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

    def get(self, digest: str) -> LedgerEntry | None:
        """The record of a recording, if any."""
        rows = self._run(
            "SELECT digest, name, state, error, outputs FROM files WHERE digest=?", (digest,)
        )
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
        self._run(
            "INSERT INTO files VALUES (?,?,?,?,?,?) ON CONFLICT(digest) DO UPDATE SET "
            "name=excluded.name, state=excluded.state, error=excluded.error, "
            "outputs=excluded.outputs, updated=excluded.updated",
            (digest, name, state, error, json.dumps(outputs or []), time.time()),
        )

    def save_chunk(
        self, digest: str, index: int, start: float, end: float, segments: list[Segment]
    ) -> None:
        """Checkpoint one transcribed chunk; `runs` counts how often it was transcribed."""
        data = json.dumps([s.to_dict() for s in segments])
        self._run(
            "INSERT INTO chunks VALUES (?,?,?,?,?,1) ON CONFLICT(digest, idx) DO UPDATE SET "
            "start=excluded.start, end_=excluded.end_, segments=excluded.segments, runs=runs+1",
            (digest, index, start, end, data),
        )

    def chunks(self, digest: str) -> dict[int, tuple[float, float, list[Segment]]]:
        """Finished chunks of a recording by index."""
        rows = self._run("SELECT idx, start, end_, segments FROM chunks WHERE digest=?", (digest,))
        return {i: (s, e, [Segment.from_dict(x) for x in json.loads(t)]) for i, s, e, t in rows}

    def runs(self, digest: str) -> dict[int, int]:
        """How many times each chunk of a recording was transcribed."""
        return dict(self._run("SELECT idx, runs FROM chunks WHERE digest=?", (digest,)))

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
