"""The meetings ledger's SQL, one set per backend: local SQLite and the shared PostgreSQL.

The two schemas differ in names only (`files`/`meeting_files`, `start`/`start_`, `?`/`%s`), so
`Ledger` holds the one implementation and runs whichever set its backend speaks. Each schema is
the first version plus numbered migrations, so a ledger written by an older gemloom is upgraded
in place when it is opened, its chunks kept.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LedgerSQL:
    """The statements behind Ledger's recording states and chunks, in one backend's dialect."""

    get: str  # (digest) -> digest, name, state, error, outputs
    set_state: str  # (digest, name, state, error, outputs, updated), an upsert
    save_chunk: str  # (digest, idx, start, end, segments, words), an upsert counting runs
    chunks: str  # (digest) -> idx, start, end, segments, words
    runs: str  # (digest) -> idx, runs


SQLITE_SCHEMA = """
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
# Migration n takes a SQLite ledger from `PRAGMA user_version` n-1 to n.
SQLITE_MIGRATIONS = (
    # 1: Whisper's word times per segment (JSON), NULL for chunks saved before (issue 17)
    "ALTER TABLE chunks ADD COLUMN words TEXT",
)

SQLITE = LedgerSQL(
    get="SELECT digest, name, state, error, outputs FROM files WHERE digest=?",
    set_state=(
        "INSERT INTO files VALUES (?,?,?,?,?,?) ON CONFLICT(digest) DO UPDATE SET "
        "name=excluded.name, state=excluded.state, error=excluded.error, "
        "outputs=excluded.outputs, updated=excluded.updated"
    ),
    save_chunk=(
        "INSERT INTO chunks AS c (digest, idx, start, end_, segments, words) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT(digest, idx) DO UPDATE SET start=excluded.start, "
        "end_=excluded.end_, segments=excluded.segments, words=excluded.words, runs=c.runs+1"
    ),
    chunks="SELECT idx, start, end_, segments, words FROM chunks WHERE digest=?",
    runs="SELECT idx, runs FROM chunks WHERE digest=?",
)

# Run under an advisory lock by every watcher that connects; ADD COLUMN IF NOT EXISTS is the
# migration of a shared database made by an older gemloom.
POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS meeting_files (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    error TEXT, outputs TEXT, updated DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS meeting_chunks (
    digest TEXT NOT NULL, idx INTEGER NOT NULL, start_ DOUBLE PRECISION NOT NULL,
    end_ DOUBLE PRECISION NOT NULL, segments TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (digest, idx)
);
ALTER TABLE meeting_chunks ADD COLUMN IF NOT EXISTS words TEXT;
CREATE TABLE IF NOT EXISTS meeting_jobs (
    digest TEXT PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued', outcome TEXT, worker TEXT,
    lease_until TIMESTAMPTZ, not_before TIMESTAMPTZ NOT NULL DEFAULT now(),
    claims INTEGER NOT NULL DEFAULT 0, created TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""

POSTGRES = LedgerSQL(
    get="SELECT digest, name, state, error, outputs FROM meeting_files WHERE digest=%s",
    set_state=(
        "INSERT INTO meeting_files VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (digest) DO UPDATE "
        "SET name=excluded.name, state=excluded.state, error=excluded.error, "
        "outputs=excluded.outputs, updated=excluded.updated"
    ),
    save_chunk=(
        "INSERT INTO meeting_chunks AS c (digest, idx, start_, end_, segments, words) "
        "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (digest, idx) DO UPDATE SET "
        "start_=excluded.start_, end_=excluded.end_, segments=excluded.segments, "
        "words=excluded.words, runs=c.runs+1"
    ),
    chunks="SELECT idx, start_, end_, segments, words FROM meeting_chunks WHERE digest=%s",
    runs="SELECT idx, runs FROM meeting_chunks WHERE digest=%s",
)
