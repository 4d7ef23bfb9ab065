"""The sessions catalogue (`gemloom_sessions`): its columns, its rows, and a listing read
straight from SQLite, without LangGraph, the tools or the model client (`gemloom sessions
list` answers in well under a second: the full stack takes seconds to import)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gemloom.errors import GemloomError

if TYPE_CHECKING:
    from gemloom.settings import Settings

COLUMNS = ("id", "title", "created", "updated", "parent", "parent_checkpoint", "workspace", "host")


class SessionNotFound(GemloomError):
    """No session has that id."""

    def __init__(self, session_id: str):
        super().__init__(f"No session '{session_id}': `gemloom sessions list` shows them.")


@dataclass
class SessionInfo:
    """One row of `gemloom sessions list`."""

    id: str
    title: str
    created: float
    updated: float
    parent: str | None = None
    parent_checkpoint: str | None = None
    workspace: str | None = None  # None for sessions made before workspaces were recorded
    host: str | None = None  # the Ollama server it runs on, when several are configured


def listed(path: Path) -> list[SessionInfo] | None:
    """Every session of the SQLite catalogue at `path`, most recently used first: [] when
    there is no database yet. None when it must be opened as a store instead (a catalogue
    from before a column was added, a damaged file: the store migrates it, or says what is
    wrong)."""
    if not path.exists():
        return []
    query = f"select {', '.join(COLUMNS)} from gemloom_sessions order by updated desc"
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            rows = conn.execute(query).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return [SessionInfo(*row) for row in rows]


def sqlite_listed(settings: Settings) -> list[SessionInfo] | None:
    """`listed` of the settings' SQLite catalogue; None with PostgreSQL (sessions_url set)."""
    return None if settings.sessions_url else listed(settings.data_dir / "sessions.sqlite")


def refuse_unknown(session_id: str) -> None:
    """SessionNotFound at once when SQLite's catalogue can be read and lacks the session, so
    a command says so before it loads the agent stack; else (PostgreSQL, a catalogue the store
    must open) the store decides later, as it always did."""
    from gemloom.settings import load_settings

    found = sqlite_listed(load_settings())
    if found is not None and all(info.id != session_id for info in found):
        raise SessionNotFound(session_id)
