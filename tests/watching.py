"""`watch` in a thread, for the watcher tests: start it, stop it, read its ledger."""

from __future__ import annotations

import sqlite3
import threading
from io import StringIO
from pathlib import Path

from rich.console import Console

from gemloom.llm import LLM
from gemloom.workflows.meetings.ingest import watch
from gemloom.workflows.meetings.ledger import Ledger


class Watcher:
    """`watch` running in a thread; `stop()` ends it and returns its outcomes."""

    def __init__(self, folder: Path, out: Path, llm: LLM, **kwargs):
        self.folder, self.out, self.llm = folder, out, llm
        self.event = threading.Event()
        self.log = StringIO()
        self.outcomes: list = []
        self.thread = threading.Thread(target=self._run, kwargs=kwargs, daemon=True)
        self.thread.start()

    def _run(self, **kwargs) -> None:
        console = Console(file=self.log, width=200)
        self.outcomes = watch(
            self.folder, self.out, llm=self.llm, stop=self.event, console=console, **kwargs
        )

    def stop(self) -> list:
        self.event.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive()
        return self.outcomes

    def states(self) -> dict[str, str]:
        ledger = Ledger(self.llm.settings.data_dir / "meetings.sqlite3")
        rows = ledger.db.execute("SELECT name, state FROM files").fetchall()
        ledger.close()
        return dict(rows)

    def states_by_digest(self) -> dict[str, str]:
        ledger = Ledger(self.llm.settings.data_dir / "meetings.sqlite3")
        rows = ledger.db.execute("SELECT digest, state FROM files").fetchall()
        ledger.close()
        return dict(rows)


def chunk_runs(home: Path) -> dict[int, int]:
    """Chunk index -> how many times the ledger in `home` saw it transcribed (read while a
    child process may still be writing it)."""
    db = home / "meetings.sqlite3"
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            return dict(conn.execute("SELECT idx, runs FROM chunks").fetchall())
        except sqlite3.OperationalError:  # the child is still creating the tables
            return {}
