import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemloom.cli import main
from gemloom.workflows.jobs import Job, JobBoard, process_start


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_a_failing_command_is_recorded_with_its_error(fake_ollama, tmp_path, capsys) -> None:
    bogus = tmp_path / "shot.png"
    bogus.write_text("not an image")
    assert main(["review", str(bogus)]) == 2
    (job,) = JobBoard().list()
    assert (job.kind, job.status, job.exit_code, job.pid) == ("review", "failed", 2, os.getpid())
    assert job.pid_started == process_start(os.getpid()) is not None
    assert "shot.png" in job.error and job.ended is not None


def test_help_and_other_commands_are_not_jobs(fake_ollama) -> None:
    assert main(["watch", "--help"]) == 0
    assert main(["doctor"]) == 0
    assert JobBoard().list() == []


def test_start_stop_and_retry_a_watcher(fake_ollama, tmp_path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    board = JobBoard()
    job = board.start(["watch", str(folder), "--out", str(tmp_path / "notes")], tmp_path)
    wait_for(lambda: "watching" in board.get(job.id).progress())
    assert board.get(job.id).status == "running"
    assert board.get(job.id).pid_started == process_start(job.pid) is not None
    board.stop(job.id)
    wait_for(lambda: board.get(job.id).status != "running")
    stopped = board.get(job.id)
    assert (stopped.status, stopped.exit_code) == ("done", 0)
    again = board.retry(job.id)
    assert again.id != job.id and again.argv == job.argv
    wait_for(lambda: "watching" in board.get(again.id).progress())
    board.stop(again.id)
    wait_for(lambda: board.get(again.id).status != "running")
    assert [j.id for j in board.list()] == [again.id, job.id]


def test_a_vanished_process_is_lost_and_outputs_are_found(tmp_path) -> None:
    board = JobBoard()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "standup.md").write_text("# Standup\n")
    dead = Job(
        "abc",
        "ingest",
        ["ingest", "standup.wav", "--out", str(notes)],
        pid=2**22 + 7,
        started=time.time() - 5,
        cwd=str(tmp_path),
    )
    board.save(dead)
    (board.folder / "junk.json").write_text("{not json")
    (job,) = board.list()
    assert job.status == "lost"
    assert job.outputs() == [notes / "standup.md"]


def test_review_output_file_is_the_output(tmp_path) -> None:
    job = Job(
        "r1", "review", ["review", "a.png", "-o", "report.md"], os.getpid(), cwd=str(tmp_path)
    )
    (tmp_path / "report.md").write_text("# Report\n")
    assert job.outputs() == [tmp_path / "report.md"]
    assert Job("r2", "review", ["review", "a.png"], os.getpid()).outputs() == []


@pytest.mark.skipif(sys.platform != "linux", reason="SIGTERM semantics")
def test_job_records_are_written_atomically(tmp_path) -> None:
    board = JobBoard()
    board.save(Job("x", "watch", ["watch", "."], os.getpid()))
    assert not list(Path(board.folder).glob("*.tmp"))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_pid_taken_by_another_process_is_lost_and_never_signalled(tmp_path) -> None:
    board = JobBoard()
    first = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start(first.pid)
    first.wait()
    time.sleep(0.05)  # /proc start times count in 10 ms ticks
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # the record of the first process, whose pid the kernel has since handed to `other`
        board.save(Job("reused", "watch", ["watch", "."], other.pid, pid_started=started))
        assert board.get("reused").status == "lost"
        board.stop("reused")
        assert other.poll() is None  # the unrelated process was not sent SIGTERM
        board.save(Job("legacy", "watch", ["watch", "."], other.pid))  # a record from before
        assert board.get("legacy").status == "running"
    finally:
        other.kill()
        other.wait()


def test_process_start_reads_names_with_spaces_and_parentheses(tmp_path) -> None:
    odd = tmp_path / "a) b (c"
    odd.symlink_to(sys.executable)
    child = subprocess.Popen([str(odd), "-c", "import time; time.sleep(30)"])
    try:
        assert process_start(child.pid) is not None
        assert process_start(child.pid) >= process_start(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert process_start(child.pid) is None


REUSE = """
import os, signal, subprocess, sys, time
from pathlib import Path
from gemloom.workflows.jobs import JobBoard

board = JobBoard()
job = board.start(["watch", sys.argv[1]])
while "watching" not in board.get(job.id).progress():
    time.sleep(0.1)
os.kill(job.pid, signal.SIGKILL)  # dies without a word: its record still says running
os.waitpid(job.pid, 0)
time.sleep(0.05)  # /proc start times count in 10 ms ticks
try:
    Path("/proc/sys/kernel/ns_last_pid").write_text(str(job.pid - 1))
except OSError as exc:
    sys.exit(f"SKIP cannot choose the next pid: {exc}")
other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(other.pid == job.pid, board.get(job.id).status)
board.stop(job.id)
time.sleep(0.2)
print(other.poll())
other.kill()
"""


def test_a_really_reused_pid_in_a_private_pid_namespace(tmp_path) -> None:
    """The kernel hands a dead job's pid to a new process (ns_last_pid, as CRIU does)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    command = ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", REUSE]
    try:
        done = subprocess.run(
            [*command, str(folder)], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
    except FileNotFoundError:
        pytest.skip("no unshare command")
    if done.returncode != 0 and ("SKIP" in done.stderr or "unshare:" in done.stderr):
        pytest.skip(f"private pid namespaces not allowed here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "lost", "None"]
