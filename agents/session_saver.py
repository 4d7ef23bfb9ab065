"""Session checkpointers that store each message of a conversation once.

LangGraph saves every step as a checkpoint of the whole state, the conversation included: a turn
of 200 tool steps with 3 KB results wrote a 135 MB SQLite database for a 0.6 MB conversation
(bench/session_growth.py). These savers keep a session's messages in a table of their own, one
row a message (keyed by a hash of its serialized form), and each checkpoint holds only their
keys, in order; what LangGraph gets back is the checkpoint as it was put.

The messages go in before the checkpoint that names them, so a process killed in between leaves
only unreferenced rows, never a checkpoint without its messages. Checkpoints saved before these
savers (whole lists) read as they always did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.sqlite import SqliteSaver

from gemloom.errors import GemloomError
from gemloom.messages import PerItem

REFS = "gemloom:messages"
"""The key of what a checkpoint stores in place of its message list: {REFS: [key, ...]},
each key the 16-byte blake2b digest of a message as serialized."""
CHANNEL = "messages"
_CHUNK = 500  # keys a query asks for at once
TABLE = """
create table if not exists gemloom_messages (
    thread_id text not null,
    key {blob} not null,
    kind text not null,
    value {blob} not null,
    primary key (thread_id, key)
)
"""
Row = tuple[str, bytes, str, bytes]  # thread id, key, serializer type, serialized message


class MessagesOnce:
    """Mixin for a LangGraph saver: a checkpoint's messages stored once per thread.

    The saver below it in the MRO does the rest; the subclass says how rows are written, read
    and deleted (`_insert`, `_fetch`, `_forget`).
    """

    serde: Any

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Per thread, the keys of the messages of its last checkpoint: a step's checkpoint
        # then serializes and inserts only the messages new since the last one (state is
        # never changed in place; a changed message is a new dict, a new key).
        self._known: dict[str, PerItem] = {}

    def _insert(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def _fetch(self, thread: str, keys: list[bytes]) -> list[tuple[bytes, str, bytes]]:
        raise NotImplementedError

    def _forget(self, thread: str) -> None:
        raise NotImplementedError

    def put(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:  # fmt: skip
        """Save the checkpoint with its messages as keys, after the messages themselves."""
        values = checkpoint.get("channel_values") or {}
        messages = values.get(CHANNEL)
        if not isinstance(messages, list) or not messages:
            return super().put(config, checkpoint, metadata, new_versions)  # type: ignore[misc]
        thread = str(config["configurable"]["thread_id"])
        known, rows = self._known.get(thread) or PerItem(), []

        def new(message: Any) -> bytes:
            kind, value = self.serde.dumps_typed(message)
            key = hashlib.blake2b(value, digest_size=16, person=kind.encode()[:16]).digest()
            rows.append((thread, key, kind, value))
            return key

        keys = known.values(messages, new)
        if rows:
            self._insert(rows)
        known.remember(messages, keys)  # only once inserted: a failed insert is tried again
        self._known[thread] = known
        stored = {**checkpoint, "channel_values": {**values, CHANNEL: {REFS: keys}}}
        return super().put(config, stored, metadata, new_versions)  # type: ignore[misc]

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint with its messages read back (new objects: what this process knew
        of the thread's messages is forgotten, so another process's changes cannot fool it)."""
        self._known.pop(str(config["configurable"].get("thread_id")), None)
        found = super().get_tuple(config)  # type: ignore[misc]
        return None if found is None else self._resolved(found, {})

    def list(
        self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None, limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:  # fmt: skip
        """The checkpoints, newest first, with their messages read back (each message once)."""
        # both savers yield while holding their lock: read them all first
        found = list(super().list(config, filter=filter, before=before, limit=limit))  # type: ignore[misc]
        seen: dict[tuple[str, bytes], Any] = {}
        for point in found:
            yield self._resolved(point, seen)

    def delete_thread(self, thread_id: str) -> None:
        """Delete the thread's checkpoints, writes and messages."""
        self._known.pop(str(thread_id), None)
        super().delete_thread(thread_id)  # type: ignore[misc]
        self._forget(str(thread_id))

    def _resolved(
        self, point: CheckpointTuple, seen: dict[tuple[str, bytes], Any]
    ) -> CheckpointTuple:
        values = point.checkpoint.get("channel_values") or {}
        refs = values.get(CHANNEL)
        if not (isinstance(refs, dict) and REFS in refs):
            return point  # saved before this saver: the whole list
        thread = str(point.config["configurable"]["thread_id"])
        keys: list[bytes] = [bytes(k) for k in refs[REFS]]
        wanted = sorted({k for k in keys if (thread, k) not in seen})
        for start in range(0, len(wanted), _CHUNK):
            for key, kind, value in self._fetch(thread, wanted[start : start + _CHUNK]):
                seen[(thread, bytes(key))] = self.serde.loads_typed((kind, value))
        missing = [k for k in keys if (thread, k) not in seen]
        if missing:
            raise GemloomError(
                f"Session {thread}: {len(missing)} message(s) of checkpoint "
                f"{point.config['configurable'].get('checkpoint_id')} are missing from the "
                "sessions database; fork the session from an earlier checkpoint."
            )
        messages = [seen[(thread, k)] for k in keys]
        checkpoint: Checkpoint = {
            **point.checkpoint,
            "channel_values": {**values, CHANNEL: messages},
        }
        return point._replace(checkpoint=checkpoint)


class MessageSaver(MessagesOnce, SqliteSaver):
    """The SQLite sessions saver: SqliteSaver with each message of a thread stored once."""

    def setup(self) -> None:
        """LangGraph's tables, then the message table (called under the saver's lock)."""
        if self.is_setup:
            return
        super().setup()
        self.conn.execute(TABLE.format(blob="blob"))
        self.conn.commit()

    def _insert(self, rows: list[Row]) -> None:
        with self.cursor() as cur:
            cur.executemany("insert or ignore into gemloom_messages values (?, ?, ?, ?)", rows)

    def _fetch(self, thread: str, keys: list[bytes]) -> list[tuple[bytes, str, bytes]]:
        marks = ", ".join("?" * len(keys))
        query = (
            "select key, kind, value from gemloom_messages "
            f"where thread_id = ? and key in ({marks})"
        )
        with self.cursor(transaction=False) as cur:
            return cur.execute(query, (thread, *keys)).fetchall()

    def _forget(self, thread: str) -> None:
        with self.cursor() as cur:
            cur.execute("delete from gemloom_messages where thread_id = ?", (thread,))


def postgres_saver(base: type) -> type:
    """PostgresSaver subclass `base` with each message of a thread stored once (the table is
    made with the sessions tables: `TABLE` with bytea)."""

    class PostgresMessages(MessagesOnce, base):
        """The PostgreSQL sessions saver."""

        def _insert(self, rows: list[Row]) -> None:
            query = "insert into gemloom_messages values (%s, %s, %s, %s) on conflict do nothing"
            # Committed without waiting for the disk: the checkpoint naming these rows commits
            # next, waiting for it, and a commit's wait covers every commit before it in the
            # log, so the rows are on disk whenever the checkpoint is (one fsync a step saved).
            with self._cursor() as cur, cur.connection.transaction():
                cur.execute("set local synchronous_commit = off")
                cur.executemany(query, rows)

        def _fetch(self, thread: str, keys: list[bytes]) -> list[tuple[bytes, str, bytes]]:
            query = (
                "select key, kind, value from gemloom_messages where thread_id = %s "
                "and key = any(%s)"
            )
            with self._cursor() as cur:
                cur.execute(query, (thread, keys))
                return [(bytes(r["key"]), r["kind"], bytes(r["value"])) for r in cur.fetchall()]

        def _forget(self, thread: str) -> None:
            with self._cursor(pipeline=True) as cur:
                cur.execute("delete from gemloom_messages where thread_id = %s", (thread,))

    return PostgresMessages
