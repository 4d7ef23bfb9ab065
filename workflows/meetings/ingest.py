"""Meeting recordings to notes: `ingest` one file, or `watch` a folder (commands in gemloom/cli)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from gemloom.llm import LLM
    from gemloom.tools.audio.notes import NoteItem
    from gemloom.workflows.meetings.pipeline import MeetingJob, Outcome
    from gemloom.workflows.meetings.queue import Queue

LEDGER = "meetings.sqlite3"


def _job(
    out: Path,
    llm: LLM | None,
    stop: threading.Event | None,
    remember,
    quarantine_bad,
    forget=None,
    template: str | None = None,
    beside: Callable[[], None] | None = None,
):
    from gemloom.llm import LLM
    from gemloom.tools.audio.templates import load_template
    from gemloom.workflows.meetings.ledger import open_ledger
    from gemloom.workflows.meetings.pipeline import MeetingJob, ensure_writable

    llm = llm or LLM()
    folders = {
        Path(k).expanduser(): f.template for k, f in llm.settings.watch.items() if f.template
    }
    for name in {template, llm.settings.meeting_template, *folders.values()} - {None}:
        load_template(name)  # an unknown or broken template fails here, before any work
    ensure_writable(out)
    ledger = open_ledger(llm.settings, llm.settings.data_dir / LEDGER)
    return MeetingJob(
        llm,
        ledger,
        out,
        stop or threading.Event(),
        remember=remember,
        forget=forget,
        beside=beside,
        quarantine_bad=quarantine_bad,
        speakers=llm.settings.speakers,
        template=template,
        folders=folders,
        default_template=llm.settings.meeting_template,
    )


@contextmanager
def _progress(job: MeetingJob, console: Console | None, name: str) -> Iterator[None]:
    """A rich progress line for one file: decode, transcribe chunk k/n, summarise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"{name}: queued", total=None)

        def report(text: str, done: int | None, total: int | None) -> None:
            bar.update(task, description=f"{name}: {text}", completed=done or 0, total=total)

        job.progress = report
        yield


def _handle(path: Path, job: MeetingJob, console: Console | None) -> Outcome:
    from gemloom.workflows.meetings.pipeline import run

    with _progress(job, console, path.name):
        outcome = run(path, job)
    say(outcome, console, path.name)
    return outcome


def say(outcome: Outcome, console: Console | None = None, name: str = "") -> None:
    """The outcome's line, `status: [name: ]message`: one line however long its paths (the
    terminal wraps it, a pipe or a log keeps it whole), names like [markup] as they are."""
    from rich.console import Console
    from rich.markup import escape

    style = {"done": "green", "duplicate": "cyan", "stopped": "yellow"}.get(outcome.status, "red")
    said = escape(f"{name}: {outcome.message}" if name else outcome.message)
    (console or Console()).print(
        f"[{style}]{outcome.status}[/]: {said}", highlight=False, soft_wrap=True
    )


def recording(file: Path | str) -> Path:
    """The file as a Path, or the clear error when it is missing or cannot be a recording
    (`decode.preflight`): checked before the model, the memory or the pipeline is loaded."""
    from gemloom.tools.audio.decode import AudioError, preflight

    file = Path(file)
    if not file.is_file():
        raise AudioError(f"{file} is not a file.")
    preflight(file)
    return file


def ingest(
    file: Path,
    out: Path | None = None,
    *,
    llm: LLM | None = None,
    stop: threading.Event | None = None,
    console: Console | None = None,
    remember: Callable[[NoteItem], None] | None = None,
    force: bool = False,
    forget: Callable[[str], None] | None = None,
    template: str | None = None,
    progress: Callable[[str, int | None, int | None], None] | None = None,
    beside: Callable[[], None] | None = None,
) -> Outcome:
    """Notes, transcript and subtitles for one recording; bad files raise a clear error.

    A recording already done is not processed again unless `force`: then its notes are made
    again (with the model of `llm`) from the transcript the ledger kept, replacing the old ones,
    with the template they were made with unless `template` names another.
    `progress(step, done, total)` hears each step instead of the console's progress bar;
    `beside()` is called as the transcription starts (slow set-up that can run beside it).
    """
    file = recording(file)
    from gemloom.workflows.meetings.pipeline import Outcome, StopRequested, process

    job = _job(Path(out or file.parent), llm, stop, remember, False, forget, template, beside)
    try:
        with _progress(job, console, file.name):
            job.progress = progress or job.progress
            return process(file, job, force)
    except StopRequested as exc:
        return Outcome("stopped", file, f"{exc}; run ingest again to resume")
    finally:
        job.close()


def regenerate(
    file: Path,
    out: Path | None = None,
    *,
    llm: LLM | None = None,
    console: Console | None = None,
    remember: Callable[[NoteItem], None] | None = None,
    forget: Callable[[str], None] | None = None,
    template: str | None = None,
    progress: Callable[[str, int | None, int | None], None] | None = None,
) -> Outcome:
    """Make a finished recording's notes again, keeping its transcript and its template."""
    return ingest(
        file, out, llm=llm, console=console, force=True, template=template,
        remember=remember, forget=forget, progress=progress,
    )  # fmt: skip


def watch(
    directory: Path,
    out: Path | None = None,
    recursive: bool = False,
    *,
    llm: LLM | None = None,
    stop: threading.Event | None = None,
    console: Console | None = None,
    remember: Callable[[NoteItem], None] | None = None,
    close_events: bool | None = None,
    quiet: float | None = None,
    forget: Callable[[str], None] | None = None,
    template: str | None = None,
) -> list[Outcome]:
    """Process every complete recording that is or arrives in `directory`, until stopped.

    `quiet` is the settle time in seconds (default: the `watch_settle_seconds` setting).
    `template` is used for every file; else a `[watch."FOLDER"]` setting's, else the default.
    """
    from gemloom.workflows.meetings.queue import work
    from gemloom.workflows.meetings.watch import (
        Candidates,
        WatchError,
        existing,
        folder_to_watch,
        has_close_events,
        start_observer,
    )

    directory = folder_to_watch(directory)
    out = Path(out or directory / "notes")
    job = _job(out, llm, stop, remember, True, forget, template)
    closes = has_close_events() if close_events is None else close_events
    quiet = job.llm.settings.watch_settle_seconds if quiet is None else quiet
    candidates = Candidates(directory, out, recursive)
    queue = _queue(job, directory)
    try:
        observer = start_observer(candidates, closes, quiet)
    except WatchError:
        job.close()
        if queue:
            queue.close()
        raise
    for path in existing(candidates):  # arrived while we were down, or mid-copy right now
        if not _already_done(job, path):
            candidates.offer(str(path), quiet)
    outcomes: list[Outcome] = []
    try:
        while not job.stop.wait(0.1):
            ready = candidates.ready(quiet)
            if queue:  # shared with other watchers: each recording goes to one of them
                outcomes += work(queue, job.ledger, ready, lambda p: _handle(p, job, console))
                continue
            for path in ready:
                outcomes.append(_handle(path, job, console))
                if job.stop.is_set():
                    break
    finally:
        observer.stop()
        observer.join(timeout=5)
        job.close()
        if queue:
            queue.close()
    return outcomes


def _queue(job: MeetingJob, directory: Path) -> Queue | None:
    """The shared queue when `queue_url` is set (GEMLOOM_QUEUE_URL), else None."""
    from gemloom.workflows.meetings.queue import Queue

    settings = job.llm.settings
    if not settings.queue_url:
        return None
    try:
        return Queue(settings.queue_url, directory, settings.queue_lease_seconds)
    except BaseException:
        job.close()
        raise


def _already_done(job: MeetingJob, path: Path) -> bool:
    """Whether this very path, unchanged, was processed before (no need to hash it again)."""
    digest = job.ledger.known_digest(path)
    record = job.ledger.get(digest) if digest else None
    return record is not None and record.state == "done"


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl-C, so the current chunk is checkpointed before exit.

    A second signal raises KeyboardInterrupt at once (the finished chunks are already saved).
    """
    stop = threading.Event()

    def handler(*_: object) -> None:
        if stop.is_set():  # asked twice: stop now, without waiting for the chunk
            raise KeyboardInterrupt
        stop.set()

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
