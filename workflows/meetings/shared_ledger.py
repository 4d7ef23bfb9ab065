"""The meetings ledger on PostgreSQL: recording states and finished chunks shared by watchers.

Which path held which content stays in the local SQLite ledger (paths differ between machines
that sync one folder); what a recording became and its transcribed chunks live in the shared
database, so a watcher on another machine finishes a recording from the chunks already done.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gemloom.tools.audio.transcript import Segment
from gemloom.workflows.meetings.ledger import Ledger, LedgerEntry, LedgerError

QUEUE_ENV = "GEMLOOM_QUEUE_URL"  # Settings.queue_url
SCHEMA_LOCK = 7_190_019  # advisory lock: two watchers creating the tables at once would clash
SCHEMA = """
CREATE TABLE IF NOT EXISTS meeting_files (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    error TEXT, outputs TEXT, updated DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS meeting_chunks (
    digest TEXT NOT NULL, idx INTEGER NOT NULL, start_ DOUBLE PRECISION NOT NULL,
    end_ DOUBLE PRECISION NOT NULL, segments TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (digest, idx)
);
CREATE TABLE IF NOT EXISTS meeting_jobs (
    digest TEXT PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued', outcome TEXT, worker TEXT,
    lease_until TIMESTAMPTZ, not_before TIMESTAMPTZ NOT NULL DEFAULT now(),
    claims INTEGER NOT NULL DEFAULT 0, created TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def failed(url: str, exc: Exception) -> LedgerError:
    """A psycopg error as a one-line LedgerError, without the URL's password."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return LedgerError(f"The meetings queue at {safe_url(url)} failed: {first}.")


def connect(url: str) -> Any:
    """An autocommit psycopg connection with the meetings tables, or a one-line LedgerError."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(SCHEMA)
    except (psycopg.Error, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LedgerError(
            f"Cannot use the meetings queue at {safe_url(url)}: {first} "
            f"(check {QUEUE_ENV}, or unset it to keep the ledger on this machine)."
        ) from None
    return conn


class SharedLedger(Ledger):
    """Ledger's interface; states and chunks on PostgreSQL, known paths in local SQLite."""

    def __init__(self, url: str, local: Path):
        super().__init__(local)
        self.url = url
        try:
            self.pg = connect(url)
        except LedgerError:
            super().close()
            raise
        self._pg_lock = threading.Lock()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        import psycopg

        with self._pg_lock:
            try:
                yield self.pg.cursor()
            except psycopg.Error as exc:
                raise failed(self.url, exc) from None

    def _pg(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def get(self, digest: str) -> LedgerEntry | None:
        """The record of a recording, if any."""
        rows = self._pg(
            "SELECT digest, name, state, error, outputs FROM meeting_files WHERE digest=%s",
            (digest,),
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
        self._pg(
            "INSERT INTO meeting_files VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (digest) DO UPDATE "
            "SET name=excluded.name, state=excluded.state, error=excluded.error, "
            "outputs=excluded.outputs, updated=excluded.updated",
            (digest, name, state, error, json.dumps(outputs or []), time.time()),
        )

    def save_chunk(
        self, digest: str, index: int, start: float, end: float, segments: list[Segment]
    ) -> None:
        """Checkpoint one transcribed chunk; `runs` counts how often it was transcribed."""
        data = json.dumps([s.to_dict() for s in segments])
        self._pg(
            "INSERT INTO meeting_chunks AS c VALUES (%s,%s,%s,%s,%s,1) ON CONFLICT (digest, idx) "
            "DO UPDATE SET start_=excluded.start_, end_=excluded.end_, "
            "segments=excluded.segments, runs=c.runs+1",
            (digest, index, start, end, data),
        )

    def chunks(self, digest: str) -> dict[int, tuple[float, float, list[Segment]]]:
        """Finished chunks of a recording by index, whichever watcher transcribed them."""
        rows = self._pg(
            "SELECT idx, start_, end_, segments FROM meeting_chunks WHERE digest=%s", (digest,)
        )
        return {i: (s, e, [Segment.from_dict(x) for x in json.loads(t)]) for i, s, e, t in rows}

    def runs(self, digest: str) -> dict[int, int]:
        """How many times each chunk of a recording was transcribed."""
        return dict(self._pg("SELECT idx, runs FROM meeting_chunks WHERE digest=%s", (digest,)))

    def close(self) -> None:
        """Close both databases."""
        with self._pg_lock:
            self.pg.close()
        super().close()
