"""gemloom.llm against the real server's behaviours: cuts, errors that heal or not, keep_alive."""

import gc
import time

import pytest
from fake_ollama import FakeModel, FakeOllama, Turn, call
from fake_ollama_wire import (
    LOAD_FAILED,
    OUT_OF_MEMORY,
    PULL_MISSING,
    RUNNER_STOPPED,
    SERVER_BUSY,
)
from pydantic import BaseModel

from gemloom import messages as msg
from gemloom.errors import (
    AnswerCut,
    CapabilityMissing,
    ContextOverflow,
    GemloomError,
    ModelLoadFailed,
    ModelOutputError,
    ServerContextOverflow,
    ServerError,
)
from gemloom.llm import LLM, ContentDelta, Done
from gemloom.settings import load_settings


class Verdict(BaseModel):
    title: str
    score: int


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


# -- keep_alive ------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "sent"), [("-1", -1), ("300", 300), ("1h30m", "1h30m")])
def test_keep_alive_goes_out_as_ollama_takes_it(fake_ollama, monkeypatch, setting, sent) -> None:
    monkeypatch.setenv("GEMLOOM_KEEP_ALIVE", setting)
    llm = LLM(load_settings(), retries=0)
    fake_ollama.script(Turn("ok"))
    assert llm.chat([msg.user("hi")]).content == "ok"  # the fake answers 400 to "-1" or "300"
    llm.embed(["one"])
    sent_paths = ("/api/chat", "/api/embed")
    assert [r.body["keep_alive"] for r in fake_ollama.requests if r.path in sent_paths] == [
        sent,
        sent,
    ]


# -- done_reason and num_predict ----------------------------------------------------------


def test_num_predict_holds_the_answer_to_the_reserve(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("a"), Turn("b"))
    llm.chat([msg.user("hi")])
    llm.chat([msg.user("hi")], options={"num_predict": 1000})
    options = [b["options"] for b in fake_ollama.chat_bodies()]
    assert options[0]["num_predict"] == llm.settings.answer_reserve
    assert options[1]["num_predict"] == 1000
    assert all(o["num_ctx"] >= o["num_predict"] for o in options)


def test_done_reason_reaches_the_done_event_and_the_result(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("half an ans", done_reason="length"), Turn("whole"))
    events = list(llm.stream([msg.user("hi")]))
    assert isinstance(events[-1], Done) and events[-1].done_reason == "length"
    assert events[-1].stats.cut
    result = llm.chat([msg.user("hi")])
    assert (result.done_reason, result.cut) == ("stop", False)


def test_a_stream_without_done_is_an_error(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("never finished", send_done=False))
    with pytest.raises(ServerError, match="without finishing"):
        llm.chat([msg.user("hi")])


def test_structured_retries_a_cut_reply_with_more_room(llm, fake_ollama) -> None:
    fake_ollama.script(Turn('{"title": "fi', done_reason="length"), Turn('{"title":"a","score":1}'))
    assert llm.structured([msg.user("rate")], Verdict).score == 1
    first, second = fake_ollama.chat_bodies()
    assert second["options"]["num_predict"] == 2 * first["options"]["num_predict"]
    assert second["messages"] == first["messages"]  # a cut is not a mistake to repair


def test_structured_fails_with_one_line_when_cut_twice(llm, fake_ollama) -> None:
    fake_ollama.script(*[Turn('{"title": "fi', done_reason="length")] * 2)
    with pytest.raises(AnswerCut) as caught:
        llm.structured([msg.user("rate")], Verdict)
    assert "cut at the context limit" in one_line(caught.value)
    assert "does not match" not in str(caught.value)
    assert len(fake_ollama.chat_bodies()) == 2


def test_a_cut_and_an_invalid_reply_each_get_their_round(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("{", done_reason="length"), Turn("nope"), Turn('{"title": 1}'))
    with pytest.raises(ModelOutputError, match="after a repair round"):
        llm.structured([msg.user("rate")], Verdict)
    assert len(fake_ollama.chat_bodies()) == 3


# -- what heals and what does not ---------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(llm, fake_ollama, status) -> None:
    fake_ollama.fail_next(2, status, "bad gateway")
    fake_ollama.script(Turn("back"))
    assert llm.chat([msg.user("hi")]).content == "back"


def test_server_busy_before_any_text_is_retried(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("x", error_after=0, error=SERVER_BUSY), Turn("back"))
    assert llm.chat([msg.user("hi")]).content == "back"
    assert len(fake_ollama.chat_bodies()) == 2


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (LOAD_FAILED, ModelLoadFailed, "could not load"),
        (OUT_OF_MEMORY, ModelLoadFailed, "ran out of memory"),
        (RUNNER_STOPPED, ServerError, "stopped unexpectedly"),
        ("invalid JSON schema in format", ServerError, "JSON schema"),  # llm/server.go v0.24.0
    ],
)
def test_what_cannot_heal_fails_at_once_with_one_line(llm, fake_ollama, error, kind, words):
    fake_ollama.default = Turn(status=500, error=error)
    with pytest.raises(kind) as caught:
        llm.chat([msg.user("hi")])
    assert words in one_line(caught.value) and "gemma4:12b" in str(caught.value)
    assert len(fake_ollama.chat_bodies()) == 1


@pytest.mark.parametrize("generation", ["0.2x", "0.30"])
def test_server_side_overflow_is_one_line_with_the_counts(llm, fake_ollama, generation) -> None:
    fake_ollama.generation = generation
    fake_ollama.script(Turn("x", prompt_eval_count=20_000), Turn("fits"))
    with pytest.raises(ServerContextOverflow) as caught:
        llm.chat([msg.user("a short prompt the estimate gets very wrong")])
    text = one_line(caught.value)
    assert isinstance(caught.value, ContextOverflow) and "num_ctx 8,192 (" in text
    assert "gemloom estimated" in text
    assert len(fake_ollama.chat_bodies()) == 1
    if generation == "0.30":
        assert "counted 20,000 tokens" in text
    llm.chat([msg.user("a short prompt the estimate gets very wrong")])  # learnt the ratio
    assert fake_ollama.chat_bodies()[-1]["options"]["num_ctx"] > 8_192


def test_pull_of_a_missing_model_is_one_line(llm, fake_ollama) -> None:
    with pytest.raises(ServerError) as caught:
        list(llm.pull("nosuch:7b"))
    assert "nosuch:7b" in one_line(caught.value) and PULL_MISSING in str(caught.value)


# -- capabilities -------------------------------------------------------------------------


def test_a_server_side_capability_refusal_names_a_model_that_has_it(fake_ollama) -> None:
    fake_ollama.models["plain"] = FakeModel(["completion", "tools"], 8_192, "gemma3")
    llm = LLM(load_settings(chat_model="plain"), retries=0)
    llm.model_info()  # cached with tools, then the server loses them
    fake_ollama.models["plain"].capabilities.remove("tools")
    with pytest.raises(CapabilityMissing) as caught:
        llm.chat([msg.user("hi")], tools=[{"type": "function", "function": {"name": "f"}}])
    assert caught.value.alternatives == ["gemma4:12b"]
    assert "pulled models that have it: gemma4:12b" in one_line(caught.value)


def test_when_no_pulled_model_has_it_the_error_says_so(fake_ollama: FakeOllama) -> None:
    fake_ollama.models["gemma4:12b"].capabilities.remove("audio")
    llm = LLM(load_settings(), retries=0)
    with pytest.raises(CapabilityMissing) as caught:
        llm.require("audio")
    text = one_line(caught.value)
    assert "none of the pulled models has it" in text
    assert "gemloom pull gemma4:12b" not in text  # the model that lacks it is gemma4:12b


def test_calls_closed_mid_stream_and_flushed_at_done_all_arrive(llm, fake_ollama) -> None:
    tools = [{"type": "function", "function": {"name": "a"}}]
    fake_ollama.script(Turn("ok", tool_calls=[call("a", n=1), call("a", n=2)], unclosed_call=True))
    result = llm.chat([msg.user("hi")], tools=tools)
    assert [c.arguments for c in result.tool_calls] == [{"n": 1}, {"n": 2}]


def test_one_connection_carries_every_request_as_against_ollama(llm, fake_ollama) -> None:
    """Ollama keeps connections alive: a client reuses its pooled one, for streams too."""
    fake_ollama.script(Turn("first"), Turn("second"))
    llm.model_info()
    assert llm.chat([msg.user("hi")]).content == "first"
    assert [e for e in llm.stream([msg.user("again")]) if isinstance(e, Done)]
    assert llm.embed(["a text"], model="embeddinggemma")
    assert fake_ollama.connections() == 1


def test_a_connection_idle_for_longer_than_a_person_types_is_kept(llm, fake_ollama) -> None:
    """Kept 90 s like Ollama's own client's (httpx alone closes one idle for 5 s)."""
    fake_ollama.script(Turn("first"), Turn("second"))
    assert llm.chat([msg.user("hi")]).content == "first"
    time.sleep(6)
    assert llm.chat([msg.user("a while later")]).content == "second"
    assert fake_ollama.connections() == 1


def test_a_connection_cut_after_done_keeps_the_whole_answer(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("all of it", cut_at_end=True), Turn("next"))
    assert llm.chat([msg.user("hi")]).content == "all of it"
    assert llm.chat([msg.user("again")]).content == "next"
    assert fake_ollama.connections() == 2  # the cut one, then a new one


def test_a_client_whose_ollama_restarted_carries_on_over_a_new_connection() -> None:
    """Ollama restarted while gemloom held an idle connection to it: the next chat works."""
    first = FakeOllama().start()
    llm = LLM(load_settings(ollama_host=first.url), retries=0)
    first.script(Turn("before"))
    assert llm.chat([msg.user("hi")]).content == "before"
    first.stop()
    again = FakeOllama(port=int(first.url.rsplit(":", 1)[1])).start()
    try:
        again.script(Turn("after"))
        assert llm.chat([msg.user("hi")]).content == "after"
        assert again.connections() == 1
    finally:
        again.stop()


def stop_at_the_first_piece(llm: LLM) -> None:
    """Read an answer up to its first piece, then stop reading it as Escape in the TUI does
    (the caller raises inside its loop over the stream)."""
    with pytest.raises(GemloomError):
        for event in llm.stream([msg.user("hi")]):
            if isinstance(event, ContentDelta):
                raise GemloomError("Stopped by you.")


def test_an_answer_left_mid_stream_gives_up_its_connection_at_once(llm, fake_ollama) -> None:
    """A caller that stops reading (Escape in the TUI) closes the response there and then, not
    whenever the garbage collector runs: finalized inside the client's pool lock it would hang."""
    fake_ollama.script(Turn("a long answer, in pieces", chunk_chars=2), Turn("the next"))
    gc.disable()
    try:
        stop_at_the_first_piece(llm)
        pool = llm.client._client._transport._pool
        assert [c for c in pool.connections if not c.is_idle()] == []
        assert llm.chat([msg.user("again")]).content == "the next"
    finally:
        gc.enable()


def test_a_stopped_answer_stops_the_stream_on_the_server(llm, fake_ollama) -> None:
    """Closing the connection is how Ollama learns to stop generating (the runner runs under
    the request's context): the rest of the answer is never sent."""
    fake_ollama.script(Turn("a long answer, in pieces", chunk_chars=2, delay=0.02))
    stop_at_the_first_piece(llm)
    deadline = time.monotonic() + 10
    while not fake_ollama.dropped and time.monotonic() < deadline:
        time.sleep(0.01)  # the server sees it at its next write, a piece later
    assert fake_ollama.dropped == 1
