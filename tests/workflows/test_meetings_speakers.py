"""Who said what: a three-voice dialogue dropped into a watched folder becomes labelled notes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from dialogue import LINES, labelled_fraction, make_dialogue
from fake_ollama import Turn
from rich.console import Console

from gemloom.cli import main
from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.transcribe import WhisperTranscriber
from gemloom.tools.audio.transcript import stitch
from gemloom.workflows.meetings.ingest import watch

LINE = re.compile(r"^\[(\d\d:\d\d:\d\d)\] (Speaker \d+): (.*)$")


def grounded_notes(body: dict[str, Any]) -> Turn:
    """A fake Gemma that takes honest notes: one item per line it was given, quoted and cited."""
    lines = [m.groups() for m in map(LINE.match, body["messages"][-1]["content"].split("\n")) if m]
    notes = {
        "title": "Release sync",
        "summary": f"{len(lines)} lines",
        "decisions": [{"decision": t, "timestamp": s} for s, _w, t in lines if "decided" in t],
        "action_items": [
            {"task": t, "owner": who, "quote": " ".join(t.split()[:6]), "timestamp": s}
            for s, who, t in lines
        ],
        "open_questions": [],
        "topics": [{"topic": lines[0][2], "timestamp": lines[0][0]}] if lines else [],
    }
    return Turn(json.dumps(notes), chunk_chars=1 << 20)


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("voices") / "sync.wav"
    return path, make_dialogue(path, voices=3)


@pytest.fixture
def watched_notes(fallback_model, llm, tmp_path, dialogue, wait_until) -> dict[str, Any]:
    """The dialogue copied into a watched folder, and the JSON notes the watcher wrote."""
    fallback_model.default = grounded_notes
    inbox, out = tmp_path / "inbox", tmp_path / "notes"
    inbox.mkdir()
    stop = threading.Event()
    console = Console(file=open(tmp_path / "log.txt", "w"), width=200)  # noqa: SIM115
    thread = threading.Thread(
        target=watch, args=(inbox, out), kwargs={"llm": llm, "stop": stop, "console": console}
    )
    thread.start()
    shutil.copy(dialogue[0], inbox / "sync.wav")
    wait_until(lambda: (out / "sync.md").exists(), timeout=240)
    stop.set()
    thread.join(timeout=30)
    return json.loads((out / "sync.json").read_text())


def test_three_voices_are_told_apart_and_every_citation_checks_out(
    watched_notes, dialogue, tmp_path
):
    record, truth = watched_notes, dialogue[1]
    segments = record["transcript"]
    found = [(s["start"], s["end"], s["speaker"]) for s in segments]
    assert len({s for _a, _b, s in found}) == 3
    share = labelled_fraction(truth, found)
    print(f"right speaker on {share:.3f} of speech time")  # shown with -s
    assert share >= 0.9
    notes = record["notes"]
    items = notes["decisions"] + notes["action_items"] + notes["topics"]
    assert len(notes["action_items"]) == len(segments)
    assert items and all(i["unverified"] is None for i in items)
    stamps = {f"{int(s['start'] // 3600):02d}:{int(s['start'] % 3600 // 60):02d}:"
              f"{int(s['start'] % 60):02d}" for s in segments}  # fmt: skip
    assert all(i["timestamp"] in stamps for i in items)
    _speakers_reach_the_subtitles_and_a_rename_reaches_every_file(tmp_path / "notes")


def _speakers_reach_the_subtitles_and_a_rename_reaches_every_file(out: Path) -> None:
    vtt = (out / "sync.vtt").read_text()
    assert "<v Speaker 1>" in vtt and "<v Speaker 3>" in vtt
    assert "Speaker 2: " in (out / "sync.srt").read_text()
    assert main(["speakers", str(out / "sync.json"), "Speaker 1=Priya", "Speaker 2 = Tom"]) == 0
    record = json.loads((out / "sync.json").read_text())
    assert {s["speaker"] for s in record["transcript"]} == {"Priya", "Tom", "Speaker 3"}
    assert "<v Priya>" in (out / "sync.vtt").read_text()
    assert "Tom: " in (out / "sync.srt").read_text()
    assert "**Priya**" in (out / "sync.md").read_text()
    assert "Speaker 1" not in (out / "sync.md").read_text()


def test_a_bad_rename_is_one_line_and_changes_nothing(tmp_path, capsys):
    target = tmp_path / "sync.json"
    transcript = [{"start": 0.0, "end": 1.0, "text": "hello", "speaker": "Speaker 1"}]
    target.write_text(json.dumps({"notes": None, "transcript": transcript}))
    before = target.read_text()
    assert main(["speakers", str(target), "Priya"]) != 0
    assert main(["speakers", str(target), "Speaker 9=Ana"]) != 0
    err = capsys.readouterr().err
    assert 'write it as "Speaker 1=Priya"' in err and "No speaker Speaker 9" in err
    assert "Traceback" not in err and target.read_text() == before
    assert main(["speakers", str(tmp_path / "missing.json"), "Speaker 1=A"]) != 0
    assert "Cannot read" in capsys.readouterr().err
    assert main(["speakers", str(target), "Speaker 1=Ana"]) == 0  # notes-less: transcript only
    assert "<v Ana>hello" in (tmp_path / "sync.vtt").read_text()


def test_without_weights_the_notes_say_speakers_were_not_labelled(
    fallback_model, llm, tmp_path, make_meeting, monkeypatch
):
    from gemloom.workflows.meetings.ledger import Ledger
    from gemloom.workflows.meetings.pipeline import MeetingJob, process

    monkeypatch.setenv("GEMLOOM_SPEAKER_WEIGHTS", str(tmp_path / "absent.pt"))
    talk = make_meeting(tmp_path / "talk.ogg")
    job = MeetingJob(llm, Ledger(llm.settings.data_dir / "meetings.sqlite3"), tmp_path)
    assert process(talk, job).status == "done"
    md = (tmp_path / "talk.md").read_text()
    assert "> **Note:** speakers were not labelled: No speaker-encoder weights at" in md
    record = json.loads((tmp_path / "talk.json").read_text())
    assert record["transcript"] and all("speaker" not in s for s in record["transcript"])
    assert "<v " not in (tmp_path / "talk.vtt").read_text()


CHILD = "import sys; from gemloom.cli import main; sys.exit(main(sys.argv[1:]))"


def start_ingest(file: Path, out: Path, home: Path, log: Path) -> subprocess.Popen:
    """`gemloom ingest FILE --out OUT` in a child process with its own data folder."""
    # one chunk per Whisper call, so that a kill can fall between chunks of 80 s of speech
    env = dict(os.environ, GEMLOOM_HOME=str(home), GEMLOOM_WHISPER_GROUP="1")
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, "ingest", str(file), "--out", str(out)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def saved_chunks(home: Path) -> int:
    """How many chunks the child's ledger holds."""
    db = home / "meetings.sqlite3"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.OperationalError:  # the child is still creating the tables
            return 0


@pytest.fixture(scope="module")
def quick_turns(tmp_path_factory) -> Path:
    """Three voices taking turns after short pauses: Whisper runs turns together in one line."""
    path = tmp_path_factory.mktemp("quick") / "standup.wav"
    make_dialogue(path, voices=3, lines=LINES * 2, gap=0.25)
    return path


@pytest.mark.timeout(600)  # 80 s of speech ingested twice and once killed, on 2 shared cores
def test_a_killed_and_resumed_ingest_splits_speakers_like_an_unbroken_one(
    fallback_model, gemloom_home, tmp_path, quick_turns, wait_until
):
    recording, log = quick_turns, tmp_path / "child.log"
    whole = start_ingest(recording, tmp_path / "whole", tmp_path / "home-whole", log)
    assert whole.wait(timeout=240) == 0, log.read_text()
    unbroken = json.loads((tmp_path / "whole" / "standup.json").read_text())["transcript"]

    home, out = tmp_path / "home-killed", tmp_path / "killed"
    heard = audio.split(audio.decode(recording))
    first = start_ingest(recording, out, home, log)
    wait_until(lambda: saved_chunks(home) >= 1, timeout=120)
    first.kill()
    first.wait(timeout=10)
    assert 1 <= saved_chunks(home) < len(heard) and not (out / "standup.json").exists()
    second = start_ingest(recording, out, home, log)
    assert second.wait(timeout=240) == 0, log.read_text()
    resumed = json.loads((out / "standup.json").read_text())["transcript"]

    assert resumed == unbroken
    whisper = WhisperTranscriber(words=True)
    lines = stitch([(c.start, c.end, whisper.transcribe(c)) for c in heard])
    assert len(unbroken) > len(lines)  # Whisper's lines were split where the speaker changed
    assert len({s["speaker"] for s in unbroken}) >= 2
