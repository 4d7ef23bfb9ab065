"""What processing a recording needs (a MeetingJob) and what became of it (an Outcome)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gemloom.tools.audio.speakers import speakers_enabled
from gemloom.tools.audio.templates import DEFAULT
from gemloom.tools.audio.transcribe import Transcriber, make_transcriber
from gemloom.workflows.meetings.ledger import Ledger, LedgerError

if TYPE_CHECKING:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from gemloom.llm import LLM
    from gemloom.tools.audio.notes import NoteItem

Progress = Callable[[str, int | None, int | None], None]
CHECKPOINTS = "meetings-graph.sqlite3"  # the pipeline graph's checkpoints, in the data directory


def quiet(text: str, done: int | None = None, total: int | None = None) -> None:
    """Progress that goes nowhere (the default)."""


class StopRequested(Exception):
    """A stop was requested; the finished chunks are checkpointed."""


@dataclass
class Outcome:
    """What became of one recording."""

    status: str  # done, duplicate, empty, quarantined, stopped or failed
    path: Path
    message: str
    outputs: list[Path] = field(default_factory=list)


@dataclass
class MeetingJob:
    """Everything processing needs besides the recording itself."""

    llm: LLM
    ledger: Ledger
    out: Path
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Progress = quiet
    remember: Callable[[NoteItem], None] | None = None
    forget: Callable[[str], None] | None = None  # drops what `remember` stored for a digest
    beside: Callable[[], None] | None = None  # called once as the transcription starts
    transcriber: Transcriber | None = None
    quarantine_bad: bool = True  # the watcher moves bad files aside; `ingest` reports them
    speakers: int | None = None  # how many people speak; None detects it
    template: str | None = None  # notes template chosen for every file (ingest --template)
    folders: dict[Path, str] = field(default_factory=dict)  # template per watched folder
    default_template: str = DEFAULT
    _saver: SqliteSaver | None = field(default=None, repr=False)

    def hear(self) -> Transcriber:
        """The transcriber, made on first use (loading Whisper takes a moment)."""
        if self.transcriber is None:
            self.transcriber = make_transcriber(self.llm, words=speakers_enabled())
        return self.transcriber

    def saver(self) -> SqliteSaver:
        """The graph's SQLite checkpointer in the data directory, opened on first use."""
        if self._saver is None:
            from langgraph.checkpoint.sqlite import SqliteSaver

            path = self.llm.settings.data_dir / CHECKPOINTS
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
                conn.execute("pragma journal_mode=wal")
                conn.execute("pragma synchronous=normal")  # survives a kill, not a power cut
            except (OSError, sqlite3.Error) as exc:
                raise LedgerError(f"Cannot open the meetings checkpoints {path}: {exc}.") from None
            self._saver = SqliteSaver(conn)
        return self._saver

    def close(self) -> None:
        """Close the ledger and the checkpoints."""
        self.ledger.close()
        if self._saver is not None:
            self._saver.conn.close()
            self._saver = None
