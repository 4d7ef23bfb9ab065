import os
import sys
import time
from pathlib import Path

import pytest

from gemloom.cli import main
from gemloom.workflows.jobs import Job, JobBoard


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
