"""The meetings ledger on both backends: one contract, word times kept, old ledgers migrated."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gemloom.tools.audio.transcript import Segment
from gemloom.workflows.meetings.ledger import Ledger, LedgerError
from gemloom.workflows.meetings.ledger_sql import SQLITE_MIGRATIONS
from gemloom.workflows.meetings.shared_ledger import SharedLedger

WORDS = ((0.0, 0.9, " Ship"), (0.9, 1.5, " it."), (2.1, 2.6, " Not"), (2.6, 3.2, " yet."))
SAID = [Segment(0.0, 3.2, "Ship it. Not yet.", words=WORDS), Segment(3.5, 4.0, "Fine.")]

# The schemas gemloom wrote before word times were kept (issue 17), verbatim.
OLD_SQLITE = """
CREATE TABLE files (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    error TEXT, outputs TEXT, updated REAL NOT NULL
);
CREATE TABLE chunks (
    digest TEXT NOT NULL, idx INTEGER NOT NULL, start REAL NOT NULL, end_ REAL NOT NULL,
    segments TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (digest, idx)
);
CREATE TABLE seen (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL
);
INSERT INTO files VALUES ('d0', 'old.wav', 'working', NULL, '[]', 0);
INSERT INTO chunks VALUES ('d0', 0, 0.0, 30.0, '[{"start": 1.0, "end": 2.0, "text": "hi"}]', 1);
INSERT INTO seen VALUES ('/inbox/old.wav', 10, 20, 'd0');
"""
OLD_POSTGRES = """
CREATE TABLE meeting_files (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    error TEXT, outputs TEXT, updated DOUBLE PRECISION NOT NULL
);
CREATE TABLE meeting_chunks (
    digest TEXT NOT NULL, idx INTEGER NOT NULL, start_ DOUBLE PRECISION NOT NULL,
    end_ DOUBLE PRECISION NOT NULL, segments TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (digest, idx)
);
INSERT INTO meeting_files VALUES ('d0', 'old.wav', 'working', NULL, '[]', 0);
INSERT INTO meeting_chunks VALUES
    ('d0', 0, 0.0, 30.0, '[{"start": 1.0, "end": 2.0, "text": "hi"}]', 1);
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh ledger on each backend: local SQLite, then the shared PostgreSQL one."""
    local = tmp_path / "meetings.sqlite3"
    if request.param == "sqlite":
        made: Ledger = Ledger(local)
    else:
        made = SharedLedger(request.getfixturevalue("postgres_url"), local)
    yield made
    made.close()


def _words(chunk: tuple[float, float, list[Segment]]) -> list[tuple]:
    return [s.words for s in chunk[2]]


def test_states_and_chunks_keep_the_same_contract_on_both_backends(ledger: Ledger) -> None:
    assert ledger.get("d1") is None and ledger.chunks("d1") == {} and ledger.runs("d1") == {}
    ledger.set_state("d1", "board.wav", "working")
    ledger.save_chunk("d1", 0, 0.0, 30.0, SAID)
    ledger.save_chunk("d1", 1, 29.0, 59.0, [])
    ledger.save_chunk("d1", 0, 0.0, 30.0, SAID)  # transcribed again: counted, not duplicated
    ledger.set_state("d1", "board.wav", "done", None, ["/notes/board.md"])
    entry = ledger.get("d1")
    assert entry is not None and (entry.state, entry.outputs) == ("done", ["/notes/board.md"])
    assert ledger.chunks("d1") == {0: (0.0, 30.0, SAID), 1: (29.0, 59.0, [])}
    assert ledger.runs("d1") == {0: 2, 1: 1}


def test_word_times_survive_the_ledger_on_both_backends(ledger: Ledger) -> None:
    ledger.save_chunk("d1", 0, 0.0, 30.0, SAID)
    assert _words(ledger.chunks("d1")[0]) == [WORDS, ()]


def test_an_old_sqlite_ledger_is_migrated_and_keeps_its_chunks(tmp_path: Path) -> None:
    path = tmp_path / "meetings.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SQLITE)
    ledger = Ledger(path)
    assert ledger.get("d0").state == "working"
    start, end, (hi,) = ledger.chunks("d0")[0]
    assert (start, end, hi.text, hi.words) == (0.0, 30.0, "hi", ())  # no word times were kept
    assert ledger.path_digest(Path("/inbox/old.wav")) == "d0"
    ledger.save_chunk("d0", 1, 29.0, 59.0, SAID)
    assert _words(ledger.chunks("d0")[1]) == [WORDS, ()]
    ledger.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (len(SQLITE_MIGRATIONS),)
    Ledger(path).close()  # opened again: nothing left to migrate


def test_an_old_ledger_opened_by_several_watchers_at_once_is_migrated_once(tmp_path: Path):
    path = tmp_path / "meetings.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SQLITE)
    opened: list[Ledger] = []
    errors: list[Exception] = []

    def open_it() -> None:
        try:
            opened.append(Ledger(path))
        except LedgerError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(opened) == 4
    assert all(ledger.chunks("d0")[0][2][0].text == "hi" for ledger in opened)
    for ledger in opened:
        ledger.close()


def test_an_old_shared_database_is_migrated_and_keeps_its_chunks(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as old:
        old.execute(OLD_POSTGRES)
    ledger = SharedLedger(postgres_url, tmp_path / "meetings.sqlite3")
    assert ledger.get("d0").state == "working"
    assert [s.text for s in ledger.chunks("d0")[0][2]] == ["hi"]
    ledger.save_chunk("d0", 1, 29.0, 59.0, SAID)
    assert _words(ledger.chunks("d0")[1]) == [WORDS, ()]
    ledger.close()


def test_a_ledger_that_is_not_a_database_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "meetings.sqlite3"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(LedgerError, match="Cannot open the meetings ledger"):
        Ledger(path)
    assert path.read_bytes() == b"this is not SQLite " * 100


def test_a_shared_ledger_whose_server_goes_away_fails_with_one_line(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    ledger = SharedLedger(postgres_url, tmp_path / "meetings.sqlite3")
    (pid,) = ledger.pg.execute("SELECT pg_backend_pid()").fetchone()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(LedgerError, match=r"^The meetings queue at .* failed: [^\n]*\.$"):
        ledger.save_chunk("d1", 0, 0.0, 30.0, SAID)
    ledger.close()
