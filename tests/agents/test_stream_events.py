"""`stream_events`: a graph of gemloom's nodes runs in a thread of its own that hands over its
events as they happen; a graph with nodes of your own runs in LangGraph's custom stream mode."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn, call
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from gemloom import AgentState, ModelNode, Registry, ToolContext, ToolNode, router, stream_events
from gemloom.agents import events as ev
from gemloom.agents.graph import _own_nodes_only, build_graph
from gemloom.agents.state import fresh_turn
from gemloom.errors import OllamaUnreachable
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.files.tools import TOOLS
from gemloom.tools.registry import tool

QUESTION = {"messages": [{"role": "user", "content": "go"}], **fresh_turn()}


def compiled(graph: StateGraph, tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "s.sqlite", check_same_thread=False)
    return graph.compile(checkpointer=SqliteSaver(conn)), {"configurable": {"thread_id": "t"}}


def runs() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gemloom-run"]


def test_events_reach_the_caller_while_the_run_is_still_going(
    fake_ollama: FakeOllama, workspace: Path, tmp_path: Path
) -> None:
    seen = threading.Event()

    @tool
    def wait_for_reader() -> str:
        """Wait until the caller has seen this call proposed."""
        return "live" if seen.wait(timeout=20) else "the caller saw nothing yet"

    registry = Registry([wait_for_reader])
    app, config = compiled(build_graph(LLM(load_settings()), registry), tmp_path)
    fake_ollama.script(Turn(tool_calls=[call("wait_for_reader")]), Turn("done"))
    events = []
    for event in stream_events(app, QUESTION, config, ToolContext(workspace)):
        events.append(event)
        if isinstance(event, ev.ToolProposed):
            seen.set()  # the tool is waiting on this inside the run
    finished = next(e for e in events if isinstance(e, ev.ToolFinished))
    assert finished.result == "live"
    assert app.get_state(config).values["messages"][-1]["content"] == "done"
    assert not runs()


def test_an_error_in_the_run_is_raised_to_the_caller_as_it_is(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing listens there
    llm = LLM(load_settings(), retries=1, backoff=0.01)
    app, config = compiled(build_graph(llm, Registry(TOOLS)), tmp_path)
    events = []
    with pytest.raises(OllamaUnreachable):
        for event in stream_events(app, QUESTION, config, ToolContext(workspace)):
            events.append(event)
    assert [type(e) for e in events][:1] == [ev.NodeStarted]
    assert not runs()


def test_leaving_early_ends_the_run_at_its_next_event_and_it_resumes(
    fake_ollama: FakeOllama, workspace: Path, tmp_path: Path
) -> None:
    llm = LLM(load_settings())
    app, config = compiled(build_graph(llm, Registry(TOOLS)), tmp_path)
    slow = Turn("a long answer, streamed a few letters at a time", chunk_chars=3, delay=0.2)
    fake_ollama.script(slow)
    events = stream_events(app, QUESTION, config, ToolContext(workspace))
    assert isinstance(next(events), ev.NodeStarted)
    events.close()  # the caller goes away mid-answer
    assert not runs()  # nothing of the run goes on behind its back
    assert app.get_state(config).next == ("model",)  # unfinished: resumable as a killed run
    fake_ollama.script(Turn("the answer"))
    again = list(stream_events(app, None, config, ToolContext(workspace)))
    assert "".join(e.text for e in again if isinstance(e, ev.Content)) == "the answer"


def test_a_graph_with_a_node_of_your_own_keeps_langgraph_custom_stream(
    fake_ollama: FakeOllama, workspace: Path, tmp_path: Path
) -> None:
    def note(state: AgentState) -> dict:
        get_stream_writer()({"mine": "before the model"})  # a user's node, LangGraph's API
        return {}

    llm, registry = LLM(load_settings()), Registry(TOOLS)
    graph = StateGraph(AgentState)
    graph.add_node("note", note)
    graph.add_node("model", ModelNode(llm, registry))
    graph.add_node("tools", ToolNode(registry))
    graph.add_edge(START, "note")
    graph.add_edge("note", "model")
    graph.add_conditional_edges("model", router(), ["tools", END])
    graph.add_conditional_edges("tools", router(), ["tools", "model", END])
    app, config = compiled(graph, tmp_path)
    assert not _own_nodes_only(app)
    assert _own_nodes_only(compiled(build_graph(llm, registry), tmp_path)[0])
    fake_ollama.script(Turn("hello"))
    events = list(stream_events(app, QUESTION, config, ToolContext(workspace)))
    assert events[0] == {"mine": "before the model"}
    assert [e.node for e in events if isinstance(e, ev.NodeStarted)] == ["model"]
