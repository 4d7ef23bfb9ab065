"""Map-reduce meeting notes over the fake model: windows fit the context, cuts are reported."""

from __future__ import annotations

import json
import re

import pytest
from fake_ollama import Turn

from gemloom.tools.audio.notes import Notes, normalise_stamp, note_items, to_markdown
from gemloom.tools.audio.summary import summarise, window_budget
from gemloom.tools.audio.transcript import Segment

LINE = "We went over the rollout numbers for the northern region and the support backlog again."


def transcript(hours: float, every: float = 10.0) -> list[Segment]:
    """A long transcript: one sentence every `every` seconds, each naming its minute."""
    count = int(hours * 3600 / every)
    return [
        Segment(i * every, i * every + 8, f"{LINE} (minute {int(i * every // 60)})")
        for i in range(count)
    ]


def test_a_short_meeting_is_one_request_with_think_off_and_a_schema(instant_model, llm):
    notes = summarise(llm, transcript(0.05), title="standup")
    (body,) = instant_model.chat_bodies()
    assert body["think"] is False and body["format"]["title"] == "Draft"
    assert body["messages"][0]["role"] == "system"
    assert "[00:00:00]" in body["messages"][1]["content"]
    assert notes.title == "Part from 00:00:00" and notes.cut == []
    assert notes.action_items[0].owner == "Maria"
    assert notes.decisions[0].timestamp == "00:00:00"


def test_a_three_hour_meeting_is_mapped_and_reduced_within_the_context(instant_model, llm):
    instant_model.models["gemma4:12b"].context_length = 8192
    segments = transcript(3)
    notes = summarise(llm, segments)
    bodies = instant_model.chat_bodies()
    maps = [b for b in bodies if b["messages"][1]["content"].startswith("Part ")]
    reduces = [b for b in bodies if b["messages"][1]["content"].startswith("These are notes")]
    assert len(maps) >= 5 and reduces
    assert all(b["options"]["num_ctx"] <= 8192 for b in bodies)
    sent = [line for b in maps for line in b["messages"][1]["content"].split("\n")[2:]]
    assert len(sent) == len(segments)  # every line in exactly one window, in order
    assert sent[0].startswith("[00:00:00]") and sent[-1].startswith("[02:59:50]")
    assert notes.title == "Merged meeting" and notes.cut == []
    cited = {d.timestamp for d in notes.decisions}
    assert "00:00:00" in cited and len(cited) == len(maps)  # every part kept its citation
    assert max(cited) > "02:00:00"


def test_a_line_longer_than_the_window_is_cut_and_the_notes_say_so(instant_model, llm):
    instant_model.models["gemma4:12b"].context_length = 8192
    budget = window_budget(llm)
    huge = Segment(60.0, 70.0, "blah " * int(budget * 5))
    notes = summarise(llm, [Segment(0, 5, "hello"), huge, Segment(80, 85, "bye")])
    assert notes.cut == ["the transcript line at 00:01:00 was cut to fit the model's context"]
    assert "> **Cut:** the transcript line at 00:01:00" in to_markdown(notes)


def test_too_many_items_to_merge_are_dropped_and_reported(instant_model, llm):
    instant_model.models["gemma4:12b"].context_length = 8192
    item = {"decision": "x" * 200, "timestamp": "00:00:01"}
    crowded = json.dumps({"title": "t", "summary": "s", "decisions": [item] * 60})
    instant_model.script(Turn(crowded, chunk_chars=1 << 20), Turn(crowded, chunk_chars=1 << 20))
    notes = summarise(llm, transcript(1.5))
    assert any(re.fullmatch(r"\d+ decisions were dropped to fit", c) for c in notes.cut)
    assert all(b["options"]["num_ctx"] <= 8192 for b in instant_model.chat_bodies())


def test_silence_makes_notes_without_asking_the_model(instant_model, llm):
    notes = summarise(llm, [], title="empty room")
    assert notes.summary == "No speech was detected in this recording."
    assert instant_model.chat_bodies() == []


def test_a_model_that_never_answers_in_schema_is_a_clear_error(fake_ollama, llm):
    from gemloom.errors import ModelOutputError

    fake_ollama.script(Turn("not json"), Turn("still not json"))
    with pytest.raises(ModelOutputError, match="does not match Draft"):
        summarise(llm, transcript(0.01))


def test_markdown_and_memory_items_carry_the_timestamps():
    notes = Notes.model_validate(
        {
            "title": "Launch sync",
            "summary": "We moved the launch.",
            "decisions": [{"decision": "Launch in March", "timestamp": "0:03:05"}],
            "action_items": [
                {
                    "task": "Send the report",
                    "owner": "Maria",
                    "due": "Friday",
                    "quote": "Maria will send the report by Friday",
                    "timestamp": "[00:04:10.2]",
                }
            ],
            "open_questions": [{"question": "Who pays?", "timestamp": "05:00"}],
            "topics": [{"topic": "Launch", "timestamp": "00:00:00"}],
        }
    )
    text = to_markdown(notes, source="sync.m4a", duration="00:10:00", path="native")
    assert text.startswith("# Launch sync\n\n*sync.m4a · 00:10:00 · transcribed: native*")
    assert "- [00:03:05] Launch in March" in text
    assert '- [ ] [00:04:10] Send the report — **Maria**, due Friday ("Maria will' in text
    assert "- [00:05:00] Who pays?" in text
    items = note_items(notes, "sync.m4a", "abc123")
    assert [(i.kind, i.timestamp, i.file_hash) for i in items] == [
        ("decision", "00:03:05", "abc123"),
        ("action_item", "00:04:10", "abc123"),
    ]
    assert items[1].text == "Send the report (owner: Maria) (due: Friday)"
    assert normalise_stamp("soon") == "soon"
