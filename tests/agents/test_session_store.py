"""Sessions on PostgreSQL: choosing the store, its errors, and `gemloom sessions migrate`."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn, call

from gemloom.agents.approval import Action, Decision
from gemloom.agents.graph import AgentConfig
from gemloom.agents.session_store import PostgresStore, shown_url
from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.locks import Busy
from gemloom.settings import load_settings


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://gemloom:secret@127.0.0.1:{port}/gemloom"


def local_sessions(workspace: Path) -> Sessions:
    settings = load_settings(sessions_url=None)
    llm = LLM(settings, retries=1, backoff=0.01)
    return Sessions(settings, llm=llm, workspace=workspace, config=AgentConfig())


def server_sessions(url: str, workspace: Path) -> Sessions:
    settings = load_settings(sessions_url=url)
    llm = LLM(settings, retries=1, backoff=0.01)
    return Sessions(settings, llm=llm, workspace=workspace, config=AgentConfig())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unreachable_server_is_one_line_and_hides_the_password(
    fake_ollama, workspace, monkeypatch, capsys
) -> None:
    url = _dead_url()
    monkeypatch.setenv("GEMLOOM_SESSIONS_URL", url)
    assert main(["sessions", "list"]) == 1
    err = capsys.readouterr().err
    assert "Cannot reach the sessions server" in err and "GEMLOOM_SESSIONS_URL" in err
    assert "secret" not in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_a_url_that_is_not_postgresql_is_a_setting_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GEMLOOM_SESSIONS_URL", "mysql://me:hunter2@db/sessions")
    assert main(["sessions", "list"]) == 2
    err = capsys.readouterr().err
    assert "sessions_url" in err and "postgresql://" in err and "Traceback" not in err
    assert "hunter2" not in err and "mysql://me:***@db/sessions" in err


def test_sessions_url_in_the_config_file_picks_postgresql(
    fake_ollama, workspace, postgres_url, tmp_path, gemloom_home
) -> None:
    (tmp_path / "config.toml").write_text(f'sessions_url = "{postgres_url}"\n')
    sessions = Sessions(load_settings(), workspace=workspace)
    assert sessions.store.kind == "postgresql"
    sessions.create("from the file")
    assert [s.title for s in server_sessions(postgres_url, workspace).list()] == ["from the file"]
    assert not (gemloom_home / "sessions.sqlite").exists()


def test_shown_url_masks_only_the_password() -> None:
    assert shown_url("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert shown_url("postgresql://u@h/d") == "postgresql://u@h/d"


def test_a_missing_database_names_the_server(postgres) -> None:
    url = postgres.url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(GemloomError, match=r"Cannot reach the sessions server.*no_such_db"):
        PostgresStore(url)


def test_two_stores_set_up_one_database_and_share_sessions(
    fake_ollama: FakeOllama, workspace: Path, postgres_url: str
) -> None:
    first, second = (
        server_sessions(postgres_url, workspace),
        server_sessions(postgres_url, workspace),
    )
    fake_ollama.script(Turn("hello from the server"))
    session_id = first.create("shared")
    list(first.send(session_id, "hi"))
    assert [s.id for s in second.list()] == [session_id]  # another machine sees it
    assert second.messages(session_id)[-1]["content"] == "hello from the server"


def _local_history(fake_ollama: FakeOllama, workspace: Path) -> tuple[Sessions, list[str]]:
    """Three local sessions: a finished one, one waiting for approval, and a fork."""
    local = local_sessions(workspace)
    fake_ollama.script(
        Turn("first answer"),
        Turn(tool_calls=[call("write_text_file", path="w.txt", content="w")]),
    )
    done = local.create("done")
    list(local.send(done, "question one"))
    waiting = local.create("waiting")
    list(local.send(waiting, "write it"))
    assert local.awaiting(waiting)
    fork = local.fork(done)
    return local, [done, waiting, fork]


def test_migrate_copies_sessions_once_and_they_go_on_there(
    fake_ollama: FakeOllama, workspace: Path, postgres_url: str, gemloom_home: Path, capsys
) -> None:
    local, ids = _local_history(fake_ollama, workspace)
    before = {i: local.checkpoints(i) for i in ids}
    assert main(["sessions", "migrate", "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    total = sum(len(points) for points in before.values())
    assert f"Copied 3 of 3 sessions ({total} checkpoints)" in out

    server = server_sessions(postgres_url, workspace)
    assert sorted(s.id for s in server.list()) == sorted(ids)
    for session_id in ids:
        assert server.checkpoints(session_id) == before[session_id]
        assert server.messages(session_id) == local.messages(session_id)
        assert server.get(session_id) == local.get(session_id)
    assert server.awaiting(ids[1])["name"] == "write_text_file"  # the pending approval too

    assert main(["sessions", "migrate", "--to", postgres_url]) == 0  # again: nothing twice
    assert "Copied 0 of 3 sessions (0 checkpoints)" in (again := capsys.readouterr().out)
    assert "already there: 3." in again
    assert server.checkpoints(ids[0]) == before[ids[0]]

    fake_ollama.script(Turn("Written."))
    list(server.answer(ids[1], Decision(Action.APPROVE)))  # the session goes on on the server
    assert (workspace / "w.txt").read_text() == "w"
    assert local.awaiting(ids[1])  # the local copy is left as it was


def test_migrate_to_a_bad_server_changes_nothing_local(
    fake_ollama: FakeOllama, workspace: Path, gemloom_home: Path, capsys
) -> None:
    local, _ = _local_history(fake_ollama, workspace)
    local.store.close()
    path = gemloom_home / "sessions.sqlite"
    before = digest(path)
    assert main(["sessions", "migrate", "--to", _dead_url()]) == 1
    err = capsys.readouterr().err
    assert "Cannot reach the sessions server" in err and "Traceback" not in err
    assert main(["sessions", "migrate", "--to", "sqlite:///elsewhere"]) == 1
    assert "not a PostgreSQL URL" in capsys.readouterr().err
    assert digest(path) == before
    assert [s.id for s in local_sessions(workspace).list()] != []


def test_migrate_skips_a_session_in_use_and_says_so(
    fake_ollama: FakeOllama, workspace: Path, postgres_url: str, capsys
) -> None:
    local, ids = _local_history(fake_ollama, workspace)
    with local.held(ids[0]):
        assert main(["sessions", "migrate", "--to", postgres_url]) == 0
    captured = capsys.readouterr()
    assert f"Session {ids[0]} is in use" in captured.err
    assert "Copied 2 of 3 sessions" in captured.out and "in use, skipped: 1" in captured.out
    assert main(["sessions", "migrate", "--to", postgres_url]) == 0  # finished afterwards
    assert "Copied 1 of 3 sessions" in capsys.readouterr().out


def test_migrate_with_no_local_sessions(postgres_url: str, gemloom_home: Path, capsys) -> None:
    assert main(["sessions", "migrate", "--to", postgres_url]) == 0
    assert "Copied 0 of 0 sessions" in capsys.readouterr().out
    assert not (gemloom_home / "sessions.sqlite").exists()


@pytest.fixture
def own_postgres():
    """A server of this test's own, to stop and start again without disturbing the others."""
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


def test_a_server_outage_is_one_line_and_the_session_goes_on_after_it(
    fake_ollama: FakeOllama, workspace: Path, own_postgres, capsys, caplog, monkeypatch
) -> None:
    monkeypatch.setenv("GEMLOOM_SESSIONS_URL", own_postgres.url)
    sessions = server_sessions(own_postgres.url, workspace)
    fake_ollama.script(Turn("before the outage"))
    session_id = sessions.create("outage")
    list(sessions.send(session_id, "one"))

    capsys.readouterr()
    own_postgres.pause()
    with pytest.raises(GemloomError, match="Lost the sessions server") as caught:
        sessions.messages(session_id)
    assert "\n" not in str(caught.value) and "sessions resume" in str(caught.value)
    with pytest.raises(GemloomError, match="Cannot reach the sessions server"):
        list(sessions.send(session_id, "two"))  # once lost, each call tries a new connection
    assert main(["sessions", "show", session_id]) == 1  # a new process cannot connect at all
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Cannot reach the sessions server" in lines[0]
    assert not [r for r in caplog.records if r.name.startswith("psycopg")]  # no reconnect noise

    own_postgres.resume()
    fake_ollama.script(Turn("after the outage"))
    list(sessions.send(session_id, "two"))  # the same object: the pool reconnects
    contents = [m["content"] for m in sessions.messages(session_id)][1:]
    assert contents == ["one", "before the outage", "two", "after the outage"]


def test_the_holder_is_named_only_while_it_holds(fake_ollama, workspace, postgres_url) -> None:
    sessions = server_sessions(postgres_url, workspace)
    session_id = sessions.create("held")
    query = "select holder from gemloom_session_holders where id = ?"
    with sessions.held(session_id):
        assert f'"pid": {os.getpid()}' in sessions.store.sql(query, (session_id,))[0][0]
        with pytest.raises(Busy, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            list(server_sessions(postgres_url, workspace).resume(session_id))
    assert sessions.store.sql(query, (session_id,)) == []


def test_a_hold_gives_its_lock_back_before_its_connection_is_gone(
    fake_ollama, workspace, postgres_url, monkeypatch
) -> None:
    """The server frees a closed connection's locks only once it sees the socket close: a
    hold right after, from another connection, must not depend on that."""
    from gemloom.agents import session_store

    real_connect, kept = session_store.connect, []

    def lingering(url, **options):  # a close() held back, as by a slow server backend
        conn = real_connect(url, **options)
        kept.append(conn)
        monkeypatch.setattr(conn, "close", lambda: None)
        return conn

    sessions = server_sessions(postgres_url, workspace)
    session_id = sessions.create("handed on")
    monkeypatch.setattr(session_store, "connect", lingering)
    try:
        with sessions.held(session_id):
            pass
        assert kept and not kept[0].closed  # the first hold's connection is still open
        with server_sessions(postgres_url, workspace).held(session_id):  # not Busy
            pass
    finally:
        for conn in kept:
            type(conn).close(conn)


def test_a_migration_that_stopped_midway_is_finished_by_the_next(
    fake_ollama: FakeOllama, workspace: Path, postgres_url: str, capsys
) -> None:
    from gemloom.agents.session_migrate import _copy_checkpoint

    local, ids = _local_history(fake_ollama, workspace)
    server = server_sessions(postgres_url, workspace)
    oldest = list(local.checkpointer.list({"configurable": {"thread_id": ids[0]}}))[-1]
    _copy_checkpoint(server.checkpointer, oldest)  # as if killed after one checkpoint
    total = sum(len(local.checkpoints(i)) for i in ids)
    assert main(["sessions", "migrate", "--to", postgres_url]) == 0
    assert f"Copied 3 of 3 sessions ({total - 1} checkpoints)" in capsys.readouterr().out
    assert server.checkpoints(ids[0]) == local.checkpoints(ids[0])


def test_a_lock_connection_has_short_keepalives(fake_ollama, workspace, postgres_url) -> None:
    from gemloom.agents.session_store import connect

    sessions = server_sessions(postgres_url, workspace)
    conn = connect(postgres_url)
    try:
        sessions.store._take(conn, sessions.create("kept alive"))
        shown = conn.execute("show tcp_keepalives_idle").fetchone()["tcp_keepalives_idle"]
        assert shown in ("30", "30s")  # a vanished holder frees the session in about a minute
    finally:
        conn.close()
