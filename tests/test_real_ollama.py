"""Checks against a real Ollama serving gemma4:12b; skipped unless OLLAMA_HOST answers with it."""

import os

import httpx
import pytest
from pydantic import BaseModel

REAL_HOST = os.environ.get("OLLAMA_HOST", "")  # read at import, before fixtures clear it


def _has_gemma() -> bool:
    if not REAL_HOST:
        return False
    from gemloom.settings import normalise_host

    try:
        tags = httpx.get(normalise_host(REAL_HOST) + "/api/tags", timeout=2).json()
    except (httpx.HTTPError, ValueError, RuntimeError):
        return False
    return any(m.get("model", "").startswith("gemma4:12b") for m in tags.get("models", []))


pytestmark = [
    pytest.mark.real_ollama,
    pytest.mark.skipif(not _has_gemma(), reason="needs OLLAMA_HOST serving gemma4:12b"),
]


class Capital(BaseModel):
    country: str
    capital: str


def test_structured_answer_from_gemma(monkeypatch) -> None:
    from gemloom import messages as msg
    from gemloom.llm import LLM
    from gemloom.settings import load_settings

    monkeypatch.setenv("OLLAMA_HOST", REAL_HOST)
    llm = LLM(load_settings())
    info = llm.model_info()
    assert info.context_length >= 131_072 and info.has("tools")
    answer = llm.structured([msg.user("What is the capital of France?")], Capital)
    assert answer.capital.lower() == "paris"
    assert llm.token_ratios["gemma4:12b"] > 0
