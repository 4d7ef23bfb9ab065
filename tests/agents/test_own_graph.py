"""A user's own graph of gemloom's nodes survives SIGKILL and resumes like the built-in agent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import own_graph
import pytest
from fake_ollama import FakeOllama, Turn, call
from langgraph.checkpoint.sqlite import SqliteSaver

from gemloom import (
    AgentConfig,
    NodeStarted,
    Policy,
    Registry,
    Stopped,
    ToolContext,
    ToolNode,
    router,
    stream_events,
)
from gemloom.agents.sessions import Sessions
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.files.tools import TOOLS

CHILD = """
import sys
sys.path.insert(0, {here!r})
from gemloom import LLM, Agent, Policy, Registry
from gemloom.tools.files.tools import TOOLS

kind, session = sys.argv[1], sys.argv[2] or None
tools, llm, graph, names = Registry(TOOLS), LLM(), None, ("model", "tools")
if kind == "own":
    import own_graph
    graph, names = own_graph.build(llm, tools, Policy.allow_all()), own_graph.NAMES
agent = Agent(tools, policy=Policy.allow_all(), llm=llm, session=session, graph=graph,
              names=names)
print("session", agent.session_id, file=sys.stderr, flush=True)
print(agent.run(None if session else "write the report"))
"""


def child(kind: str, session: str, cwd: Path, fake: FakeOllama) -> subprocess.Popen:
    program = CHILD.format(here=str(Path(__file__).parent))
    env = {**os.environ, "OLLAMA_HOST": fake.url}
    return subprocess.Popen(
        [sys.executable, "-c", program, kind, session], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["built-in", "own"])
def test_sigkill_mid_session_resumes_without_losing_or_rerunning(
    kind: str, fake_ollama: FakeOllama, workspace: Path
) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="report.txt", content="draft 1")]),
        Turn("a very slow answer that will never finish", chunk_chars=1, delay=0.5),
    )
    first = child(kind, "", workspace, fake_ollama)
    session_id = first.stderr.readline().split()[-1]
    deadline = time.monotonic() + 30
    while len(fake_ollama.chat_bodies()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_ollama.chat_bodies()) == 2, "the tool step never completed"
    written = (workspace / "report.txt").stat().st_mtime_ns
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    fake_ollama.script(Turn("The report is written."))
    resumed = child(kind, session_id, workspace, fake_ollama)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert "The report is written." in out
    assert (workspace / "report.txt").stat().st_mtime_ns == written  # not run again
    messages = Sessions(registry=Registry(TOOLS)).messages(session_id)
    roles = ["system", "user", "assistant", "tool", "assistant"]
    if kind == "own":  # the planning note follows the question
        roles.insert(2, "system")
        assert messages[2]["content"] == own_graph.PLAN
    assert [m["role"] for m in messages] == roles
    assert messages[1]["content"] == "write the report"
    final_request = fake_ollama.chat_bodies()[-1]["messages"]
    assert [m["role"] for m in final_request].count("tool") == 1


def test_the_turn_resets_inside_the_graph_so_callers_send_only_messages(
    fake_ollama: FakeOllama, workspace: Path, tmp_path: Path
) -> None:
    llm = LLM(load_settings(), retries=1, backoff=0.01)
    graph = own_graph.build(llm, Registry(TOOLS), Policy(), AgentConfig(max_steps=2))
    conn = sqlite3.connect(tmp_path / "own.sqlite", check_same_thread=False)
    app = graph.compile(checkpointer=SqliteSaver(conn))
    config = {"configurable": {"thread_id": "t1"}}
    context = ToolContext(workspace)
    fake_ollama.script(Turn(tool_calls=[call("read_file", path="a.txt")]), Turn("alpha"))
    first = list(stream_events(app, {"messages": [{"role": "user", "content": "read"}]},
                               config, context))  # fmt: skip
    assert [e.node for e in first if isinstance(e, NodeStarted)] == ["think", "act", "think"]
    fake_ollama.script(Turn("again alpha"))
    second = list(stream_events(app, {"messages": [{"role": "user", "content": "again"}]},
                                config, context))  # fmt: skip
    assert not [e for e in second if isinstance(e, Stopped)]  # the 2-step budget is per turn
    assert app.get_state(config).values["messages"][-1]["content"] == "again alpha"
    assert fake_ollama.chat_bodies()[1]["messages"][-1]["content"] == "1: alpha\n2: beta"


@pytest.mark.parametrize(
    ("state", "goes_to"),
    [
        ({"messages": [{"role": "user", "content": "q"}], "pending": [{"id": "1"}]}, "act"),
        ({"messages": [{"role": "tool", "content": "r"}], "pending": []}, "think"),
        ({"messages": [{"role": "user", "content": "retry"}]}, "think"),
        ({"messages": [{"role": "assistant", "content": "a"}], "pending": []}, "__end__"),
        (
            {
                "messages": [{"role": "tool", "content": "r"}, {"role": "gemloom", "content": "n"}],
                "pending": [{"id": "2"}],
                "stop_reason": "a loop",
            },
            "__end__",
        ),
    ],
)
def test_the_router_uses_the_names_it_is_given(state: dict, goes_to: str) -> None:
    assert router(tools="act", model="think")(state) == goes_to


def test_a_tool_node_called_outside_a_graph_uses_its_own_context(workspace: Path) -> None:
    node = ToolNode(Registry(TOOLS), context=ToolContext(workspace), name="act")
    pending = [{"id": "c1", "name": "read_file", "arguments": {"path": "a.txt"}, "leaked": False}]
    update = node({"messages": [], "pending": pending})
    assert update["pending"] == [] and update["turn_calls"]
    assert update["messages"] == [
        {"role": "tool", "tool_name": "read_file", "content": "1: alpha\n2: beta"}
    ]
    unknown = [{"id": "c2", "name": "nope", "arguments": {}, "leaked": False}]
    result = node({"messages": [], "pending": unknown})["messages"][0]["content"]
    assert result.startswith("Error: unknown tool 'nope'. Valid tools: current_time, list_files")
