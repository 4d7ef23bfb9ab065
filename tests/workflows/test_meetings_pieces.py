"""Recordings written in pieces, grown after processing, or cut short: real watchdog, writers."""

from __future__ import annotations

import json
import struct
import threading
import time
from pathlib import Path

import pytest
from watching import Watcher

from gemloom.workflows.meetings.complete import stated
from gemloom.workflows.meetings.ingest import ingest
from gemloom.workflows.meetings.ledger import content_hash


class Recorder(threading.Thread):
    """A recorder that opens the file, appends a piece, closes it, and waits, again and again."""

    def __init__(self, data: bytes, target: Path, pieces: int, every: float = 1.0):
        super().__init__(daemon=True)
        self.data, self.target, self.pieces, self.every = data, target, pieces, every

    def run(self) -> None:
        step = -(-len(self.data) // self.pieces)
        for i in range(self.pieces):
            if i:
                time.sleep(self.every)
            with self.target.open("ab") as handle:
                handle.write(self.data[i * step : (i + 1) * step])


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    return tmp_path / "inbox"


def watch_folder(inbox: Path, llm, settle: float) -> Watcher:
    watcher = Watcher(inbox, inbox.parent / "notes", llm, quiet=settle)
    time.sleep(0.3)  # the observer is scheduled
    return watcher


def test_a_wav_written_every_second_for_20_s_is_processed_once_complete(
    instant_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    source = make_meeting(tmp_path / "source.wav", repeats=2, codec="pcm_s16le")
    # 0.5 s of settle is shorter than the recorder's pauses: only the RIFF size holds it back
    watcher = watch_folder(inbox, llm, settle=0.5)
    recorder = Recorder(source.read_bytes(), inbox / "standup.wav", pieces=20)
    recorder.start()
    notes = tmp_path / "notes" / "standup.json"
    wait_until(lambda: not recorder.is_alive(), timeout=60)
    wait_until(notes.exists, timeout=60)
    time.sleep(1.0)
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done"]  # no notes from a partial snapshot
    assert [p.name for p in (tmp_path / "notes").glob("*.json")] == ["standup.json"]
    assert json.loads(notes.read_text())["sha256"] == content_hash(source)
    assert watcher.states() == {"standup.wav": "done"}


def test_a_recording_that_states_no_length_waits_for_the_settle_time(
    instant_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    source = make_meeting(tmp_path / "source.ogg", repeats=2)
    assert stated(source).size is None  # Ogg says nothing: only quiet tells
    watcher = watch_folder(inbox, llm, settle=2.0)
    recorder = Recorder(source.read_bytes(), inbox / "call.ogg", pieces=6, every=1.0)
    recorder.start()
    notes = tmp_path / "notes" / "call.json"
    wait_until(notes.exists, timeout=60)
    assert not recorder.is_alive()
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done"]
    assert json.loads(notes.read_text())["sha256"] == content_hash(source)


def test_an_mp4_is_complete_only_once_its_moov_box_is_written(
    instant_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    source = make_meeting(tmp_path / "source.m4a", repeats=2, codec="aac")
    data = source.read_bytes()
    assert data.rfind(b"moov") > data.find(b"mdat")  # moov comes last, as recorders write it
    watcher = watch_folder(inbox, llm, settle=0.5)
    recorder = Recorder(data, inbox / "screen.m4a", pieces=5)
    recorder.start()
    notes = tmp_path / "notes" / "screen.json"
    wait_until(notes.exists, timeout=60)
    assert not recorder.is_alive()
    time.sleep(1.0)
    assert [o.status for o in watcher.stop()] == ["done"]
    assert json.loads(notes.read_text())["sha256"] == content_hash(source)


def grow_wav(path: Path, extra: bytes) -> None:
    """Append samples to a WAV and fix its sizes, as a recorder that resumes does."""
    with path.open("r+b") as handle:
        riff = struct.unpack("<I", handle.read(8)[4:])[0]
        handle.seek(0, 2)
        handle.write(extra)
        handle.seek(4)
        handle.write(struct.pack("<I", riff + len(extra)))
        data_at = path.read_bytes().find(b"data")
        handle.seek(data_at + 4)
        size = struct.unpack("<I", handle.read(4))[0]
        handle.seek(data_at + 4)
        handle.write(struct.pack("<I", size + len(extra)))


def test_a_recording_that_grows_after_processing_replaces_its_notes(
    instant_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    watcher = watch_folder(inbox, llm, settle=0.5)
    first = make_meeting(tmp_path / "first.wav", codec="pcm_s16le")
    target = inbox / "talk.wav"
    target.write_bytes(first.read_bytes())
    notes = tmp_path / "notes"
    old = content_hash(target)
    wait_until(lambda: watcher.states_by_digest() == {old: "done"})
    more = make_meeting(tmp_path / "more.wav", codec="pcm_s16le").read_bytes()[44:]
    grow_wav(target, more)
    new = content_hash(target)
    wait_until(lambda: json.loads((notes / "talk.json").read_text())["sha256"] == new)
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done", "done"]
    assert "a new version: the old notes are replaced" in outcomes[1].message
    assert sorted(p.name for p in notes.glob("*.md")) == ["talk.md"]  # replaced, not duplicated
    assert sorted(p.name for p in notes.glob("*.json")) == ["talk.json"]
    ledger = watcher.states_by_digest()
    assert ledger == {old: "replaced", new: "done"}


def test_a_truncated_wav_is_processed_with_a_warning(
    instant_model, llm, tmp_path, make_meeting
) -> None:
    whole = make_meeting(tmp_path / "whole.wav", repeats=2, codec="pcm_s16le").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) * 2 // 5])
    outcome = ingest(cut, tmp_path / "notes", llm=llm)
    assert outcome.status == "done"
    assert "cut.wav looks truncated: only" in outcome.message
    claimed = stated(cut).seconds
    assert f"of the {claimed:.1f} s its header states could be decoded (40%)" in outcome.message
    markdown = (tmp_path / "notes" / "cut.md").read_text()
    assert "> **Cut:** cut.wav looks truncated" in markdown


def test_the_watcher_stops_waiting_for_a_length_that_never_comes(
    instant_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    whole = make_meeting(tmp_path / "whole.wav", codec="pcm_s16le").read_bytes()
    watcher = watch_folder(inbox, llm, settle=0.3)
    (inbox / "dropped.wav").write_bytes(whole[: len(whole) // 2])
    wait_until((tmp_path / "notes" / "dropped.json").exists, timeout=30)
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done"]
    assert "looks truncated" in outcomes[0].message


def test_a_recording_that_grows_while_it_is_processed_is_taken_again(
    slow_model, llm, inbox, tmp_path, make_meeting, wait_until
) -> None:
    slow_model(1.5)  # each chunk takes 1.5 s to transcribe: time to grow the file meanwhile
    watcher = watch_folder(inbox, llm, settle=0.3)
    target = inbox / "live.wav"
    target.write_bytes(make_meeting(tmp_path / "first.wav", codec="pcm_s16le").read_bytes())
    old = content_hash(target)
    wait_until(lambda: watcher.states_by_digest() == {old: "working"})
    grow_wav(target, make_meeting(tmp_path / "more.wav", codec="pcm_s16le").read_bytes()[44:])
    new = content_hash(target)
    notes = tmp_path / "notes" / "live.json"
    wait_until(lambda: notes.exists() and json.loads(notes.read_text())["sha256"] == new, 60)
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done", "done"]
    assert watcher.states_by_digest() == {old: "replaced", new: "done"}
