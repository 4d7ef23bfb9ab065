"""The meeting pipeline as a LangGraph graph: `gemloom ingest` killed mid-recording resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from watching import chunk_runs

from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.audio import decode as audio
from gemloom.workflows.meetings.graph import build, resume_point
from gemloom.workflows.meetings.job import MeetingJob
from gemloom.workflows.meetings.ledger import Ledger, content_hash

CHILD = "import sys; from gemloom.cli import main; sys.exit(main(sys.argv[1:]))"


def start_ingest(file: Path, out: Path, log: Path) -> subprocess.Popen:
    """`gemloom ingest FILE --out OUT` in a child process on the fake Ollama."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, "ingest", str(file), "--out", str(out)],
            env=dict(os.environ),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def pending(home: Path, file: Path) -> tuple[str, ...]:
    """The step the graph's checkpoint would resume this recording at."""
    job = MeetingJob(LLM(load_settings()), Ledger(home / "meetings.sqlite3"), home)
    try:
        return resume_point(job, content_hash(file))
    finally:
        job.close()


@pytest.fixture(scope="module")
def meeting(tmp_path_factory, speech_samples) -> tuple[Path, int, int]:
    """A recording of about 100 s, its chunk count and how many chunks hold speech."""
    gap = np.zeros(int(1.5 * audio.RATE), np.int16)
    samples = np.concatenate([speech_samples, gap] * 10)
    source = audio.write(
        tmp_path_factory.mktemp("g") / "board.ogg", samples, "libopus", bit_rate=24_000
    )
    chunks = audio.split(audio.decode(source))
    return source, len(chunks), sum(not c.silent for c in chunks)


def test_the_pipeline_graph_is_drawn_as_designed(instant_model, llm, tmp_path, snapshot) -> None:
    job = MeetingJob(llm, Ledger(tmp_path / "l.sqlite3"), tmp_path)
    drawing = build(job, tmp_path / "x.wav").compile().get_graph().draw_mermaid()
    job.close()
    assert drawing == snapshot


def test_sigkill_mid_recording_then_ingest_again_resumes_from_the_checkpoint(
    slow_model, gemloom_home, tmp_path, meeting, wait_until, audio_bodies
) -> None:
    slow_model(0.5)
    source, count, voiced = meeting
    out, log = tmp_path / "notes", tmp_path / "child.log"
    first = start_ingest(source, out, log)
    wait_until(lambda: len(chunk_runs(gemloom_home)) >= 2, timeout=60)
    first.kill()
    first.wait(timeout=10)
    before = audio_bodies()
    finished = len(chunk_runs(gemloom_home))
    assert 2 <= finished < count and not (out / "board.json").exists()
    assert pending(gemloom_home, source) == ("transcribe",)

    second = start_ingest(source, out, log)
    assert second.wait(timeout=90) == 0, log.read_text()
    after = audio_bodies()[len(before) :]
    assert chunk_runs(gemloom_home) == dict.fromkeys(range(count), 1)  # no chunk twice
    assert not set(before[:finished]) & set(after)  # finished chunks were not sent again
    assert len(set(before) | set(after)) == voiced and len(before) + len(after) <= voiced + 1
    record = json.loads((out / "board.json").read_text())
    assert len(record["transcript"]) == voiced
    assert pending(gemloom_home, source) == ()  # done: no checkpoint left to resume


def test_killed_while_summarising_the_rerun_goes_on_at_the_notes_step(
    instant_model, gemloom_home, tmp_path, meeting, wait_until, audio_bodies
) -> None:
    answer = instant_model.default

    def slow_notes(body):
        turn = answer(body)
        if not body["messages"][-1].get("images"):
            turn.delay = 5.0
        return turn

    instant_model.default = slow_notes
    source, count, _ = meeting
    out, log = tmp_path / "notes", tmp_path / "child.log"
    first = start_ingest(source, out, log)

    def summarising() -> bool:
        return any(b.get("format") for b in instant_model.chat_bodies())

    wait_until(summarising, timeout=60)
    first.kill()
    first.wait(timeout=10)
    heard = len(audio_bodies())
    assert (out / "board.srt").exists() and not (out / "board.json").exists()
    assert pending(gemloom_home, source) == ("notes",)

    instant_model.default = answer
    second = start_ingest(source, out, log)
    assert second.wait(timeout=60) == 0, log.read_text()
    assert len(audio_bodies()) == heard  # nothing was transcribed again
    assert chunk_runs(gemloom_home) == dict.fromkeys(range(count), 1)
    assert json.loads((out / "board.json").read_text())["notes"]["decisions"]


def test_checkpoints_that_cannot_be_opened_are_one_clear_line(
    instant_model, gemloom_home, tmp_path, make_meeting, capsys
) -> None:
    from gemloom.cli import main

    talk = make_meeting(tmp_path / "sync.ogg")
    (gemloom_home / "meetings-graph.sqlite3").mkdir(parents=True)  # a folder where the db goes
    assert main(["ingest", str(talk), "--out", str(tmp_path / "notes")]) == 1
    err = capsys.readouterr().err.strip()
    assert "Cannot open the meetings checkpoints " in err and len(err.splitlines()) == 1
    assert not (tmp_path / "notes" / "sync.json").exists()


def test_a_finished_thread_left_behind_does_not_leak_into_the_next_run(
    instant_model, llm, gemloom_home, tmp_path, make_meeting
) -> None:
    from gemloom.workflows.meetings.graph import config
    from gemloom.workflows.meetings.ingest import ingest

    talk = make_meeting(tmp_path / "plan.ogg")
    job = MeetingJob(llm, Ledger(gemloom_home / "meetings.sqlite3"), tmp_path / "notes")
    (tmp_path / "notes").mkdir()
    digest = content_hash(talk)
    start = {"path": str(talk), "digest": digest, "template": "retro", "earlier": []}
    stale = build(job, talk).compile(checkpointer=job.saver()).invoke(start, config(digest))
    assert stale["status"] == "done" and resume_point(job, digest) == ()  # finished, not deleted
    job.close()
    assert ingest(talk, tmp_path / "notes", llm=llm, force=True).status == "done"
    record = json.loads((tmp_path / "notes" / "plan.json").read_text())
    assert record["template"] == "retro"  # the earlier notes' template, chosen again
    assert pending(gemloom_home, talk) == ()


def _words(text: str) -> list[str]:
    return ["".join(c for c in w if c.isalnum()) for w in text.lower().split()]


def test_sigkill_between_whisper_groups_resumes_without_hearing_a_chunk_twice(
    fallback_model, gemloom_home, tmp_path, meeting, wait_until, monkeypatch
) -> None:
    from gemloom.tools.audio.transcribe import WhisperTranscriber, transcribe_chunks

    monkeypatch.setenv("GEMLOOM_WHISPER_GROUP", "2")  # two chunks per batched Whisper call
    source, count, _ = meeting
    out, log = tmp_path / "notes", tmp_path / "child.log"
    first = start_ingest(source, out, log)
    wait_until(lambda: len(chunk_runs(gemloom_home)) >= 2, timeout=120)
    first.kill()
    first.wait(timeout=10)
    finished = chunk_runs(gemloom_home)
    assert 2 <= len(finished) < count and not (out / "board.json").exists()
    assert pending(gemloom_home, source) == ("transcribe",)

    second = start_ingest(source, out, log)
    assert second.wait(timeout=180) == 0, log.read_text()
    assert chunk_runs(gemloom_home) == dict.fromkeys(range(count), 1)  # no chunk heard twice
    record = json.loads((out / "board.json").read_text())
    assert record["transcription"].startswith("fallback: ")
    resumed = " ".join(s["text"] for s in record["transcript"])
    unbroken = transcribe_chunks(audio.split(audio.decode(source)), WhisperTranscriber())
    assert _words(resumed) == _words(" ".join(s.text for s in unbroken))
