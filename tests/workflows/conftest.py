"""Fixtures for the meeting workflow: an instantly answering fake model and real recordings."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_ollama import FakeOllama, Turn
from reference import SPEECH

from gemloom.tools.audio import decode as audio

STAMP = re.compile(r"\[(\d\d:\d\d:\d\d)\]")


def _merge(content: str) -> dict[str, Any]:
    drafts = [json.loads(block) for block in content.split("\n\n")[1:]]
    merged: dict[str, Any] = {"title": "Merged meeting", "summary": ""}
    for key in ("decisions", "action_items", "open_questions", "topics"):
        merged[key] = [item for d in drafts for item in d.get(key, [])]
    merged["summary"] = " ".join(d["summary"] for d in drafts)
    return merged


def _notes(content: str) -> dict[str, Any]:
    stamps = STAMP.findall(content)
    first = stamps[0] if stamps else "00:00:00"
    words = re.sub(STAMP, "", content.split("\n\n", 1)[-1]).split()
    return {
        "title": f"Part from {first}",
        "summary": f"{len(stamps)} lines from {first}: {' '.join(words[:12])}",
        "decisions": [{"decision": f"decided near {first}", "timestamp": first}],
        "action_items": [
            {
                "task": "send the report",
                "owner": "Maria",
                "due": None,
                "quote": " ".join(words[:5]),
                "timestamp": first,
            }
        ],
        "open_questions": [],
        "topics": [{"topic": f"topic at {first}", "timestamp": first}],
    }


def instant_answer(body: dict[str, Any]) -> Turn:
    """What the fake Gemma says: a transcript for audio, notes for a JSON request."""
    message = body["messages"][-1]
    if images := message.get("images"):
        tag = hashlib.sha256(images[0].encode()).hexdigest()[:6]
        return Turn(f"chunk {tag} in native transcript words", chunk_chars=4096)
    content = message["content"]
    answer = _merge(content) if content.startswith("These are notes") else _notes(content)
    return Turn(json.dumps(answer), chunk_chars=1 << 20)


def slow_audio(seconds: float):
    """A responder like `instant_answer` that takes `seconds` to transcribe each chunk."""

    def answer(body: dict[str, Any]) -> Turn:
        turn = instant_answer(body)
        if body["messages"][-1].get("images"):
            turn.delay = seconds
        return turn

    return answer


def audio_bodies(fake: FakeOllama) -> list[str]:
    """The WAV payloads of every transcription request so far."""
    return [
        b["messages"][-1]["images"][0]
        for b in fake.chat_bodies()
        if b["messages"][-1].get("images")
    ]


def wait_until(predicate, timeout: float = 30.0, every: float = 0.05) -> None:
    """Poll until `predicate()` is true, or fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(every)


@pytest.fixture
def instant_model(fake_ollama: FakeOllama) -> FakeOllama:
    """The fake server answering every chat at once, as the meeting workflow expects."""
    fake_ollama.default = instant_answer
    return fake_ollama


@pytest.fixture(scope="session")
def speech_samples() -> np.ndarray:
    """The committed espeak-ng recording as 16 kHz samples."""
    return audio.decode(SPEECH).samples


def long_meeting(samples: np.ndarray, repeats: int, pause: float = 1.5) -> np.ndarray:
    """Speech repeated with pauses between turns."""
    gap = np.zeros(int(pause * audio.RATE), np.int16)
    return np.concatenate([samples, gap] * repeats)


@pytest.fixture(name="wait_until")
def _wait_until():
    """The `wait_until(predicate, timeout)` poller."""
    return wait_until


@pytest.fixture(name="audio_bodies")
def _audio_bodies(fake_ollama: FakeOllama):
    """A function returning the WAV payloads sent for transcription so far."""
    return lambda: audio_bodies(fake_ollama)


@pytest.fixture
def make_meeting(speech_samples: np.ndarray):
    """A function writing a real recording of `repeats` spoken turns to a path."""

    def make(path: Path, repeats: int = 1, codec: str = "libopus") -> Path:
        samples = long_meeting(speech_samples, repeats)
        return audio.write(path, samples, codec, bit_rate=24_000 if codec == "libopus" else 0)

    return make


@pytest.fixture
def fallback_model(instant_model: FakeOllama) -> FakeOllama:
    """The instant fake, but its model cannot hear: transcription falls back to Whisper."""
    instant_model.models["gemma4:12b"].capabilities.remove("audio")
    return instant_model


@pytest.fixture
def slow_model(instant_model: FakeOllama):
    """A function making the fake take `seconds` per transcribed chunk."""

    def set_delay(seconds: float) -> FakeOllama:
        instant_model.default = slow_audio(seconds)
        return instant_model

    return set_delay


@pytest.fixture
def screen(tmp_path: Path) -> Path:
    """The drawn settings page with known defects (review tests)."""
    from fixtures.review.screens import draw_settings_page

    return draw_settings_page(tmp_path / "settings.png")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A copy of the small repository whose strings the settings page shows."""
    from fixtures.review.screens import copy_app

    return copy_app(tmp_path / "app")


@pytest.fixture
def nothing_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model client and the memory fail the test if a command gets to load them: for
    commands that must refuse bad input first."""
    import gemloom.llm
    import gemloom.workflows.remember

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model or the memory loaded before the input was checked")

    monkeypatch.setattr(gemloom.llm, "LLM", loaded)
    monkeypatch.setattr(gemloom.workflows.remember, "memory_or_none", loaded)
    monkeypatch.setattr(gemloom.workflows.remember.OpeningMemory, "start", loaded)
