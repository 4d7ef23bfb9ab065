"""The folder watcher in a thread, with real files and real inotify events."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watching import Watcher

from gemloom.workflows.meetings.ingest import watch
from gemloom.workflows.meetings.ledger import content_hash
from gemloom.workflows.meetings.pipeline import OutputNotWritable
from gemloom.workflows.meetings.watch import WatchError

SETTLE = 0.5  # the settle time these tests use (watch_settle_seconds), to stay quick


@pytest.fixture
def watching(instant_model, llm, tmp_path) -> Iterator:
    """Start watchers on tmp_path/inbox writing to tmp_path/notes; all stopped at the end."""
    started: list[Watcher] = []
    (tmp_path / "inbox").mkdir()

    def start(**kwargs) -> Watcher:
        kwargs.setdefault("quiet", SETTLE)
        watcher = Watcher(tmp_path / "inbox", tmp_path / "notes", llm, **kwargs)
        started.append(watcher)
        time.sleep(0.3)  # the observer is scheduled
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


def slow_copy(source: Path, target: Path, seconds: float = 2.0, pieces: int = 5) -> None:
    """Write a file in pieces over `seconds`, each piece through a fresh open-append-close."""
    data = source.read_bytes()
    step = -(-len(data) // pieces)
    with target.open("wb") as handle:  # first piece, kept open: a long-running writer
        handle.write(data[:step])
        handle.flush()
        for i in range(1, pieces):
            time.sleep(seconds / pieces)
            handle.write(data[i * step : (i + 1) * step])
            handle.flush()


def test_spoken_audio_dropped_into_the_folder_becomes_notes(
    fallback_model, watching, tmp_path, make_meeting, wait_until
):
    watcher = watching()
    source = make_meeting(tmp_path / "source.ogg")
    shutil.copy(source, tmp_path / "inbox" / "standup.ogg")
    notes = tmp_path / "notes" / "standup.json"
    wait_until(notes.exists, timeout=60)
    record = json.loads(notes.read_text())
    words = " ".join(s["text"] for s in record["transcript"]).lower()
    assert all(w in words for w in ("launch", "march", "report", "friday"))
    assert (tmp_path / "notes" / "standup.md").read_text().startswith("# ")
    assert [o.status for o in watcher.stop()] == ["done"]


def test_a_slow_write_is_processed_once_when_complete(watching, tmp_path, make_meeting, wait_until):
    watcher = watching()
    source = make_meeting(tmp_path / "source.ogg", repeats=3)
    slow_copy(source, tmp_path / "inbox" / "slow.ogg")
    wait_until((tmp_path / "notes" / "slow.json").exists)
    time.sleep(0.5)
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done"]
    record = json.loads((tmp_path / "notes" / "slow.json").read_text())
    assert record["sha256"] == content_hash(source)  # the whole file, not a prefix
    assert watcher.states() == {"slow.ogg": "done"}


def test_without_close_events_a_quiet_period_decides(watching, tmp_path, make_meeting, wait_until):
    watcher = watching(close_events=False, quiet=1.0)
    source = make_meeting(tmp_path / "source.ogg", repeats=3)
    slow_copy(source, tmp_path / "inbox" / "polled.ogg", seconds=2.4)
    wait_until((tmp_path / "notes" / "polled.json").exists)
    assert [o.status for o in watcher.stop()] == ["done"]
    assert json.loads((tmp_path / "notes" / "polled.json").read_text())["sha256"] == (
        content_hash(source)
    )


def test_partial_names_wait_until_renamed_into_place(watching, tmp_path, make_meeting, wait_until):
    watcher = watching()
    source = make_meeting(tmp_path / "source.ogg")
    inbox = tmp_path / "inbox"
    for partial in ("talk.ogg.part", "talk.crdownload", "talk.ogg.tmp", "~$talk.ogg"):
        shutil.copy(source, inbox / partial)
    time.sleep(1.0)
    assert not (tmp_path / "notes").exists() or not list((tmp_path / "notes").glob("*.json"))
    (inbox / "talk.ogg.part").rename(inbox / "talk.ogg")
    wait_until((tmp_path / "notes" / "talk.json").exists)
    assert [o.status for o in watcher.stop()] == ["done"]
    assert watcher.states() == {"talk.ogg": "done"}


def test_the_same_recording_under_two_names_is_processed_once(
    watching, tmp_path, make_meeting, wait_until, audio_bodies
):
    watcher = watching()
    source = make_meeting(tmp_path / "source.ogg", repeats=4)
    shutil.copy(source, tmp_path / "inbox" / "monday.ogg")
    wait_until((tmp_path / "notes" / "monday.json").exists)
    sent = len(audio_bodies())
    shutil.copy(source, tmp_path / "inbox" / "monday-copy.ogg")
    wait_until(lambda: len(watcher.outcomes) == 2 or "monday-copy" in watcher.log.getvalue())
    outcomes = watcher.stop()
    assert [o.status for o in outcomes] == ["done", "duplicate"]
    assert len(audio_bodies()) == sent == 2
    assert not (tmp_path / "notes" / "monday-copy.json").exists()


def test_bad_files_are_quarantined_and_the_watcher_keeps_going(
    watching, tmp_path, make_meeting, wait_until
):
    watcher = watching()
    inbox = tmp_path / "inbox"
    (inbox / "empty.wav").write_bytes(b"")
    (inbox / "minutes.mp3").write_text("Minutes: we agreed on nothing.\n")
    (inbox / "broken.m4a").write_bytes(bytes(range(256)) * 64)
    quarantine = tmp_path / "notes" / "quarantine"
    wait_until(lambda: len(list(quarantine.glob("*.error.txt"))) == 3)
    make_meeting(inbox / "good.ogg")
    wait_until((tmp_path / "notes" / "good.json").exists)
    outcomes = watcher.stop()
    assert sorted(o.status for o in outcomes) == ["done"] + ["quarantined"] * 3
    assert sorted(p.name for p in inbox.iterdir()) == ["good.ogg"]
    report = (quarantine / "minutes.mp3.error.txt").read_text()
    assert "minutes.mp3 is a text file, not an audio or video recording" in report
    assert "is empty (0 bytes)" in (quarantine / "empty.wav.error.txt").read_text()
    assert "cannot be decoded" in (quarantine / "broken.m4a.error.txt").read_text()


def test_recordings_that_arrived_while_down_are_picked_up(
    instant_model, llm, tmp_path, make_meeting, wait_until
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    make_meeting(inbox / "early.ogg")
    (inbox / "sub").mkdir()
    make_meeting(inbox / "sub" / "nested.ogg", repeats=2)
    watcher = Watcher(inbox, inbox / "notes", llm, quiet=0.2)
    wait_until((inbox / "notes" / "early.json").exists)
    time.sleep(0.5)
    assert [o.status for o in watcher.stop()] == ["done"]  # not recursive: sub/ is left alone
    again = Watcher(inbox, inbox / "notes", llm, recursive=True, quiet=0.2)
    wait_until((inbox / "notes" / "nested.json").exists)
    time.sleep(0.3)
    assert [o.path.name for o in again.stop()] == ["nested.ogg"]  # early.ogg is known by path


def test_an_unwritable_output_folder_or_missing_inbox_is_a_clear_error(
    instant_model, llm, tmp_path
):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "inbox").mkdir()
    with pytest.raises(OutputNotWritable, match="choose another folder with --out"):
        watch(tmp_path / "inbox", blocker / "notes", llm=llm)
    with pytest.raises(WatchError, match="is not a folder to watch"):
        watch(tmp_path / "nowhere", tmp_path / "notes", llm=llm)


def test_outputs_that_cannot_be_written_fail_the_file_not_the_watcher(
    watching, tmp_path, make_meeting, wait_until
):
    notes = tmp_path / "notes"
    (notes / "quarantine").parent.mkdir()
    (notes / "quarantine").write_text("a file where the quarantine folder should be")
    (notes / "blocked.md").mkdir()  # os.replace cannot put the notes there
    watcher = watching()
    (tmp_path / "inbox" / "junk.mp3").write_text("not audio")
    make_meeting(tmp_path / "inbox" / "blocked.ogg")
    wait_until(lambda: "failed: blocked.ogg" in watcher.log.getvalue(), timeout=30)
    make_meeting(tmp_path / "inbox" / "fine.ogg")
    wait_until((notes / "fine.json").exists)
    outcomes = {o.path.name: o for o in watcher.stop()}
    assert outcomes["junk.mp3"].status == "failed"
    assert "Cannot quarantine junk.mp3" in outcomes["junk.mp3"].message
    assert outcomes["blocked.ogg"].status == "failed"
    assert "Cannot write notes to" in outcomes["blocked.ogg"].message
    assert outcomes["fine.ogg"].status == "done"
    assert (tmp_path / "inbox" / "junk.mp3").exists()  # left in place, retried next start


def test_the_watching_line_is_one_line_and_shows_a_folder_named_like_markup(
    gemloom_home, tmp_path, monkeypatch, capsys
):
    import gemloom.workflows.meetings.ingest as ingest
    from gemloom.cli.meetings import watch_command

    inbox = tmp_path / "[team] calls" / ("deep" * 30)  # longer than any terminal's line
    inbox.mkdir(parents=True)
    monkeypatch.setattr(ingest, "watch", lambda *args, **kwargs: None)  # no files: stop at once
    watch_command(inbox, tmp_path / "notes", False)
    printed = capsys.readouterr().out
    assert f"watching {inbox} (Ctrl-C to stop)\n" in printed  # whole: not wrapped, nothing lost


def test_watching_a_missing_folder_says_so_before_saying_it_watches(gemloom_home, tmp_path, capsys):
    from gemloom.cli import main

    assert main(["watch", str(tmp_path / "nowhere")]) == 1
    captured = capsys.readouterr()
    assert "watching" not in captured.out
    assert captured.err.strip() == f"error: {tmp_path / 'nowhere'} is not a folder to watch."
