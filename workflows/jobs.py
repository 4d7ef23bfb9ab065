"""Long-running jobs (watch, ingest, review): a board of JSON records the TUI supervises.

Every `gemloom watch|ingest|review` registers itself in `DATA_DIR/jobs/ID.json` with its pid,
so the TUI finds jobs started anywhere. Jobs the TUI starts run as `python -m gemloom ...` with
their output in `ID.log`, whose last line is their progress.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gemloom.atomic import write_atomic
from gemloom.errors import ExitCode, GemloomError
from gemloom.settings import Settings, load_settings

JOB_COMMANDS = ("watch", "ingest", "review")


@dataclass
class Job:
    """One job's record."""

    id: str
    kind: str
    argv: list[str]
    pid: int
    status: str = "running"
    """running, done, failed, stopped, or lost (its process vanished without a word, or its id
    now belongs to another process)."""
    exit_code: int | None = None
    started: float = field(default_factory=time.time)
    ended: float | None = None
    cwd: str = field(default_factory=os.getcwd)
    log: str | None = None
    error: str = ""
    pid_started: int | None = None
    """When that process started (clock ticks since boot), to tell it from a later one reusing
    its id; None where /proc is missing."""

    def outputs(self) -> list[Path]:
        """Notes and reports the job produced, newest first."""
        folder = _output_folder(self)
        if folder is None or not folder.exists():
            return []
        if folder.is_file():
            return [folder]
        found = [p for p in folder.glob("*.md") if p.stat().st_mtime >= self.started - 1]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def progress(self) -> str:
        """The last line the job printed, when its output is captured."""
        if not self.log or not Path(self.log).exists():
            return "" if self.status != "running" else "(output in its own terminal)"
        with open(self.log, "rb") as handle:
            handle.seek(max(0, os.path.getsize(self.log) - 4096))
            lines = [ln.strip() for ln in handle.read().decode(errors="replace").splitlines()]
        return next((ln for ln in reversed(lines) if ln), "")


def _option(argv: list[str], *names: str) -> str | None:
    for index, word in enumerate(argv[:-1]):
        if word in names:
            return argv[index + 1]
    return None


def _output_folder(job: Job) -> Path | None:
    args = [a for a in job.argv[1:] if not a.startswith("-")]
    base = Path(job.cwd)
    if job.kind == "review":
        target = _option(job.argv, "-o", "--output")
        return base / target if target else None
    if out := _option(job.argv, "--out"):
        return base / out
    if not args:
        return None
    if job.kind == "watch":
        return base / args[0] / "notes"
    return (base / args[0]).parent


class JobBoard:
    """The jobs folder in the data directory."""

    def __init__(self, settings: Settings | None = None):
        self.folder = (settings or load_settings()).data_dir / "jobs"

    def _path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def save(self, job: Job) -> None:
        """Write a record atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self._path(job.id), json.dumps(asdict(job)))

    def get(self, job_id: str) -> Job:
        """One record, with a vanished process marked as lost."""
        job = Job(**json.loads(self._path(job_id).read_text()))
        if job.status == "running" and not _alive(job.pid, job.pid_started):
            job.status = "lost"
        return job

    # Annotations below this method say `builtins.list`: in the class body `list` is this method.
    def list(self) -> list[Job]:
        """Every job, newest first."""
        if not self.folder.exists():
            return []
        jobs = []
        for path in self.folder.glob("*.json"):
            try:
                jobs.append(self.get(path.stem))
            except (OSError, ValueError, TypeError):
                continue  # a record being replaced or damaged: skip it, never crash the board
        return sorted(jobs, key=lambda j: j.started, reverse=True)

    def start(self, argv: builtins.list[str], cwd: Path | None = None) -> Job:
        """Run `gemloom ARGV...` in the background, its output in a log file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        job_id = uuid.uuid4().hex[:10]
        log = self.folder / f"{job_id}.log"
        # wide lines, so a progress line is one line of the log
        env = {**os.environ, "GEMLOOM_JOB_ID": job_id, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        with open(log, "wb") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "gemloom", *argv],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        job = Job(job_id, argv[0], argv, child.pid, pid_started=process_start(child.pid))
        job.cwd, job.log = str(cwd or os.getcwd()), str(log)
        self.save(job)
        return job

    def stop(self, job_id: str) -> None:
        """Ask a running job to finish its current step and exit (SIGTERM)."""
        job = self.get(job_id)
        if job.status == "running":
            os.kill(job.pid, signal.SIGTERM)

    def retry(self, job_id: str) -> Job:
        """Start the same command again."""
        job = self.get(job_id)
        return self.start(job.argv, Path(job.cwd))


def process_start(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (Linux /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after the last ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22, starttime


def _alive(pid: int, started: int | None = None) -> bool:
    """Whether the process is running and, when its start time is known, is the same process."""
    if started is not None and process_start(pid) not in (started, None):
        return False  # the id now belongs to a process that started later
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as ended
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@contextmanager
def registered(argv: list[str]) -> Iterator[Job | None]:
    """Record this process as a job while a watch/ingest/review command runs."""
    if not argv or argv[0] not in JOB_COMMANDS or "--help" in argv:
        yield None
        return
    board = JobBoard()
    job_id = os.environ.get("GEMLOOM_JOB_ID") or uuid.uuid4().hex[:10]
    try:
        job = board.get(job_id)
        job.pid, job.pid_started = os.getpid(), process_start(os.getpid())
    except (OSError, ValueError, TypeError):
        job = Job(job_id, argv[0], list(argv), os.getpid(), pid_started=process_start(os.getpid()))
    board.save(job)
    job.status, job.exit_code = "failed", int(ExitCode.FAILED)
    try:
        yield job
        job.status, job.exit_code = "done", int(ExitCode.OK)
    except SystemExit as exc:
        job.exit_code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        job.status = "done" if job.exit_code == 0 else "failed"
        raise
    except KeyboardInterrupt:
        job.status = "stopped"
        raise
    except GemloomError as exc:
        job.exit_code, job.error = int(exc.exit_code), str(exc)
        raise
    finally:
        job.ended = time.time()
        board.save(job)
