"""Fixtures for agent tests: sessions on the fake Ollama server in a temporary workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the shared call shapes in gemma4_cases.py

from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.llm import LLM
from gemloom.settings import load_settings


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n")
    return root


@pytest.fixture
def make_sessions(fake_ollama, workspace):
    def make(**kwargs) -> Sessions:
        settings = load_settings()
        llm = LLM(settings, retries=1, backoff=0.01)
        kwargs.setdefault("config", AgentConfig())
        return Sessions(settings, llm=llm, workspace=workspace, **kwargs)

    return make


@pytest.fixture
def sessions(make_sessions) -> Sessions:
    return make_sessions()
