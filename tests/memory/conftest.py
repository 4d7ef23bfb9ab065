"""Memory fixtures: the real offline embedder, a real `chroma run` server, and stores on both."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.store import MemoryStore


@pytest.fixture(scope="session")
def offline() -> OfflineEmbedder:
    """The real all-MiniLM-L6-v2 embedder (weights load once per test process)."""
    return OfflineEmbedder()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, stopped after the session."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip(f"the chroma CLI is not installed beside {sys.executable}")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    argv = [str(chroma), "run", "--path", str(data / "db"), "--port", str(port),
            "--host", "127.0.0.1"]  # fmt: skip
    with _serving(argv, port, data) as url:
        yield url


CHROMA_TOKEN = "team-token-1"
TOKEN_AUTHN = "chromadb.auth.token_authn.TokenAuthenticationServerProvider"
SERVE = (  # the Python server checks collection configs: it must know gemloom's embedders
    "import sys, uvicorn, gemloom.memory.embedders; "
    "uvicorn.run('chromadb.app:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)


@pytest.fixture(scope="session")
def chroma_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Chroma's own server with its token authentication on, on a free loopback port.

    `chroma run` (the Rust server of chromadb 1.x) ignores CHROMA_SERVER_AUTHN_*: it answers
    every request without a token. chromadb still ships its Python server (chromadb.app), which
    enforces them through chromadb.auth.token_authn, so the token tests run against that one.
    It rebuilds each collection's embedding function from its stored config, so it runs with
    gemloom's embedders registered, as a team's server would.
    """
    pytest.importorskip("fastapi", reason="chromadb's Python server needs fastapi (test extra)")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-token-server")
    env = {
        **os.environ,
        "CHROMA_SERVER_AUTHN_PROVIDER": TOKEN_AUTHN,
        "CHROMA_SERVER_AUTHN_CREDENTIALS": CHROMA_TOKEN,
        "IS_PERSISTENT": "TRUE",
        "PERSIST_DIRECTORY": str(data / "db"),
        "ANONYMIZED_TELEMETRY": "FALSE",
    }
    with _serving([sys.executable, "-c", SERVE, str(port)], port, data, env) as url:
        yield url


@contextmanager
def _serving(
    argv: list[str], port: int, data: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A Chroma server (its log in DATA/server.log), once its heartbeat answers; killed after."""
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(url, proc, data / "server.log")
        yield url
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


def _wait_for_heartbeat(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"chroma run did not answer at {url} within 60 s")


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """How to open a store: an embedded directory, or a real server with a fresh collection."""
    if request.param == "embedded":
        return {"path": tmp_path / "memory", "url": ""}
    url = request.getfixturevalue("chroma_server")
    return {"url": url, "name": f"test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def store(backend: dict, offline: OfflineEmbedder) -> Iterator[MemoryStore]:
    """A store on the offline embedder, embedded or through the server."""
    opened = MemoryStore.open(**backend, embedder=offline)
    yield opened
    if backend["url"]:
        opened.client.delete_collection(opened.name)
    opened.close()
