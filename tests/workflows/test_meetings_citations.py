"""Citations in meeting notes are checked against the transcript: moved, or flagged unverified."""

from __future__ import annotations

import json

from fake_ollama import Turn

from gemloom.tools.audio.citations import check_citations, quote_score, unverified
from gemloom.tools.audio.notes import ActionItem, MeetingDecision, Notes, Question, to_markdown
from gemloom.tools.audio.summary import summarise
from gemloom.tools.audio.transcript import Segment

SEGMENTS = [
    Segment(0.0, 4.0, "Good morning, let us start with the release plan.", "Speaker 1"),
    Segment(5.0, 9.0, "The installer still fails on older laptops.", "Speaker 2"),
    Segment(70.0, 74.0, "Tom, please write the test plan this week.", "Speaker 1"),
    Segment(75.0, 79.0, "We decided to ship on the twentieth of March.", "Speaker 3"),
]


def _notes(**lists) -> Notes:
    return Notes(title="t", summary="s", **lists)


def _action(timestamp: str, quote: str, owner: str | None = None) -> ActionItem:
    return ActionItem(task="write the test plan", timestamp=timestamp, quote=quote, owner=owner)


def test_a_quote_found_near_its_citation_is_verified_and_snapped_to_its_line():
    notes = check_citations(
        _notes(action_items=[_action("00:01:12", "please write the test plan")]), SEGMENTS
    )
    (item,) = notes.action_items
    assert item.timestamp == "00:01:10" and item.unverified is None


def test_a_quote_cited_at_the_wrong_time_is_moved_to_where_it_was_said():
    notes = check_citations(
        _notes(action_items=[_action("00:00:05", "Tom please write the test plan")]), SEGMENTS
    )
    assert notes.action_items[0].timestamp == "00:01:10"
    assert notes.action_items[0].unverified is None


def test_a_quote_nobody_said_is_flagged_in_the_notes():
    notes = check_citations(
        _notes(action_items=[_action("00:01:10", "Maria will buy new laptops for everyone")]),
        SEGMENTS,
    )
    assert notes.action_items[0].unverified == "quote not found in the transcript"
    assert "*(unverified: quote not found in the transcript)*" in to_markdown(notes)
    assert unverified(notes) == ["[00:01:10] quote not found in the transcript"]


def test_an_invented_time_is_moved_to_the_line_that_says_it_or_flagged():
    notes = check_citations(
        _notes(
            decisions=[
                MeetingDecision(decision="ship on the twentieth of March", timestamp="00:42:00")
            ],
            open_questions=[Question(question="who pays for lunch", timestamp="00:33:33")],
        ),
        SEGMENTS,
    )
    assert notes.decisions[0].timestamp == "00:01:15" and notes.decisions[0].unverified is None
    assert notes.open_questions[0].unverified == "00:33:33 is not a time in the transcript"


def test_a_time_inside_a_line_is_snapped_to_the_lines_start():
    notes = check_citations(
        _notes(open_questions=[Question(question="installer", timestamp="00:00:07")]), SEGMENTS
    )
    assert notes.open_questions[0].timestamp == "00:00:05"


def test_an_owner_must_be_a_speaker_or_a_name_said():
    items = [
        _action("00:01:10", "please write the test plan", owner="Tom"),
        _action("00:01:10", "please write the test plan", owner="Speaker 3"),
        _action("00:01:10", "please write the test plan", owner="Maria"),
    ]
    tom, speaker, maria = check_citations(_notes(action_items=items), SEGMENTS).action_items
    assert tom.owner == "Tom" and speaker.owner == "Speaker 3"
    assert tom.unverified is None and speaker.unverified is None
    assert maria.owner is None and "owner 'Maria'" in maria.unverified


def test_quote_score_counts_words_in_order():
    assert quote_score("write the test plan", "Tom, please write the test plan.") == 1.0
    assert quote_score("plan test the write", "write the test plan") < 0.5
    assert quote_score("", "anything") == 0.0


def test_a_fake_model_inventing_a_timestamp_is_caught(fake_ollama, llm):
    invented = {
        "title": "Sync",
        "summary": "Release talk.",
        "decisions": [{"decision": "ship on the twentieth of March", "timestamp": "01:59:59"}],
        "action_items": [
            {
                "task": "fix laptops",
                "owner": "Priya",
                "quote": "buy everyone a new laptop",
                "timestamp": "00:00:05",
            }
        ],
        "open_questions": [],
        "topics": [{"topic": "lunch menu", "timestamp": "00:20:00"}],
    }
    fake_ollama.script(Turn(json.dumps(invented)))
    notes = check_citations(summarise(llm, SEGMENTS), SEGMENTS)
    assert notes.decisions[0].timestamp == "00:01:15"  # corrected
    assert notes.action_items[0].unverified.startswith("quote not found")  # flagged
    assert notes.action_items[0].owner is None
    assert notes.topics[0].unverified == "00:20:00 is not a time in the transcript"
    markdown = to_markdown(notes)
    assert markdown.count("*(unverified:") == 2


EMPTY_NOTES = {"title": "t", "summary": "", "decisions": [], "action_items": []}


def _answer_empty_then(good: bool):
    """A fake Gemma whose first notes are empty; the retry is empty again or grounded."""

    def answer(body):
        system = body["messages"][0]["content"]
        if good and "came back empty" in system:
            stamp = body["messages"][-1]["content"].split("\n")[2][1:9]
            notes = {**EMPTY_NOTES, "summary": "They planned the launch together today.",
                     "topics": [{"topic": "the launch", "timestamp": stamp}]}  # fmt: skip
            return Turn(json.dumps(notes))
        return Turn(json.dumps(EMPTY_NOTES))

    return answer


def test_empty_notes_are_retried_once_more_strictly(fallback_model, llm, tmp_path, make_meeting):
    from gemloom.workflows.meetings.ledger import Ledger
    from gemloom.workflows.meetings.pipeline import MeetingJob, process

    fallback_model.default = _answer_empty_then(good=True)
    talk = make_meeting(tmp_path / "talk.ogg", repeats=2)
    job = MeetingJob(llm, Ledger(llm.settings.data_dir / "meetings.sqlite3"), tmp_path)
    outcome = process(talk, job)
    systems = [b["messages"][0]["content"] for b in fallback_model.chat_bodies()]
    assert outcome.status == "done" and len(systems) == 2 and "came back empty" in systems[1]
    assert "the launch" in (tmp_path / "talk.md").read_text()


def test_notes_empty_twice_are_a_visible_warning_and_a_failing_status(
    fallback_model, llm, tmp_path, make_meeting, capsys
):
    from gemloom.cli import main
    from gemloom.workflows.meetings.ledger import Ledger

    fallback_model.default = _answer_empty_then(good=False)
    talk = make_meeting(tmp_path / "talk.ogg", repeats=2)
    assert main(["ingest", str(talk), "--out", str(tmp_path / "out")]) == 1
    assert "empty" in capsys.readouterr().out
    assert (
        "> **Note:** Warning: the notes came back empty twice"
        in (tmp_path / "out" / "talk.md").read_text()
    )
    ledger = Ledger(llm.settings.data_dir / "meetings.sqlite3")
    ((state, error),) = ledger.db.execute("SELECT state, error FROM files").fetchall()
    ledger.close()
    assert state == "empty" and "empty twice" in error
