"""The scripted 20-step tool loop that bench/agent_overhead.py and bench/session_store.py time.

A fake Ollama server (tests/fake_ollama.py) runs in a process of its own, as Ollama does, and
asks for one `read_file` call per turn until STEPS tool results are in the conversation. Each
loop is timed twice: wall seconds, and CPU seconds of this process (all its threads; the server
is another process), which the load other work puts on the machine does not inflate.

    .venv/bin/python bench/tool_loop.py   # serve the fake server until stdin closes
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_ollama import FakeOllama, Turn, call

STEPS = 20


@dataclass
class Timed:
    """Wall and CPU seconds of each round of one loop."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @contextmanager
    def round(self) -> Iterator[None]:
        """Time the block as one round."""
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)


def responder(body: dict) -> Turn:
    """Ask for another tool call until STEPS tool results are in the conversation."""
    done = sum(1 for m in body["messages"] if m["role"] == "tool")
    if done >= STEPS:
        return Turn("finished")
    return Turn(tool_calls=[call("read_file", path="a.txt", start_line=done + 1)])


@contextmanager
def fake_server(script: str = __file__, *args: str) -> Iterator[str]:
    """The scripted server in its own process (`script` run with `args`, printing its URL and
    serving until stdin closes; by default this file's); its URL."""
    server = subprocess.Popen(
        [sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.communicate("")


@contextmanager
def workspace(url: str) -> Iterator[Path]:
    """A folder with the file the tool reads, and a data directory, both thrown away after."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "ws"
        folder.mkdir()
        (folder / "a.txt").write_text("".join(f"line {i}\n" for i in range(100)))
        os.environ.update(OLLAMA_HOST=url, GEMLOOM_HOME=str(root / "home"))
        yield folder


def session_loop(folder: Path, timed: Timed, sessions_url: str | None = None) -> None:
    """One 20-step turn of a fresh durable session (checkpoints written before each next step)."""
    from gemloom.agents.graph import AgentConfig
    from gemloom.agents.sessions import Sessions
    from gemloom.llm import LLM
    from gemloom.settings import load_settings
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import Registry

    settings = load_settings(sessions_url=sessions_url)
    sessions = Sessions(
        settings,
        llm=LLM(settings),
        registry=Registry([read_file]),
        workspace=folder,
        config=AgentConfig(max_steps=STEPS + 5),
    )
    sessions.llm.model_info()  # the capability probe is cached per process: not per step
    sid = sessions.create()
    with timed.round():
        events = list(sessions.send(sid, "go"))
    tools = sum(1 for m in sessions.messages(sid) if m["role"] == "tool")
    assert tools == STEPS, f"expected {STEPS} tool results, got {tools} ({events[-3:]})"
    sessions.store.close()


def serve() -> None:
    """Run the fake server in this process until stdin closes."""
    server = FakeOllama().start()
    server.default = responder
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    serve()
