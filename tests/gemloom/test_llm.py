import base64
import io
import wave
from pathlib import Path

import pytest
from fake_ollama import FakeModel, FakeOllama, Turn
from fake_ollama_wire import SERVER_BUSY
from pydantic import BaseModel

from gemloom import messages as msg
from gemloom.errors import (
    CapabilityMissing,
    ContextOverflow,
    ModelNotFound,
    ModelOutputError,
    OllamaUnreachable,
    RequestTimeout,
    ServerError,
)
from gemloom.llm import LLM, ContentDelta, Done, ThinkingDelta, ToolCalls, choose_num_ctx
from gemloom.settings import load_settings


def wav_bytes(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


def test_capabilities_are_probed_once_per_model(llm: LLM, fake_ollama: FakeOllama) -> None:
    fake_ollama.models["small"] = FakeModel(["completion"], 32_768, "gemma3")
    info = llm.model_info()
    assert info.capabilities >= {"tools", "vision", "audio", "thinking"}
    assert info.context_length == 262_144
    assert llm.model_info("small").context_length == 32_768
    llm.model_info()
    llm.model_info("small")
    assert [r.path for r in fake_ollama.requests].count("/api/show") == 2


def test_fifty_thousand_token_prompt_gets_room_and_no_shift(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("ok"))
    prompt = "word " * 36_000  # 180,000 characters: 50,000 estimated tokens
    assert msg.estimate_tokens([msg.user(prompt)]) >= 50_000
    result = llm.chat([msg.user(prompt)])
    body = fake_ollama.chat_bodies()[0]
    assert body["options"]["num_ctx"] >= 50_000
    assert body["options"]["num_ctx"] in (65_536, 131_072)
    assert body["shift"] is False
    assert body["truncate"] is False
    assert body["keep_alive"] == "30m"
    assert result.stats.num_ctx == body["options"]["num_ctx"]


def test_a_history_counter_sizes_the_request_as_the_full_estimate_does(llm: LLM) -> None:
    history = [msg.user("read them"), msg.assistant("", [{"name": "f", "arguments": {"n": 1}}])]
    history += [msg.tool_result("f", "result " * 9_000)]
    tools = [{"type": "function", "function": {"name": "f", "description": "x" * 300}}]
    full = llm.prepare(history, tools=tools)
    counted = llm.prepare(history, tools=tools, count=msg.HistoryTokens())
    assert counted == full  # the same body and the same figures
    big, stats = llm.prepare(history, tools=tools, count=lambda messages, tools: 60_000)
    assert stats.estimated_prompt_tokens == 60_000 and big["options"]["num_ctx"] >= 65_536


def test_prompt_over_trained_context_raises_before_any_request(llm, fake_ollama) -> None:
    fake_ollama.models["gemma4:12b"].context_length = 8_192
    with pytest.raises(ContextOverflow) as caught:
        llm.chat([msg.user("x" * 40_000)])
    assert caught.value.excess > 0
    assert f"{caught.value.excess:,} tokens too many" in str(caught.value)
    assert fake_ollama.chat_bodies() == []


def test_num_ctx_steps_and_cap() -> None:
    assert choose_num_ctx(100, 262_144, "m") == 8_192
    assert choose_num_ctx(9_000, 262_144, "m") == 32_768
    assert choose_num_ctx(40_000, 40_960, "m") == 40_960
    with pytest.raises(ContextOverflow):
        choose_num_ctx(40_961, 40_960, "m")


def test_think_is_explicit_for_thinking_models_and_absent_otherwise(llm, fake_ollama):
    fake_ollama.models["plain"] = FakeModel(["completion"], 8_192, "llama")
    fake_ollama.script(Turn("a"), Turn("b"), Turn("c"))
    llm.chat([msg.user("hi")])
    llm.chat([msg.user("hi")], think=True)
    llm.chat([msg.user("hi")], model="plain", think=True)
    bodies = fake_ollama.chat_bodies()
    assert bodies[0]["think"] is False
    assert bodies[1]["think"] is True
    assert "think" not in bodies[2]


def test_timeout_is_always_set(llm: LLM) -> None:
    assert llm.client._client.timeout.read == 300


def test_images_and_audio_are_sent_audio_first(llm, fake_ollama, tmp_path: Path) -> None:
    png = tmp_path / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfakepng")
    audio = wav_bytes(2.0)
    fake_ollama.script(Turn("seen"))
    llm.chat([msg.user("what is this?", images=[png, b"\xff\xd8jpeg"], audio=[audio])])
    images = fake_ollama.chat_bodies()[0]["messages"][0]["images"]
    assert [base64.b64decode(i)[:4] for i in images] == [b"RIFF", b"\x89PNG", b"\xff\xd8jp"]
    assert msg.media_tokens(images[0]) == 50  # 2 s at 40 ms a token
    assert msg.media_tokens(images[1]) == 280


def test_missing_vision_fails_before_the_request_and_names_a_model_that_has_it(fake_ollama):
    fake_ollama.models["blind"] = FakeModel(["completion", "tools"], 8_192, "gemma3")
    llm = LLM(load_settings(chat_model="blind"), retries=0)
    with pytest.raises(CapabilityMissing) as caught:
        llm.chat([msg.user("look", images=[b"\x89PNG...."])])
    assert "'vision'" in str(caught.value)
    assert "gemma4:12b" in str(caught.value)
    assert fake_ollama.chat_bodies() == []


def test_stream_yields_typed_events_and_records_the_token_ratio(llm, fake_ollama) -> None:
    fake_ollama.script(
        Turn(
            "The answer is 4.",
            thinking="2+2...",
            prompt_eval_count=40,
            tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 2}}],
        )
    )
    events = list(llm.stream([msg.user("what is 2+2?" * 10)], think=True))
    kinds = [type(e) for e in events]
    assert kinds[0] is ThinkingDelta
    assert ContentDelta in kinds and ToolCalls in kinds and kinds[-1] is Done
    text = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert text == "The answer is 4."
    calls = next(e for e in events if isinstance(e, ToolCalls)).calls
    assert (calls[0].name, calls[0].arguments) == ("add", {"a": 2, "b": 2})
    stats = events[-1].stats
    assert stats.prompt_eval_count == 40
    assert llm.token_ratios["gemma4:12b"] == pytest.approx(40 / stats.estimated_prompt_tokens)


class Verdict(BaseModel):
    title: str
    score: int


def test_structured_output_validates(llm, fake_ollama) -> None:
    fake_ollama.script(Turn('{"title": "fine", "score": 3}'))
    assert llm.structured([msg.user("rate")], Verdict) == Verdict(title="fine", score=3)
    body = fake_ollama.chat_bodies()[0]
    assert body["format"]["properties"]["score"]["type"] == "integer"
    assert body["think"] is False


def test_structured_output_repairs_once(llm, fake_ollama) -> None:
    fake_ollama.script(Turn('{"title": "fine"'), Turn('{"title": "fine", "score": 5}'))
    assert llm.structured([msg.user("rate")], Verdict).score == 5
    repair = fake_ollama.chat_bodies()[1]["messages"][-1]["content"]
    assert "not valid" in repair


def test_structured_output_gives_up_after_one_repair(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("nope"), Turn('{"title": 1}'))
    with pytest.raises(ModelOutputError, match="Verdict"):
        llm.structured([msg.user("rate")], Verdict)
    assert len(fake_ollama.chat_bodies()) == 2


def test_ollama_down(dead_host: str) -> None:
    llm = LLM(load_settings(), retries=1, backoff=0.01)
    with pytest.raises(OllamaUnreachable) as caught:
        llm.chat([msg.user("hi")])
    assert "ollama serve" in str(caught.value)
    assert dead_host in str(caught.value)


def test_busy_server_then_recovery_is_retried(llm, fake_ollama) -> None:
    fake_ollama.fail_next(2, 503, SERVER_BUSY)
    fake_ollama.script(Turn("back"))
    assert llm.chat([msg.user("hi")]).content == "back"
    assert [r.path for r in fake_ollama.requests].count("/api/show") == 3  # 2 failures + 1


def test_persistent_server_error_gives_up(llm, fake_ollama) -> None:
    fake_ollama.fail_next(10, 503, "busy")
    with pytest.raises(ServerError, match="503"):
        llm.model_info()
    assert len(fake_ollama.requests) == 3  # first try + 2 retries


def test_client_errors_are_not_retried(llm, fake_ollama) -> None:
    with pytest.raises(ModelNotFound, match="gemloom pull nothing:1b"):
        llm.chat([msg.user("hi")], model="nothing:1b")
    assert len(fake_ollama.requests) == 1


def test_model_missing_at_chat_time(llm, fake_ollama) -> None:
    llm.model_info()
    del fake_ollama.models["gemma4:12b"]
    with pytest.raises(ModelNotFound):
        llm.chat([msg.user("hi")])
    assert len(fake_ollama.chat_bodies()) == 1


def test_error_mid_stream_is_mapped_and_not_replayed(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("a long answer here", chunk_chars=2, error_after=3, error="boom"))
    seen = []
    with pytest.raises(ServerError, match="boom"):
        for event in llm.stream([msg.user("hi")]):
            seen.append(event)
    assert "".join(e.text for e in seen) == "a long"
    assert len(fake_ollama.chat_bodies()) == 1


def test_stream_cut_off_midway(llm, fake_ollama) -> None:
    fake_ollama.script(Turn("a long answer here", chunk_chars=2, cut_after=2))
    with pytest.raises(ServerError, match="Ollama"):
        list(llm.stream([msg.user("hi")]))
    assert len(fake_ollama.chat_bodies()) == 1


def test_timeout(fake_ollama) -> None:
    llm = LLM(load_settings(request_timeout=0.3), retries=0)
    fake_ollama.script(Turn("slow", chunk_chars=1, delay=0.6))
    with pytest.raises(RequestTimeout, match=r"0\.3 s"):
        llm.chat([msg.user("hi")])


def test_embed_and_pull(llm, fake_ollama) -> None:
    vectors = llm.embed(["one", "two"])
    assert len(vectors) == 2 and len(vectors[0]) == 768
    statuses = [p["status"] for p in llm.pull("tiny:1b")]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert "tiny:1b" in llm.list_models()
