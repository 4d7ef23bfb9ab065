"""The sessions catalogue (`gemloom_sessions`): its columns, its rows, and a listing read
straight from SQLite, without LangGraph, the tools or the model client (`gemloom sessions
list` answers in well under a second: the full stack takes seconds to import)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("id", "title", "created", "updated", "parent", "parent_checkpoint", "workspace", "host")


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
