"""`gemloom sessions migrate`: copy the local SQLite sessions into a PostgreSQL server.

Checkpoints go through the savers' own put/put_writes, oldest first so each keeps its parent;
one already on the server (same thread and checkpoint id) is skipped, and a session's catalogue
row is written after its checkpoints, so a run that stops midway is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from gemloom.agents.session_catalogue import COLUMNS
from gemloom.agents.session_store import PostgresStore, SqliteStore
from gemloom.errors import GemloomError
from gemloom.locks import Busy
from gemloom.settings import Settings


@dataclass
class Copied:
    """What happened to one session."""

    session_id: str
    checkpoints: int  # copied now
    skipped: int  # already on the server
    new: bool  # its catalogue row was added now
    busy: str = ""  # why it was left alone, when another process runs it


def _copy_checkpoint(target: BaseCheckpointSaver, point: CheckpointTuple) -> None:
    thread = point.config["configurable"]
    parent = point.parent_config or {
        "configurable": {"thread_id": thread["thread_id"], "checkpoint_ns": thread["checkpoint_ns"]}
    }
    checkpoint = point.checkpoint
    saved = target.put(
        parent, checkpoint, point.metadata, dict(checkpoint.get("channel_versions", {}))
    )
    tasks: dict[str, list[tuple[str, object]]] = {}
    for task_id, channel, value in point.pending_writes or ():
        tasks.setdefault(task_id, []).append((channel, value))
    for task_id, writes in tasks.items():
        target.put_writes(saved, writes, task_id)


def copy_session(source: SqliteStore, target: PostgresStore, session_id: str) -> Copied:
    """Copy one session's missing checkpoints, then its catalogue row."""
    config: RunnableConfig = {"configurable": {"thread_id": session_id}}
    points = list(source.checkpointer.list(config))[::-1]  # oldest first
    copied = skipped = 0
    for point in points:
        if target.checkpointer.get_tuple(point.config) is not None:
            skipped += 1
            continue
        _copy_checkpoint(target.checkpointer, point)
        copied += 1
    rows = source.sql(
        f"select {', '.join(COLUMNS)} from gemloom_sessions where id = ?", (session_id,)
    )
    placeholders = ", ".join("?" for _ in COLUMNS)
    added = target.sql(
        f"insert into gemloom_sessions ({', '.join(COLUMNS)}) values ({placeholders}) "
        "on conflict (id) do nothing returning id",
        rows[0],
    )
    return Copied(session_id, copied, skipped, bool(added))


def local_store(settings: Settings) -> SqliteStore | None:
    """The local SQLite store, or None when this machine has none (nothing is created)."""
    path = settings.data_dir / "sessions.sqlite"
    if not path.is_file():
        return None
    return SqliteStore(path, settings.data_dir / "locks")


def migrate(settings: Settings, url: str) -> Iterator[Copied | int]:
    """Copy every local session to `url`: first yields the count, then one Copied per session.

    The server is reached (and set up) before the local file is opened, so a bad URL or a
    server that does not answer changes nothing here.
    """
    if not url.startswith(("postgresql://", "postgres://")):
        raise GemloomError(
            f"--to {url!r} is not a PostgreSQL URL: use postgresql://user:password@host:port/db."
        )
    target = PostgresStore(url)
    try:
        source = local_store(settings)
        if source is None:
            yield 0
            return
        try:
            ids = [row[0] for row in source.sql("select id from gemloom_sessions order by created")]
            yield len(ids)
            for session_id in ids:
                yield _copy_held(source, target, session_id)
        finally:
            source.close()
    finally:
        target.close()


def _copy_held(source: SqliteStore, target: PostgresStore, session_id: str) -> Copied:
    """Copy a session while holding its local lock, so no run changes it meanwhile."""
    try:
        with source.hold(session_id):
            return copy_session(source, target, session_id)
    except Busy as exc:
        return Copied(session_id, 0, 0, False, busy=str(exc))
