"""Agent overhead per step: a 20-step tool loop through gemloom's graph vs the raw ollama client.

Both loops talk to the same instantly answering fake Ollama server (tests/fake_ollama.py), so
the difference is what gemloom adds: the graph, validation, events and SQLite checkpoints.

    .venv/bin/python bench/agent_overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import ollama
from fake_ollama import FakeOllama, Turn, call

STEPS = 20


def responder(body: dict) -> Turn:
    """Ask for another tool call until STEPS tool results are in the conversation."""
    done = sum(1 for m in body["messages"] if m["role"] == "tool")
    if done >= STEPS:
        return Turn("finished")
    return Turn(tool_calls=[call("read_file", path="a.txt", start_line=done + 1)])


def raw_loop(url: str, workspace: Path) -> float:
    """The same loop written directly on the ollama client."""
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import ToolContext

    client = ollama.Client(host=url)
    ctx = ToolContext(workspace)
    messages = [{"role": "user", "content": "go"}]
    start = time.perf_counter()
    while True:
        calls, content = [], ""
        for part in client.chat("gemma4:12b", messages, tools=[read_file.schema], stream=True):
            content += part.message.content or ""
            calls += part.message.tool_calls or []
        messages.append(
            {"role": "assistant", "content": content, "tool_calls": [c.model_dump() for c in calls]}
        )
        if not calls:
            return time.perf_counter() - start
        for c in calls:
            result = read_file.run(dict(c.function.arguments), ctx).text
            messages.append({"role": "tool", "tool_name": c.function.name, "content": result})


def gemloom_loop(workspace: Path) -> float:
    """The loop through a durable gemloom session (SQLite checkpoints, sync durability)."""
    from gemloom.agents.graph import AgentConfig
    from gemloom.agents.sessions import Sessions
    from gemloom.llm import LLM
    from gemloom.settings import load_settings
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import Registry

    settings = load_settings()
    sessions = Sessions(
        settings,
        llm=LLM(settings),
        registry=Registry([read_file]),
        workspace=workspace,
        config=AgentConfig(max_steps=STEPS + 5),
    )
    sessions.llm.model_info()  # the capability probe is cached per process: not per step
    sid = sessions.create()
    start = time.perf_counter()
    events = list(sessions.send(sid, "go"))
    elapsed = time.perf_counter() - start
    tools = sum(1 for m in sessions.messages(sid) if m["role"] == "tool")
    assert tools == STEPS, f"expected {STEPS} tool results, got {tools} ({events[-3:]})"
    return elapsed


def serve() -> None:
    """Run the fake server in this process until stdin closes (Ollama is another process too)."""
    server = FakeOllama().start()
    server.default = responder
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = server.stdout.readline().strip()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workspace = root / "ws"
        workspace.mkdir()
        (workspace / "a.txt").write_text("".join(f"line {i}\n" for i in range(100)))
        os.environ.update(OLLAMA_HOST=url, GEMLOOM_HOME=str(root / "home"))
        raw, ours = [], []
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            raw.append(raw_loop(url, workspace))
            ours.append(gemloom_loop(workspace))
    server.communicate("")
    raw_ms = statistics.median(raw) * 1000
    ours_ms = statistics.median(ours) * 1000
    per_step = (ours_ms - raw_ms) / STEPS
    print(f"{STEPS}-step tool loop, median of {args.rounds} rounds")
    print(f"  raw ollama client : {raw_ms:8.1f} ms  ({raw_ms / STEPS:.2f} ms/step)")
    print(f"  gemloom session   : {ours_ms:8.1f} ms  ({ours_ms / STEPS:.2f} ms/step)")
    print(f"  ratio             : {ours_ms / raw_ms:.2f}x")
    print(f"  overhead per step : {per_step:.2f} ms (goal: under 5 ms)")


if __name__ == "__main__":
    main()
