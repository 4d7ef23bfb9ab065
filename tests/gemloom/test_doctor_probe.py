"""doctor's first probe: a closed port is reported without loading the HTTP client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from gemloom.doctor import refuses, run_checks
from gemloom.errors import OllamaUnreachable
from gemloom.settings import Settings

PROBE = (
    "import json, sys\n"
    "from gemloom.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]), file=sys.stderr)\n"
)
CLIENT = ("ollama", "httpx", "rich", "numpy", "PIL", "chromadb", "langgraph", "faster_whisper")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_port_is_refused_and_a_listening_one_is_not() -> None:
    assert refuses(f"http://127.0.0.1:{_closed_port()}")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not refuses(f"http://127.0.0.1:{server.getsockname()[1]}")


def test_a_proxy_leaves_the_check_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    host = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    assert not refuses(host)
    report = run_checks(Settings(ollama_host=host))  # through the real client, still one line
    assert isinstance(report.error, OllamaUnreachable) and report.exit_code == 3


def test_doctor_on_a_closed_port_loads_no_client(tmp_path) -> None:
    env = {"OLLAMA_HOST": f"127.0.0.1:{_closed_port()}", "GEMLOOM_HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "doctor"], capture_output=True, text=True, env=env, timeout=60
    )
    first, last = done.stderr.strip().splitlines()[0], done.stderr.strip().splitlines()[-1]
    code, modules = json.loads(last)
    assert code == 3 and first.startswith("error: Cannot reach Ollama at http://127.0.0.1:")
    assert not set(modules) & set(CLIENT), set(modules) & set(CLIENT)
