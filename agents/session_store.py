"""Where sessions live: checkpoints and the catalogue in SQLite (default) or PostgreSQL.

One store holds LangGraph's saver, the `gemloom_sessions` catalogue on the same connection, and
the lock that keeps two processes off one session. SQLite uses a flock (gemloom/locks.py);
PostgreSQL a session-level advisory lock on a connection of its own, which the server drops
when the connection or its process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from langgraph.checkpoint.base import BaseCheckpointSaver

from gemloom.agents.session_saver import TABLE as MESSAGES_TABLE
from gemloom.agents.session_saver import MessageSaver, postgres_saver
from gemloom.errors import GemloomError
from gemloom.locks import Busy, _me, hold, holder_text
from gemloom.settings import Settings

_SCHEMA = """
create table if not exists gemloom_sessions (
    id text primary key, title text not null, created {real} not null, updated {real} not null,
    parent text, parent_checkpoint text, workspace text, host text
)
"""
_HOLDERS = "create table if not exists gemloom_session_holders (id text primary key, holder text)"
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
"""How soon the server notices a lock holder's machine is gone: about a minute."""
_SETUP_KEY = 0x67656D6C6F6F6D  # "gemloom": one advisory lock serialises setup() across processes


class SessionStore:
    """A saver, the catalogue beside it, and the per-session lock."""

    kind = ""
    checkpointer: BaseCheckpointSaver

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run one catalogue statement (`?` placeholders) and return its rows."""
        raise NotImplementedError

    def hold(self, session_id: str) -> AbstractContextManager[None]:
        """Hold the session for this block, or raise Busy at once naming the holder."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError


class SqliteStore(SessionStore):
    """The embedded default: DATA_DIR/sessions.sqlite and flock files in DATA_DIR/locks."""

    kind = "sqlite"
    checkpointer: MessageSaver

    def __init__(self, path: Path, locks: Path):
        self.path, self.locks = path, locks
        self.conn = open_database(path)
        self.checkpointer = MessageSaver(self.conn)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with self.checkpointer.lock, self.conn:  # front ends use threads
            return self.conn.execute(query, params).fetchall()

    def hold(self, session_id: str) -> AbstractContextManager[None]:
        return hold(self.locks / f"session-{session_id}.lock", f"Session {session_id}")

    def close(self) -> None:
        self.conn.close()


def open_database(path: Path) -> sqlite3.Connection:
    """The sessions database, created if needed, with a clear error when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("pragma journal_mode=wal")
        # WAL with synchronous=normal survives a killed process (not a power cut) without an
        # fsync per checkpoint, which would dominate a fast tool loop.
        conn.execute("pragma synchronous=normal")
        conn.execute(_SCHEMA.format(real="real"))
        conn.execute(MESSAGES_TABLE.format(blob="blob"))
        columns = {row[1] for row in conn.execute("pragma table_info(gemloom_sessions)")}
        for name in ("workspace", "host"):  # a catalogue from before these were recorded
            if name not in columns:
                conn.execute(f"alter table gemloom_sessions add column {name} text")
        conn.commit()
    except (OSError, sqlite3.Error) as exc:
        raise GemloomError(
            f"Cannot open the sessions database {path}: {exc}. Check GEMLOOM_HOME."
        ) from None
    return conn


def shown_url(url: str) -> str:
    """A PostgreSQL URL fit for a message: the password replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "the sessions URL"


def connect(url: str, **options: Any) -> Any:
    """A psycopg connection as the saver needs it, or a one-line GemloomError."""
    import psycopg
    from psycopg.rows import dict_row

    try:
        # autocommit: setup() runs CREATE INDEX CONCURRENTLY; prepare_threshold=0: poolers
        return psycopg.connect(
            url,
            autocommit=True,
            prepare_threshold=0,
            row_factory=dict_row,
            connect_timeout=10,
            **options,
        )
    except psycopg.Error as exc:
        raise GemloomError(
            f"Cannot reach the sessions server {shown_url(url)}: {_first_line(exc)}. "
            "Check the URL (GEMLOOM_SESSIONS_URL, or --to): postgresql://user:password@host:port/db."
        ) from None


def advisory_key(session_id: str) -> int:
    """A 64-bit advisory lock key for a session (signed, as pg_try_advisory_lock takes it)."""
    digest = hashlib.blake2b(f"gemloom-session:{session_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStore(SessionStore):
    """Checkpoints in LangGraph's PostgresSaver and the catalogue in the same database.

    A small pool whose connections are checked when handed out, so a server restart costs
    the statements in flight (one clear error) and not the rest of a long TUI session.
    """

    kind = "postgresql"
    checkpointer: Any  # langgraph's PostgresSaver subclass from _saver_class(), with `store` set

    def __init__(self, url: str):
        self.url = url
        self._lost = False  # set by a failed statement: the next one starts a new pool
        self._revive_lock = threading.Lock()
        self.pool = self._new_pool()
        self.checkpointer = _saver_class()(self.pool)
        self.checkpointer.store = self
        self._setup()

    def _new_pool(self) -> Any:
        """An open pool, after one direct connection that gives the real reason if any."""
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        connect(self.url).close()  # a bad password or database is its own one-line error
        options = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
        pool = ConnectionPool(
            self.url,
            kwargs=options,
            min_size=1,
            max_size=4,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=5,  # a caller waits this long for a connection before the one-line error
            name="gemloom-sessions",
        )
        # the pool logs every failed reconnect; the caller gets one translated error instead
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        with translated(self.url):
            pool.open(wait=True, timeout=15)
        return pool

    def lost(self) -> None:
        """A statement failed on a lost server."""
        self._lost = True

    def fresh(self) -> Any:
        """The pool to use: a new one once the server was lost.

        The old pool retries in the background with a backoff that doubles up to minutes,
        so after an outage it may still be asleep when the server is back.
        """
        with self._revive_lock:
            if self._lost:
                old, self.pool = self.pool, self._new_pool()  # raises while still away
                self.checkpointer.conn = self.pool
                self._lost = False
                old.close(timeout=0)
        return self.pool

    def _setup(self) -> None:
        """The saver's migrations and the catalogue, one process at a time."""
        import psycopg

        try:
            with self.pool.connection() as conn:
                conn.execute("select pg_advisory_lock(%s)", (_SETUP_KEY,))
                try:
                    self.checkpointer.setup()
                    conn.execute(_SCHEMA.format(real="double precision"))
                    conn.execute(MESSAGES_TABLE.format(blob="bytea"))
                    conn.execute("alter table gemloom_sessions add column if not exists host text")
                    conn.execute(_HOLDERS)
                finally:
                    conn.execute("select pg_advisory_unlock(%s)", (_SETUP_KEY,))
        except psycopg.Error as exc:
            self.pool.close()
            raise GemloomError(
                f"Cannot set up the sessions tables on {shown_url(self.url)}: "
                f"{_first_line(exc)}. The user needs CREATE rights there."
            ) from None

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        from psycopg.rows import tuple_row

        with (
            translated(self.url, self.lost),
            self.fresh().connection() as conn,
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            cur.execute(query.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []

    @contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        conn = connect(self.url, application_name="gemloom session lock")
        try:
            with translated(self.url):
                self._take(conn, session_id)
            try:
                yield
            finally:
                self._release(conn, session_id)
        finally:
            conn.close()  # closing ends the server session, and with it the advisory lock

    def _take(self, conn: Any, session_id: str) -> None:
        """The advisory lock on `conn`, and who holds it written down; or Busy."""
        # The server drops the lock when it sees the connection die. A killed process closes
        # its socket at once; a machine that vanishes is only noticed by TCP keepalives, which
        # default to two hours. SET, not a startup option, so poolers in session mode pass it.
        for name, value in KEEPALIVES.items():
            conn.execute(f"set {name} = {int(value)}")
        row = conn.execute(
            "select pg_try_advisory_lock(%s) as got", (advisory_key(session_id),)
        ).fetchone()
        if not row["got"]:
            holder = self._holder(session_id)
            raise Busy(f"Session {session_id} is in use by {holder}: wait for it to finish.")
        conn.execute(
            "insert into gemloom_session_holders values (%s, %s) "
            "on conflict (id) do update set holder = excluded.holder",
            (session_id, _me().decode()),
        )

    def _release(self, conn: Any, session_id: str) -> None:
        """Forget the holder while the lock is still ours, then give the lock back.

        Closing the connection also frees the lock, but only once the server's backend has
        seen the socket close: a hold taken right after, on a new connection, could still find
        it taken. The unlock is answered before this returns. (A killed holder's row is
        overwritten by the next holder.)
        """
        import psycopg

        with contextlib.suppress(psycopg.Error):
            conn.execute("delete from gemloom_session_holders where id = %s", (session_id,))
            conn.execute("select pg_advisory_unlock(%s)", (advisory_key(session_id),))

    def _holder(self, session_id: str) -> str:
        rows = self.sql("select holder from gemloom_session_holders where id = ?", (session_id,))
        return holder_text(rows[0][0].encode()) if rows else "another process"

    def close(self) -> None:
        self.pool.close()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextmanager
def translated(url: str, lost: Callable[[], None] | None = None) -> Iterator[None]:
    """A lost or unreachable server as one GemloomError; finished steps stay saved."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
        if lost is not None:
            lost()
        raise GemloomError(
            f"Lost the sessions server {shown_url(url)} ({_first_line(exc)}): every finished "
            "step is saved; `gemloom sessions resume ID` goes on once it answers again."
        ) from None


@functools.cache
def _saver_class() -> type:
    """PostgresSaver with gemloom's errors, made on first use: psycopg takes a while to import."""
    from langgraph.checkpoint.postgres import PostgresSaver

    class Saver(postgres_saver(PostgresSaver)):  # type: ignore[misc]
        """PostgresSaver storing each message once, whose connection errors are gemloom's
        one-line errors."""

        store: PostgresStore

        @contextmanager
        def _cursor(self, *, pipeline: bool = False) -> Iterator[Any]:
            store = self.store
            with translated(store.url, store.lost):
                store.fresh()
                with super()._cursor(pipeline=pipeline) as cur:
                    yield cur

    return Saver


def _Saver(pool: Any) -> Any:
    return _saver_class()(pool)


def open_store(settings: Settings) -> SessionStore:
    """The one place a saver is made: PostgreSQL when sessions_url is set, else SQLite."""
    if settings.sessions_url:
        return PostgresStore(settings.sessions_url)
    return SqliteStore(settings.data_dir / "sessions.sqlite", settings.data_dir / "locks")
