"""The public Sessions methods front ends use to edit a session: retry, rewind, stop, model."""

import pytest
from fake_ollama import Turn

from gemloom.agents import events as ev
from gemloom.agents.sessions import Sessions
from gemloom.agents.state import NOTICE
from gemloom.errors import GemloomError
from gemloom.llm import LLM, ContentDelta
from gemloom.settings import load_settings


class StopsAfterOnePiece(LLM):
    """An LLM whose answer is stopped after its first piece (as Escape does in the TUI)."""

    stopping = True

    def stream(self, messages, **kwargs):
        for event in super().stream(messages, **kwargs):
            yield event
            if self.stopping and isinstance(event, ContentDelta):
                raise GemloomError("Stopped by you.")


def contents(sessions, sid) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in sessions.messages(sid)][1:]  # without the system


def test_drop_last_answer_then_resume_answers_the_last_message_again(sessions, fake_ollama):
    fake_ollama.script(Turn("one"), Turn("two"), Turn("two, again"))
    sid = sessions.create()
    list(sessions.send(sid, "first"))
    list(sessions.send(sid, "second"))
    assert sessions.drop_last_answer(sid) is True
    assert contents(sessions, sid) == [("user", "first"), ("assistant", "one"), ("user", "second")]
    assert not sessions.awaiting(sid)
    list(sessions.resume(sid))
    assert contents(sessions, sid)[-2:] == [("user", "second"), ("assistant", "two, again")]
    assert fake_ollama.chat_bodies()[-1]["messages"][-1]["content"] == "second"


def test_drop_last_answer_without_a_message_changes_nothing(sessions):
    sid = sessions.create()
    assert sessions.drop_last_answer(sid) is False
    assert sessions.messages(sid) == []


def test_truncate_keeps_the_first_messages_and_waits_for_a_new_one(sessions, fake_ollama):
    fake_ollama.script(Turn("one"), Turn("two"), Turn("other"))
    sid = sessions.create()
    list(sessions.send(sid, "first"))
    list(sessions.send(sid, "second"))
    sessions.truncate(sid, 3)  # system, first, one
    assert contents(sessions, sid) == [("user", "first"), ("assistant", "one")]
    assert not sessions.unfinished(sid)
    list(sessions.send(sid, "another"))
    assert contents(sessions, sid)[-2:] == [("user", "another"), ("assistant", "other")]


def test_keep_partial_records_the_text_and_a_notice_after_a_stop_in_the_model(
    fake_ollama, workspace
):
    llm = StopsAfterOnePiece(load_settings(), retries=0)
    sessions = Sessions(load_settings(), llm=llm, workspace=workspace)
    fake_ollama.script(Turn("a long answer that is stopped"), Turn("the next answer"))
    sid = sessions.create()
    with pytest.raises(GemloomError):
        list(sessions.send(sid, "tell me"))
    assert sessions.unfinished(sid)
    assert sessions.keep_partial(sid, "a long", "Stopped by you.") is True
    assert contents(sessions, sid) == [
        ("user", "tell me"),
        ("assistant", "a long"),
        (NOTICE, "Stopped by you."),
    ]
    assert not sessions.unfinished(sid)
    llm.stopping = False
    list(sessions.send(sid, "go on"))
    sent = fake_ollama.chat_bodies()[-1]["messages"]
    assert [m["content"] for m in sent][-2:] == ["a long", "go on"]  # the notice is not sent


def test_keep_partial_outside_a_model_call_changes_nothing(sessions, fake_ollama):
    fake_ollama.script(Turn("done"))
    sid = sessions.create()
    list(sessions.send(sid, "hi"))
    before = sessions.messages(sid)
    assert sessions.keep_partial(sid, "ignored", "Stopped by you.") is False
    assert sessions.messages(sid) == before


def test_use_model_sends_the_next_message_to_that_model(sessions, fake_ollama):
    fake_ollama.script(Turn("hi"))
    assert sessions.model == "gemma4:12b"
    fake_ollama.models["gemma4:e2b"] = fake_ollama.models["gemma4:12b"]
    sessions.use_model("gemma4:e2b")
    assert sessions.model == "gemma4:e2b"
    list(sessions.send(sessions.create(), "hello"))
    assert fake_ollama.chat_bodies()[-1]["model"] == "gemma4:e2b"


def test_usage_carries_ollamas_answer_figures(sessions, fake_ollama):
    fake_ollama.script(Turn("x" * 40))
    events = list(sessions.send(sessions.create(), "count"))
    usage = [e for e in events if isinstance(e, ev.Usage)][-1]
    # the fake's final chunk: eval_count len(content) // 4, eval_duration 500,000 ns
    assert usage.answer_tokens == 10 and usage.eval_seconds == 0.0005
    assert usage.speed == 20_000 and usage.done_reason == "stop"
