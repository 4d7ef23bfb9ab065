"""Agent overhead per step: a 20-step tool loop through gemloom's graph vs the raw ollama client.

Three loops talk to the same instantly answering fake Ollama server (bench/tool_loop.py), and
all run gemloom's own `read_file` tool:

- the raw ollama client in a plain `while` loop (the floor the goal is set against);
- a bare LangGraph graph of the same shape (model -> tools -> model) on the raw client, with
  what gemloom's guarantees need from LangGraph and nothing else: a SqliteSaver on the same
  database settings, `durability="sync"` (each step saved before the next, so a session killed
  by SIGKILL resumes) and a custom stream of four events a step (events reach the caller live);
- a gemloom session: the graph, validation, events, context sizing and its checkpoints.

Rounds are interleaved; wall and CPU time (this process, all threads) are both shown.

    .venv/bin/python bench/agent_overhead.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import operator
import os
import statistics
import uuid
from pathlib import Path
from typing import Annotated, Any, TypedDict

import ollama
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
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


class BareState(TypedDict, total=False):
    """The bare graph's state: the conversation and the calls still to run."""

    messages: Annotated[list[dict[str, Any]], operator.add]
    pending: list[dict[str, Any]]


def bare_graph(url: str, folder: Path) -> Any:
    """model -> tools -> model on the raw client: LangGraph's own cost, without gemloom's."""
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import ToolContext

    client, ctx = ollama.Client(host=url), ToolContext(folder)

    def model(state: BareState) -> BareState:
        emit = get_stream_writer()
        emit(("started", "model"))
        calls, content = [], ""
        for part in client.chat(
            "gemma4:12b", state["messages"], tools=[read_file.schema], stream=True
        ):
            content += part.message.content or ""
            calls += [c.model_dump() for c in part.message.tool_calls or []]
        emit(("finished", "model"))
        reply = {"role": "assistant", "content": content, "tool_calls": calls}
        return {"messages": [reply], "pending": calls}

    def tools(state: BareState) -> BareState:
        emit, results = get_stream_writer(), []
        for c in state["pending"]:
            emit(("proposed", c["function"]["name"]))
            text = read_file.run(dict(c["function"]["arguments"]), ctx).text
            results.append({"role": "tool", "tool_name": c["function"]["name"], "content": text})
            emit(("ran", c["function"]["name"]))
        return {"messages": results, "pending": []}

    graph = StateGraph(BareState)
    graph.add_node("model", model)
    graph.add_node("tools", tools)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", lambda s: "tools" if s["pending"] else END)
    graph.add_edge("tools", "model")
    return graph


def langgraph_loop(url: str, folder: Path, timed: Timed) -> None:
    """The loop through the bare graph, checkpointed as a gemloom session is."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from gemloom.agents.session_store import open_database

    conn = open_database(folder.parent / "bare.sqlite")  # WAL, synchronous=normal
    app = bare_graph(url, folder).compile(checkpointer=SqliteSaver(conn))
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    start = {"messages": [{"role": "user", "content": "go"}]}
    with timed.round():
        for _ in app.stream(start, config, stream_mode="custom", durability="sync"):
            pass
    tools = sum(1 for m in app.get_state(config).values["messages"] if m["role"] == "tool")
    assert tools == STEPS, f"expected {STEPS} tool results, got {tools}"
    conn.close()


def _line(name: str, seconds: list[float]) -> float:
    ms = statistics.median(seconds) * 1000
    print(f"    {name:18}: {ms:8.1f} ms  ({ms / STEPS:.2f} ms/step)")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    raw, bare, ours = Timed(), Timed(), Timed()
    with fake_server() as url, workspace(url) as folder:
        raw_loop(url, folder, Timed())  # warm-up: imports and first-use caches
        langgraph_loop(url, folder, Timed())
        session_loop(folder, Timed())
        for _ in range(args.rounds):  # interleaved, so drift hits all alike
            raw_loop(url, folder, raw)
            langgraph_loop(url, folder, bare)
            session_loop(folder, ours)
    print(f"{STEPS}-step tool loop, median of {args.rounds} rounds; load {os.getloadavg()[0]:.2f}")
    for kind in ("wall", "cpu"):
        print(f"  {kind} time")
        raw_ms = _line("raw ollama client", getattr(raw, kind))
        bare_ms = _line("bare LangGraph", getattr(bare, kind))
        ours_ms = _line("gemloom session", getattr(ours, kind))
        print(f"    gemloom over raw: {ours_ms / raw_ms:.2f}x, {(ours_ms - raw_ms) / STEPS:.2f} ms "
              f"a step (goal: under {GOAL_MS:g} ms)")  # fmt: skip
        print(f"    bare LangGraph over raw: {(bare_ms - raw_ms) / STEPS:.2f} ms a step; gemloom "
              f"over bare LangGraph: {(ours_ms - bare_ms) / STEPS:.2f} ms a step")  # fmt: skip


if __name__ == "__main__":
    main()
