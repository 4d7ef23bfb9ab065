"""The fake Ollama speaks the real server's shapes (each checked against ollama/ollama's source)."""

import base64
import io
import json
import re
import wave

import httpx
import pytest
from fake_ollama import FakeModel, FakeOllama, Turn, call
from fake_ollama_wire import (
    OVERFLOW_V02,
    PULL_MISSING,
    go_parse_duration,
    keep_alive_error,
    media_count,
    prompt_count,
    text_count,
)

from gemloom import messages as msg


def post(fake: FakeOllama, path: str, body: dict) -> httpx.Response:
    return httpx.post(fake.url + path, json=body, timeout=10)


def chat(fake: FakeOllama, **fields) -> httpx.Response:
    body = {"model": "gemma4:12b", "messages": [{"role": "user", "content": "hi"}], **fields}
    return post(fake, "/api/chat", body)


def lines(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_tool_calls_arrive_in_their_own_chunk_with_id_and_index(fake_ollama) -> None:
    fake_ollama.script(Turn("Looking.", tool_calls=[call("a", x=1), call("b")]))
    parts = lines(chat(fake_ollama, tools=[{"type": "function"}]))
    with_calls = [p for p in parts if p["message"].get("tool_calls")]
    assert len(with_calls) == 2 and not any(p["done"] for p in with_calls)
    calls = [p["message"]["tool_calls"][0] for p in with_calls]
    assert [c["function"]["index"] for c in calls] == [0, 1]
    assert all(re.fullmatch(r"call_[a-z0-9]{8}", c["id"]) for c in calls)
    assert calls[0]["function"]["arguments"] == {"x": 1}


def test_an_unclosed_call_is_flushed_into_the_final_chunk(fake_ollama) -> None:
    fake_ollama.script(Turn(tool_calls=[call("a"), call("b")], unclosed_call=True))
    parts = lines(chat(fake_ollama, tools=[{"type": "function"}]))
    assert parts[-1]["done"] is True
    assert [c["function"]["name"] for c in parts[-1]["message"]["tool_calls"]] == ["b"]
    assert parts[-1]["message"]["tool_calls"][0]["function"]["index"] == 1


def test_the_final_chunk_carries_every_figure(fake_ollama) -> None:
    fake_ollama.script(Turn("ok"))
    final = lines(chat(fake_ollama))[-1]
    for key in ("done_reason", "total_duration", "load_duration", "prompt_eval_count"):
        assert key in final
    assert {"prompt_eval_duration", "eval_count", "eval_duration"} <= set(final)


def test_length_and_missing_done(fake_ollama) -> None:
    fake_ollama.script(Turn("cut", done_reason="length"), Turn("never ends", send_done=False))
    assert lines(chat(fake_ollama))[-1]["done_reason"] == "length"
    assert not any(p["done"] for p in lines(chat(fake_ollama)))


@pytest.mark.parametrize("generation", ["0.2x", "0.30"])
def test_overflow_without_truncate_is_a_400_in_each_generation(fake_ollama, generation) -> None:
    fake_ollama.generation = generation
    fake_ollama.script(Turn("x", prompt_eval_count=9_000))
    answer = chat(fake_ollama, options={"num_ctx": 8192}, truncate=False)
    assert answer.status_code == 400
    error = answer.json()["error"]
    if generation == "0.2x":
        assert error == OVERFLOW_V02
    else:
        inner = json.loads(error)["error"]
        assert inner["type"] == "exceed_context_size_error"
        assert (inner["n_prompt_tokens"], inner["n_ctx"]) == (9_000, 8192)


def test_overflow_with_truncate_on_is_silent(fake_ollama) -> None:
    fake_ollama.script(Turn("x", prompt_eval_count=9_000))
    assert chat(fake_ollama, options={"num_ctx": 8192}).status_code == 200


def test_pull_of_a_missing_model_is_200_then_an_error_line(fake_ollama) -> None:
    answer = post(fake_ollama, "/api/pull", {"model": "nosuch:7b"})
    assert answer.status_code == 200
    assert lines(answer) == [{"status": "pulling manifest"}, {"error": PULL_MISSING}]
    assert post(fake_ollama, "/api/pull", {"model": "bad name!"}).status_code == 400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("1.5h", 5400), ("-1s", -1), ("300ms", 0.3), ("0", 0)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert go_parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("-1", 'time: missing unit in duration "-1"'),
        ("300", 'time: missing unit in duration "300"'),
        ("forever", 'time: invalid duration "forever"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("", 'time: invalid duration ""'),
        (True, "Unsupported type: 'bool'"),
        (-1, None),
        (300, None),
        ("5m", None),
    ],
)
def test_keep_alive_as_ollama_parses_it(fake_ollama, value, error) -> None:
    assert keep_alive_error(value) == error
    fake_ollama.script(Turn("ok"))
    answer = chat(fake_ollama, keep_alive=value)
    assert answer.status_code == (400 if error else 200)
    if error:
        assert answer.json()["error"] == error


def wav(seconds: float) -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\0\0" * int(16_000 * seconds))
    return base64.b64encode(buffer.getvalue()).decode()


def test_prompt_count_is_its_own_rule_with_audio_by_duration() -> None:
    assert media_count(wav(2.0)) == 50 and media_count(wav(10.0)) == 250
    assert media_count(base64.b64encode(b"\x89PNG....").decode()) == 280
    prose = "The quick brown fox jumps over the lazy dog. " * 20
    assert text_count(prose) != msg.text_tokens(prose)
    body = {"messages": [msg.user(prose, audio=[base64.b64decode(wav(4.0))])]}
    assert prompt_count(body) == 5 + text_count(prose) + 100


def test_show_gemma4_12b_as_the_real_server(fake_ollama) -> None:
    shown = post(fake_ollama, "/api/show", {"model": "gemma4:12b"}).json()
    assert shown["model_info"]["general.architecture"] == "gemma4"
    assert shown["model_info"]["gemma4.context_length"] == 262_144
    assert shown["capabilities"] == ["completion", "vision", "audio", "tools", "thinking"]
    assert shown["details"]["family"] == "gemma4"


def test_reloads_are_counted_when_num_ctx_or_shift_change(fake_ollama) -> None:
    fake_ollama.models["small"] = FakeModel(context_length=32_768)
    fake_ollama.default = Turn("ok")
    for options, shift in [
        ({"num_ctx": 8192}, False),
        ({"num_ctx": 8192}, False),
        ({"num_ctx": 32_768}, False),  # reload 1
        ({"num_ctx": 32_768}, True),  # reload 2: shift changed
        ({"num_ctx": 32_768}, True),
    ]:
        chat(fake_ollama, options=options, shift=shift)
    assert fake_ollama.reloads["gemma4:12b"] == 2
    chat(fake_ollama, model="small", options={"num_ctx": 65_536})
    chat(fake_ollama, model="small", options={"num_ctx": 300_000})  # both capped at 32K
    assert fake_ollama.reloads["small"] == 0
    ps = httpx.get(fake_ollama.url + "/api/ps").json()["models"]
    assert {m["name"]: m["context_length"] for m in ps} == {"gemma4:12b": 32_768, "small": 32_768}


def test_capability_refusals_use_the_real_wording(fake_ollama) -> None:
    fake_ollama.models["plain"] = FakeModel(["completion"], 8_192, "gemma3")
    fake_ollama.default = Turn("ok")
    assert chat(fake_ollama, model="plain", think=False).status_code == 200  # only true refuses
    refused = chat(fake_ollama, model="plain", think=True)
    assert (refused.status_code, refused.json()["error"]) == (
        400,
        '"plain" does not support thinking',
    )
    tools = chat(fake_ollama, model="plain", tools=[{"type": "function"}]).json()["error"]
    assert tools == "registry.ollama.ai/library/plain:latest does not support tools"


def test_connections_stay_open_between_requests_as_ollamas_do(fake_ollama) -> None:
    # server/routes.go Serve: a net/http Server with Go's defaults, which keep connections alive
    fake_ollama.script(Turn("a streamed answer"))
    with httpx.Client(timeout=10) as client:
        assert client.get(fake_ollama.url + "/api/version").status_code == 200
        streamed = client.post(fake_ollama.url + "/api/chat", json={"model": "gemma4:12b"})
        missing = client.post(fake_ollama.url + "/api/show", json={"model": "nope"})
        assert client.get(fake_ollama.url + "/api/tags").status_code == 200
    assert streamed.headers["transfer-encoding"] == "chunked" and len(lines(streamed)) > 2
    assert missing.status_code == 404
    assert [r.headers.get("connection") for r in (streamed, missing)] == [None, None]
    assert fake_ollama.connections() == 1
    assert fake_ollama.dropped == 0  # every stream was read to its end


def test_many_idle_connections_are_all_kept_as_go_keeps_them(fake_ollama) -> None:
    idle = [httpx.Client(timeout=10) for _ in range(12)]  # other clients, each with one open
    with httpx.Client(timeout=10) as client:
        for other in idle:
            assert other.get(fake_ollama.url + "/api/version").status_code == 200
        fake_ollama.requests.clear()
        for _ in range(3):
            assert client.get(fake_ollama.url + "/api/tags").status_code == 200
        assert fake_ollama.connections() == 1
        fake_ollama.requests.clear()
        assert [other.get(fake_ollama.url + "/api/ps").status_code for other in idle] == [200] * 12
        assert fake_ollama.connections() == 12  # each over the one it kept
    for other in idle:
        other.close()


def test_a_cut_stream_closes_its_connection(fake_ollama) -> None:
    fake_ollama.script(Turn("abcdef", chunk_chars=1, cut_after=2))
    with httpx.Client(timeout=10) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            client.post(fake_ollama.url + "/api/chat", json={"model": "gemma4:12b"})
        assert client.get(fake_ollama.url + "/api/version").status_code == 200
    assert fake_ollama.connections() == 2


def test_an_error_before_anything_streamed_is_a_status_and_after_it_a_line(fake_ollama) -> None:
    fake_ollama.script(Turn("abcd", error_after=0), Turn("abcd", chunk_chars=1, error_after=2))
    first, later = chat(fake_ollama), chat(fake_ollama)
    assert (first.status_code, first.json()) == (500, {"error": "fake error"})
    assert later.status_code == 200 and lines(later)[-1] == {"error": "fake error"}
    assert len(lines(later)) == 3
