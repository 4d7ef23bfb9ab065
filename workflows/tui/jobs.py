"""The jobs screen: meeting watchers and review runs, started here or found running."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Markdown

from gemloom.workflows.jobs import JobBoard
from gemloom.workflows.tui.screens import MODAL_CSS, titled

if TYPE_CHECKING:
    from gemloom.workflows.tui.app import GemloomApp

MAX_NOTE_CHARS = 50_000


class NotesScreen(ModalScreen[None]):
    """A produced note or report, rendered."""

    DEFAULT_CSS = MODAL_CSS.format(name="NotesScreen")
    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        """The file shown."""

    def compose(self) -> ComposeResult:
        text = self.path.read_text(errors="replace")[:MAX_NOTE_CHARS]
        with titled("Notes", "↑↓ scroll · esc close"):
            yield Label(str(self.path), markup=False)
            yield Markdown(text)

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(None)


class JobsScreen(ModalScreen[None]):
    """Every job with its status and progress; retry, stop, open its notes."""

    DEFAULT_CSS = MODAL_CSS.format(name="JobsScreen")
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("r", "retry", "Retry"),
        Binding("s", "stop", "Stop"),
        Binding("o", "open", "Open notes"),
        Binding("g", "regenerate", "Regenerate notes"),
    ]

    def __init__(self, board: JobBoard):
        super().__init__()
        self.board = board
        """Where the job records live."""

    def compose(self) -> ComposeResult:
        with titled("Jobs", "r retry · s stop · o open notes · g regenerate notes · esc close"):
            yield Label("Meeting watchers and review runs (started here or found running):")
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("job", "kind", "status", "started", "progress / error", "notes")
        self.refresh_jobs()
        table.focus()
        self.set_interval(1.0, self.refresh_jobs)

    def refresh_jobs(self) -> None:
        """Reload the records, keeping the cursor on the same row."""
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for job in self.board.list():
            started = time.strftime("%H:%M:%S", time.localtime(job.started))
            detail = job.error or job.progress()
            status = job.status if job.exit_code is None else f"{job.status} ({job.exit_code})"
            table.add_row(
                job.id, job.kind, status, started, detail[:60], str(len(job.outputs())), key=job.id
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def action_retry(self) -> None:
        """Run the selected job's command again."""
        if job_id := self._selected():
            self.board.retry(job_id)
            self.refresh_jobs()
            self.notify("Started again.")

    def action_stop(self) -> None:
        """Ask the selected job to finish its current step and stop."""
        if job_id := self._selected():
            self.board.stop(job_id)
            self.notify("Asked the job to stop.")

    @on(DataTable.RowSelected)
    def action_open(self, _: Any = None) -> None:
        """Show the newest note or report of the selected job."""
        job_id = self._selected()
        outputs = self.board.get(job_id).outputs() if job_id else []
        if not outputs:
            self.notify("No notes from this job yet.", severity="warning")
            return
        self.app.push_screen(NotesScreen(outputs[0]))

    def action_regenerate(self) -> None:
        """Make the selected watch job's newest notes again from their transcript."""
        from gemloom.workflows.tui.regenerate import recording_of

        job = self.board.get(job_id) if (job_id := self._selected()) else None
        outputs = job.outputs() if job else []
        recording = recording_of(job, outputs[0]) if outputs else None
        if recording is None:
            self.notify(
                "No meeting notes of a watch job here to regenerate (/regenerate RECORDING "
                "takes any ingested recording).",
                severity="warning",
            )
            return
        self.dismiss(None)  # the progress shows under the chat
        cast("GemloomApp", self.app).regenerate_meeting(recording, outputs[0].parent)

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(None)


def start_job(app: Any, kind: str, arguments: str) -> None:
    """Start `gemloom KIND ARGUMENTS` as a job and show the jobs screen."""
    words = shlex.split(arguments)
    if not words:
        app.notify(f"Usage: /{kind} PATH [options]", severity="warning")
        return
    board = JobBoard(app.settings)
    board.start([kind, *words], app.workspace)
    app.push_screen(JobsScreen(board))
