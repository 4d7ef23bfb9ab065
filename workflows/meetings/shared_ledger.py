"""The meetings ledger on PostgreSQL: recording states and finished chunks shared by watchers.

Which path held which content stays in the local SQLite ledger (paths differ between machines
that sync one folder); what a recording became and its transcribed chunks live in the shared
database, so a watcher on another machine finishes a recording from the chunks already done.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gemloom.workflows.meetings.ledger import Ledger, LedgerError
from gemloom.workflows.meetings.ledger_sql import POSTGRES, POSTGRES_SCHEMA

QUEUE_ENV = "GEMLOOM_QUEUE_URL"  # Settings.queue_url
SCHEMA_LOCK = 7_190_019  # advisory lock: two watchers creating the tables at once would clash


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
            conn.execute(POSTGRES_SCHEMA)
    except (psycopg.Error, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LedgerError(
            f"Cannot use the meetings queue at {safe_url(url)}: {first} "
            f"(check {QUEUE_ENV}, or unset it to keep the ledger on this machine)."
        ) from None
    return conn


class SharedLedger(Ledger):
    """Ledger's interface; states and chunks on PostgreSQL, known paths in local SQLite."""

    sql = POSTGRES

    def __init__(self, url: str, local: Path):
        super().__init__(local)
        self.url = url
        try:
            self.pg = connect(url)
        except LedgerError:
            super().close()
            raise
        self._pg_lock = threading.Lock()

    def _state(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Run one of `self.sql`'s statements on PostgreSQL."""
        import psycopg

        with self._pg_lock:
            try:
                cur = self.pg.execute(sql, args)
                return cur.fetchall() if cur.description else []
            except psycopg.Error as exc:
                raise failed(self.url, exc) from None

    def close(self) -> None:
        """Close both databases."""
        with self._pg_lock:
            self.pg.close()
        super().close()
