"""Agent overhead per step: a 20-step tool loop through gemloom's graph vs the raw ollama client.

Both loops talk to the same instantly answering fake Ollama server (bench/tool_loop.py), and
both run gemloom's own `read_file` tool, so the difference is what the agent loop adds: the
graph, validation, events and the SQLite checkpoint written before every next step (what lets
a session killed by SIGKILL resume). Rounds are interleaved; wall and CPU time are both shown.

    .venv/bin/python bench/agent_overhead.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import ollama
from tool_loop import STEPS, Timed, fake_server, session_loop, workspace

GOAL_MS = 3.0


def raw_loop(url: str, folder: Path, timed: Timed) -> None:
    """The same loop written directly on the ollama client."""
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import ToolContext

    client = ollama.Client(host=url)
    ctx = ToolContext(folder)
    messages = [{"role": "user", "content": "go"}]
    with timed.round():
        while True:
            calls, content = [], ""
            for part in client.chat("gemma4:12b", messages, tools=[read_file.schema], stream=True):
                content += part.message.content or ""
                calls += part.message.tool_calls or []
            dumped = [c.model_dump() for c in calls]
            messages.append({"role": "assistant", "content": content, "tool_calls": dumped})
            if not calls:
                break
            for c in calls:
                result = read_file.run(dict(c.function.arguments), ctx).text
                messages.append({"role": "tool", "tool_name": c.function.name, "content": result})


def _line(name: str, seconds: list[float]) -> float:
    ms = statistics.median(seconds) * 1000
    print(f"    {name:18}: {ms:8.1f} ms  ({ms / STEPS:.2f} ms/step)")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    raw, ours = Timed(), Timed()
    with fake_server() as url, workspace(url) as folder:
        raw_loop(url, folder, Timed()), session_loop(folder, Timed())  # warm-up: imports
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            raw_loop(url, folder, raw)
            session_loop(folder, ours)
    print(f"{STEPS}-step tool loop, median of {args.rounds} rounds; load {os.getloadavg()[0]:.2f}")
    for kind in ("wall", "cpu"):
        print(f"  {kind} time")
        raw_ms = _line("raw ollama client", getattr(raw, kind))
        ours_ms = _line("gemloom session", getattr(ours, kind))
        per_step = (ours_ms - raw_ms) / STEPS
        print(f"    ratio {ours_ms / raw_ms:.2f}x, overhead per step {per_step:.2f} ms "
              f"(goal: under {GOAL_MS:g} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
