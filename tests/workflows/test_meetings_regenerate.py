"""Notes made again: `ingest` says where notes are; `--force` remakes them from the transcript."""

from __future__ import annotations

import json

from fake_ollama import FakeModel

from gemloom.cli import main
from gemloom.workflows.meetings.ingest import ingest, regenerate


def summary_models(fake) -> list[str]:
    """The model of every summary (non-audio) chat request so far."""
    return [b["model"] for b in fake.chat_bodies() if not b["messages"][-1].get("images")]


def test_ingest_of_a_done_recording_says_where_its_notes_are(
    instant_model, tmp_path, make_meeting, capsys, audio_bodies
) -> None:
    talk = make_meeting(tmp_path / "retro.ogg", repeats=2)
    notes = tmp_path / "notes"
    assert main(["ingest", str(talk), "--out", str(notes)]) == 0
    sent = len(audio_bodies())
    capsys.readouterr()
    assert main(["ingest", str(talk), "--out", str(notes)]) == 0
    said = capsys.readouterr().out
    assert f"already done: notes in {notes / 'retro.md'} (" in said  # one line, unwrapped
    assert "--force" in said
    assert len(audio_bodies()) == sent


def test_force_with_another_model_keeps_the_transcript(
    instant_model, tmp_path, make_meeting, capsys, audio_bodies
) -> None:
    instant_model.models["gemma3:1b"] = FakeModel(capabilities=["completion", "tools"])
    talk = make_meeting(tmp_path / "retro.ogg", repeats=5)
    notes = tmp_path / "notes"
    assert main(["ingest", str(talk), "--out", str(notes)]) == 0
    first = json.loads((notes / "retro.json").read_text())
    transcribed = len(audio_bodies())
    assert transcribed == 2 and set(summary_models(instant_model)) == {"gemma4:12b"}
    before = len(instant_model.chat_bodies())

    assert main(["ingest", str(talk), "--out", str(notes), "--force", "-m", "gemma3:1b"]) == 0
    assert len(audio_bodies()) == transcribed  # no chunk was transcribed again
    remade = instant_model.chat_bodies()[before:]
    assert remade and {b["model"] for b in remade} == {"gemma3:1b"}
    again = json.loads((notes / "retro.json").read_text())
    assert again["transcript"] == first["transcript"] and again["sha256"] == first["sha256"]
    assert again["transcription"] == first["transcription"]  # it still says who heard it
    assert sorted(p.name for p in notes.iterdir()) == [
        "retro.json",
        "retro.md",
        "retro.srt",
        "retro.vtt",
    ]  # replaced in place, not duplicated


def test_regenerate_is_the_force_path_for_front_ends(
    instant_model, llm, tmp_path, make_meeting, audio_bodies
) -> None:
    talk = make_meeting(tmp_path / "sync.ogg")
    assert ingest(talk, tmp_path / "notes", llm=llm).status == "done"
    sent = len(audio_bodies())
    outcome = regenerate(talk, tmp_path / "notes", llm=llm)
    assert outcome.status == "done" and outcome.outputs[0] == tmp_path / "notes" / "sync.md"
    assert len(audio_bodies()) == sent


def test_notes_made_again_replace_their_memories(instant_model, tmp_path, make_meeting) -> None:
    from fake_ollama import Turn

    from gemloom.memory.store import MemoryStore
    from gemloom.workflows.meetings.ledger import content_hash

    talk = make_meeting(tmp_path / "plan.ogg")
    assert main(["ingest", str(talk), "--out", str(tmp_path / "notes")]) == 0

    instant_answer = instant_model.default

    def second_opinion(body) -> Turn:
        turn = instant_answer(body)
        if not body["messages"][-1].get("images"):
            turn.content = turn.content.replace("decided near", "agreed again near")
        return turn

    instant_model.default = second_opinion
    assert main(["ingest", str(talk), "--out", str(tmp_path / "notes"), "--force"]) == 0
    with MemoryStore.open() as store:
        live = list(store.records(deleted=False, namespace="meetings"))
    mine = [r for r in live if r.source.content_hash == content_hash(talk)]
    decisions = [r.text for r in mine if r.kind.value == "decision"]
    assert len(decisions) == 1 and decisions[0].startswith("agreed again near")
    assert len([r for r in mine if r.kind.value == "action_item"]) == 1
