"""Fixtures for the meeting workflow: an instantly answering fake model and real recordings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_ollama import FakeOllama, Turn
from gemloom.tools import audio

SPEECH = Path(__file__).parents[1] / "fixtures" / "audio" / "speech.ogg"
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
    if message.get("images"):
        return Turn("native transcript words", chunk_chars=4096)
    content = message["content"]
    answer = _merge(content) if content.startswith("These are notes") else _notes(content)
    return Turn(json.dumps(answer), chunk_chars=1 << 20)


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
