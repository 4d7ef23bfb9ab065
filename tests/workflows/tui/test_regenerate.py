"""Regenerating meeting notes from the TUI: /regenerate and `g` on a watch job in /jobs."""

import json
import time

from pilot import notified, running, say, spy_activity, wait_until

from gemloom.settings import load_settings
from gemloom.workflows.jobs import Job, JobBoard
from gemloom.workflows.meetings.ingest import ingest
from gemloom.workflows.tui.jobs import JobsScreen


def ingested(tmp_path, make_meeting, llm):
    (tmp_path / "meet").mkdir()
    talk = make_meeting(tmp_path / "meet" / "sync.ogg")
    notes = tmp_path / "notes"
    assert ingest(talk, notes, llm=llm).status == "done"
    return talk, notes


async def test_regenerate_remakes_notes_with_progress_and_no_new_transcription(
    make_app, instant_model, llm, tmp_path, make_meeting, audio_bodies
) -> None:
    talk, notes = ingested(tmp_path, make_meeting, llm)
    transcript = json.loads((notes / "sync.json").read_text())["transcript"]
    heard, before = len(audio_bodies()), len(instant_model.chat_bodies())
    app = make_app()
    async with running(app) as pilot:
        steps = spy_activity(app)
        await say(pilot, f"/regenerate {talk} --out {notes}")
        await wait_until(pilot, lambda: notified(app, "made again"), timeout=60)
        assert notified(app, f"Notes of sync.ogg made again (done): {notes / 'sync.md'}")
        assert any("sync.ogg: summarise" in step for step in steps)
        assert steps[-1] == "" and not app.query_one("#activity").has_class("shown")
        assert not notified(app, "Not updating memory")  # the new notes went to memory too
    assert len(audio_bodies()) == heard  # made from the kept transcript
    assert len(instant_model.chat_bodies()) > before  # the notes were asked for again
    assert json.loads((notes / "sync.json").read_text())["transcript"] == transcript


async def test_regenerate_without_a_transcript_says_how_to_get_one(
    make_app, instant_model, tmp_path, make_meeting
) -> None:
    talk = make_meeting(tmp_path / "never.ogg")
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, f"/regenerate {talk}")
        await wait_until(pilot, lambda: notified(app, "No transcript of never.ogg is kept"))
        assert notified(app, "ingest it first")
    assert not (tmp_path / "never.md").exists()
    assert instant_model.chat_bodies() == []  # nothing was transcribed or summarised


async def test_regenerate_of_a_missing_file_is_a_clear_error(make_app, fake_ollama, tmp_path):
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, f"/regenerate {tmp_path / 'gone.ogg'}")
        await wait_until(pilot, lambda: notified(app, "gone.ogg is not a file"))
        await say(pilot, "/regenerate")
        await wait_until(pilot, lambda: notified(app, "Usage: /regenerate RECORDING"))


async def test_g_on_a_watch_job_regenerates_its_newest_notes(
    make_app, instant_model, llm, tmp_path, make_meeting, audio_bodies
) -> None:
    _, notes = ingested(tmp_path, make_meeting, llm)
    board = JobBoard(load_settings())
    argv = ["watch", "meet", "--out", "notes"]
    board.save(Job("w1", "watch", argv, pid=0, started=time.time() - 60, cwd=str(tmp_path)))
    heard = len(audio_bodies())
    written = (notes / "sync.md").stat().st_mtime_ns
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/jobs")
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.press("g")
        await wait_until(pilot, lambda: notified(app, "made again"), timeout=60)
        assert not isinstance(app.screen, JobsScreen)
    assert (notes / "sync.md").stat().st_mtime_ns > written
    assert len(audio_bodies()) == heard
