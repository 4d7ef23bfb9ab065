"""Meeting notes made again from their kept transcript: /regenerate and the jobs screen's `g`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from gemloom.errors import GemloomError

if TYPE_CHECKING:
    from gemloom.settings import Settings


class TranscriptMissing(GemloomError):
    """A recording has no kept transcript to make notes from."""


def check_transcript(recording: Path, settings: Settings) -> None:
    """Raise a clear error unless the ledger keeps a transcript of this recording."""
    from gemloom.workflows.meetings.ingest import LEDGER
    from gemloom.workflows.meetings.ledger import Ledger, content_hash

    if not recording.is_file():
        raise TranscriptMissing(f"{recording} is not a file: give the recording's path.")
    ledger = Ledger(settings.data_dir / LEDGER)
    try:
        digest = ledger.known_digest(recording) or content_hash(recording)
        if not ledger.chunks(digest):
            raise TranscriptMissing(
                f"No transcript of {recording.name} is kept: ingest it first (/watch, or "
                f"`gemloom ingest {recording}`); regenerate only remakes notes from a transcript."
            )
    finally:
        ledger.close()


def recording_of(job: Any, notes: Path) -> Path | None:
    """The recording a watch job made these notes from (found by the name the notes keep)."""
    try:
        source = json.loads(notes.with_suffix(".json").read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folders = [a for a in job.argv[1:] if not a.startswith("-")]
    if job.kind != "watch" or not folders:
        return None
    watched = Path(job.cwd) / folders[0]
    direct = watched / source
    if direct.is_file():
        return direct
    return next((p for p in watched.rglob(source) if p.is_file()), None)


class RegenerateCommands:
    """Mixin for GemloomApp: remake a meeting's notes in a worker, with progress on screen."""

    async def slash_regenerate(self: Any, arguments: str) -> None:
        """/regenerate RECORDING [--out DIR]."""
        words = arguments.split()
        if not words:
            self.notify(
                "Usage: /regenerate RECORDING [--out DIR] (or `g` on a job in /jobs)",
                severity="warning",
            )
            return
        out = Path(words[2]) if len(words) > 2 and words[1] == "--out" else None
        recording = Path(words[0]).expanduser()
        self.regenerate_meeting(self.workspace / recording, out)  # an absolute path stays

    @work(thread=True, exclusive=True, group="regenerate")
    def regenerate_meeting(self: Any, recording: Path, out: Path | None = None) -> None:
        """Make a recording's notes again from its transcript, showing each step."""
        from rich.console import Console

        from gemloom.llm import LLM
        from gemloom.workflows.meetings.ingest import regenerate

        def progress(step: str, done: int | None, total: int | None) -> None:
            count = f" {done}/{total}" if total else ""
            self.call_from_thread(self.show_activity, f"⟳ {recording.name}: {step}{count}")

        try:
            check_transcript(recording, self.settings)
            progress("starting", None, None)
            hooks = _memory_hooks(self)
            quiet = Console(file=io.StringIO())  # the TUI owns the terminal
            llm = LLM(self.settings)
            llm.on_failover = self.failed_over  # a line in the chat, not on the TUI's stderr
            outcome = regenerate(recording, out, llm=llm, console=quiet, progress=progress, **hooks)
        except GemloomError as exc:
            self.call_from_thread(self.show_activity, "")
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        self.call_from_thread(self.show_activity, "")
        where = f": {outcome.outputs[0]}" if outcome.outputs else ""
        text = f"Notes of {recording.name} made again ({outcome.status}){where}"
        severity = "information" if outcome.status == "done" else "warning"
        self.call_from_thread(self.notify, text, severity=severity)


def _memory_hooks(app: Any) -> dict[str, Any]:
    """remember/forget hooks on the app's memory store; none (and a warning) without one."""
    from gemloom.workflows.remember import meeting_forget_hook, meeting_hook
    from gemloom.workflows.tui.memory import _store

    if app.sessions is None:
        return {}
    try:
        store = _store(app)
    except GemloomError as exc:
        app.call_from_thread(app.notify, f"Not updating memory: {exc}", severity="warning")
        return {}
    return {"remember": meeting_hook(store), "forget": meeting_forget_hook(store)}
