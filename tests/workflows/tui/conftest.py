"""Fixtures for TUI tests: the app wired to the fake Ollama server."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemloom.agents.sessions import Sessions
from gemloom.settings import load_settings
from gemloom.workflows.tui.app import GemloomApp
from gemloom.workflows.tui.stopping import StoppableLLM


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n")
    return root


@pytest.fixture
def make_app(workspace: Path):
    def make() -> GemloomApp:
        settings = load_settings()

        def factory() -> Sessions:
            return Sessions(settings, llm=StoppableLLM(settings, retries=0), workspace=workspace)

        return GemloomApp(settings, workspace, sessions_factory=factory)

    return make
