"""Shared fixtures: an isolated data directory for every test and the fake Ollama server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import their helpers as top-level modules

from fake_ollama import FakeOllama
from postgres_server import PostgresServer

from gemloom.llm import LLM
from gemloom.settings import load_settings


@pytest.fixture(autouse=True)
def gemloom_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory and config file, and no inherited settings."""
    import os

    for name in list(os.environ):
        if name.startswith("GEMLOOM_") or name == "OLLAMA_HOST":
            monkeypatch.delenv(name)
    home = tmp_path / "gemloom-home"
    monkeypatch.setenv("GEMLOOM_HOME", str(home))
    monkeypatch.setenv("GEMLOOM_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # gemloom's entry-point cache
    return home


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeOllama]:
    server = FakeOllama().start()
    yield server
    server.stop()


@pytest.fixture
def fake_ollama(_fake_server: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    """The fake Ollama server, reset to its defaults, with OLLAMA_HOST pointing at it."""
    _fake_server.reset()
    monkeypatch.setenv("OLLAMA_HOST", _fake_server.url)
    return _fake_server


@pytest.fixture
def llm(fake_ollama: FakeOllama) -> LLM:
    """An LLM client on the fake server, with quick retries."""
    return LLM(load_settings(), retries=2, backoff=0.01)


@pytest.fixture
def dead_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """OLLAMA_HOST set to a loopback port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    return url


@pytest.fixture
def two() -> Iterator[tuple[FakeOllama, FakeOllama]]:
    """Two fake Ollama servers of this test's own (either may be stopped)."""
    first, second = FakeOllama().start(), FakeOllama().start()
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (tests/postgres_server.py), started on first use."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import re

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + f"_{id(request) % 10**6}"
    return postgres.database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a session test on each store: the embedded SQLite file, then a PostgreSQL database.

    The URL goes into the environment, so `gemloom` child processes use the same store.
    """
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("GEMLOOM_SESSIONS_URL", url)
    return request.param
