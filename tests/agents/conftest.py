"""Fixtures for agent tests: sessions on the fake Ollama server in a temporary workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the shared call shapes in gemma4_cases.py

import own_graph

from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.registry import default_registry


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n")
    return root


@pytest.fixture
def graph_kind() -> str:
    """Which graph sessions run: "built-in", or "own" (tests/agents/own_graph.py).

    A test module that overrides this fixture with both params runs its tests on both graphs.
    """
    return "built-in"


@pytest.fixture
def make_sessions(fake_ollama, workspace, graph_kind, sessions_backend):
    def make(**kwargs) -> Sessions:
        settings = load_settings()
        llm = LLM(settings, retries=1, backoff=0.01)
        kwargs.setdefault("config", AgentConfig())
        if graph_kind == "own":
            kwargs.setdefault("registry", default_registry())
            parts = (llm, kwargs["registry"], kwargs.get("policy"), kwargs["config"])
            kwargs.update(graph=own_graph.build(*parts), names=own_graph.NAMES)
        return Sessions(settings, llm=llm, workspace=workspace, **kwargs)

    return make


@pytest.fixture
def sessions(make_sessions) -> Sessions:
    return make_sessions()
