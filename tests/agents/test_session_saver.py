"""The sessions savers (SQLite and PostgreSQL) store each message of a session once, and read
back exactly what LangGraph put, old checkpoints (whole message lists) included."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn, call
from langgraph.checkpoint.sqlite import SqliteSaver

from gemloom.agents.graph import AgentConfig, build_graph
from gemloom.agents.session_saver import MessageSaver
from gemloom.agents.sessions import Sessions
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.files.tools import TOOLS
from gemloom.tools.registry import Registry

STEPS = 6


@pytest.fixture
def sessions(fake_ollama: FakeOllama, workspace: Path, sessions_backend: str) -> Sessions:
    (workspace / "big.txt").write_text("".join(f"{uuid.uuid4().hex}\n" for _ in range(400)))
    settings = load_settings()
    llm = LLM(settings, retries=1, backoff=0.01)
    return Sessions(settings, llm=llm, workspace=workspace, config=AgentConfig(max_steps=20))


def many_steps(fake_ollama: FakeOllama) -> None:
    """STEPS reads of 50 lines of big.txt each (about 2 KB a result), then an answer."""
    reads = [
        Turn(tool_calls=[call("read_file", path="big.txt", start_line=1 + 50 * i,
                              end_line=50 * (i + 1))])
        for i in range(STEPS)
    ]  # fmt: skip
    fake_ollama.script(*reads, Turn("all read"))


def count(sessions: Sessions, table: str, column: str, text: str | None = None) -> int:
    """Rows of `table` (whose `column` holds `text`, if given), on either store."""
    if text is None:
        return sessions.store.sql(f"select count(*) from {table}")[0][0]
    if sessions.store.kind == "sqlite":
        where = f"instr({column}, ?) > 0"
    else:
        where = f"position(convert_to(?, 'UTF8') in {column}) > 0"
    return sessions.store.sql(f"select count(*) from {table} where {where}", (text,))[0][0]


def test_each_message_is_stored_once_however_many_checkpoints_hold_it(
    sessions: Sessions, fake_ollama: FakeOllama, workspace: Path
) -> None:
    many_steps(fake_ollama)
    sid = sessions.create()
    list(sessions.send(sid, "read it all"))
    messages = sessions.messages(sid)
    assert [m["role"] for m in messages].count("tool") == STEPS
    assert messages[-1]["content"] == "all read"
    first_line = (workspace / "big.txt").read_text().split("\n", 1)[0]
    where = (
        ("checkpoints", "checkpoint")
        if sessions.store.kind == "sqlite"
        else ("checkpoint_blobs", "blob")
    )
    assert count(sessions, "checkpoints", "") > 2 * STEPS  # every step saved, as before
    assert count(sessions, *where, first_line) == 0  # no checkpoint holds the first result...
    assert count(sessions, "gemloom_messages", "value", first_line) == 1  # ...its row does
    history = sessions.checkpoints(sid)  # every saved step reads back whole
    assert [p.messages for p in history] == sorted((p.messages for p in history), reverse=True)
    assert history[0].messages == len(messages)


def test_a_fork_from_a_step_in_the_middle_has_the_messages_of_that_step(
    sessions: Sessions, fake_ollama: FakeOllama
) -> None:
    many_steps(fake_ollama)
    sid = sessions.create()
    list(sessions.send(sid, "read it all"))
    middle = next(p for p in sessions.checkpoints(sid) if p.messages == 6)
    expected = sessions.messages(sid)[:6]
    fork = sessions.fork(sid, middle.id)
    assert sessions.messages(fork) == expected
    sessions.delete(sid)  # the fork keeps messages of its own
    assert sessions.messages(fork) == expected
    left = {row[0] for row in sessions.store.sql("select distinct thread_id from gemloom_messages")}
    assert left == {fork}


def plain_saver(sessions: Sessions):
    """LangGraph's own saver on the same store, as gemloom used it before (whole lists)."""
    if sessions.store.kind == "sqlite":
        path = sessions.settings.data_dir / "sessions.sqlite"
        return SqliteSaver(sqlite3.connect(path, check_same_thread=False))
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    url = sessions.settings.sessions_url
    return PostgresSaver(psycopg.connect(url, autocommit=True, row_factory=dict_row))


def test_sessions_saved_before_read_as_they_were_and_go_on(
    sessions: Sessions, fake_ollama: FakeOllama, workspace: Path
) -> None:
    sid = sessions.create()
    saver = plain_saver(sessions)
    old = build_graph(sessions.llm, Registry(TOOLS)).compile(checkpointer=saver)
    fake_ollama.script(Turn(tool_calls=[call("read_file", path="a.txt")]), Turn("alpha"))
    config = {"configurable": {"thread_id": sid}}
    old.invoke({"messages": [{"role": "user", "content": "read"}]}, config)  # whole lists
    saver.conn.close()
    assert count(sessions, "gemloom_messages", "value") == 0
    assert [m["role"] for m in sessions.messages(sid)] == ["user", "assistant", "tool", "assistant"]
    fake_ollama.script(Turn("beta"))
    list(sessions.send(sid, "and then?"))
    assert [m.get("content") for m in sessions.messages(sid)][-2:] == ["and then?", "beta"]


def test_a_checkpoint_put_that_fails_leaves_the_last_one_whole(
    sessions: Sessions, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_ollama.script(Turn("first answer"))
    sid = sessions.create()
    list(sessions.send(sid, "one"))
    before = sessions.messages(sid)

    def dies(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")  # after the messages went in

    monkeypatch.setattr(type(plain_saver(sessions)), "put", dies)
    fake_ollama.script(Turn("second answer"))
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        list(sessions.send(sid, "two"))
    monkeypatch.undo()
    assert sessions.messages(sid)[: len(before)] == before


def test_missing_messages_are_a_clear_error_not_a_shorter_history(
    sessions: Sessions, fake_ollama: FakeOllama
) -> None:
    fake_ollama.script(Turn("an answer"))
    sid = sessions.create()
    list(sessions.send(sid, "hello"))
    sessions.store.sql("delete from gemloom_messages where thread_id = ?", (sid,))
    with pytest.raises(GemloomError, match=r"message\(s\) of checkpoint .* are missing"):
        sessions.messages(sid)


def test_equal_messages_in_two_places_both_read_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite", check_same_thread=False)
    saver = MessageSaver(conn)
    same = {"role": "tool", "tool_name": "read_file", "content": "1: alpha"}
    messages = [
        {"role": "user", "content": "q"},
        same,
        dict(same),
        {"role": "user", "content": "q"},
    ]
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    checkpoint = {"v": 4, "id": "1", "ts": "", "channel_values": {"messages": messages},
                  "channel_versions": {}, "versions_seen": {}}  # fmt: skip
    saved = saver.put(config, checkpoint, {}, {})
    assert saver.get_tuple(saved).checkpoint["channel_values"]["messages"] == messages
    assert conn.execute("select count(*) from gemloom_messages").fetchone()[0] == 2


def test_messages_whose_insert_failed_go_in_with_the_next_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite", check_same_thread=False)
    saver = MessageSaver(conn)
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}

    def checkpoint(n: int, messages: list) -> dict:
        return {"v": 4, "id": str(n), "ts": "", "channel_values": {"messages": messages},
                "channel_versions": {}, "versions_seen": {}}  # fmt: skip

    first = [{"role": "user", "content": "q"}]
    saver.put(config, checkpoint(1, first), {}, {})
    grown = [*first, {"role": "assistant", "content": "a"}]
    insert = saver._insert

    def fails(rows: list) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(saver, "_insert", fails)
    with pytest.raises(sqlite3.OperationalError):
        saver.put(config, checkpoint(2, grown), {}, {})
    monkeypatch.setattr(saver, "_insert", insert)
    longer = [*grown, {"role": "user", "content": "more"}]  # the same objects, one more
    saved = saver.put(config, checkpoint(3, longer), {}, {})
    assert saver.get_tuple(saved).checkpoint["channel_values"]["messages"] == longer
    assert conn.execute("select count(*) from gemloom_messages").fetchone()[0] == 3
