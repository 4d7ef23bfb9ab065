"""gemloom's agent graph, built from the same pieces you can put into your own StateGraph.

The pieces: `AgentState` (the state type), `ModelNode` and `ToolNode` (the nodes, their names
are parameters), `tools_condition` / `router()` (the conditional edge) and `stream_events`
(run a compiled graph and get gemloom's typed events).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from queue import SimpleQueue
from typing import Any, NamedTuple

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from gemloom.agents import events as ev
from gemloom.agents.approval import Policy
from gemloom.agents.config import AgentConfig
from gemloom.agents.model_node import ModelNode
from gemloom.agents.state import NOTICE, AgentState
from gemloom.agents.tool_node import FIX_HINT, ToolNode
from gemloom.llm import LLM
from gemloom.tools.registry import Registry, ToolContext
from gemloom.tools.stream import SINK

__all__ = [
    "END",
    "FIX_HINT",
    "START",
    "AgentConfig",
    "AgentState",
    "ModelNode",
    "ToolNode",
    "build_graph",
    "node_names",
    "router",
    "stream_events",
    "tools_condition",
]


def router(tools: str = "tools", model: str = "model", end: str = END) -> Callable[..., str]:
    """A conditional edge for after the model node and after the tool node, with your names.

    Pending calls go to `tools`; tool results (or a user message put in by hand, as a retry
    does) go to `model`; an answer or a stop ends.
    """

    def route(state: AgentState) -> str:
        """The next node's name."""
        if state.get("stop_reason"):
            return end
        if state.get("pending"):
            return tools
        said = [m for m in state.get("messages", []) if m.get("role") != NOTICE]
        return model if said and said[-1].get("role") in ("tool", "user") else end

    route.__name__ = f"route_{tools}_{model}"
    return route


tools_condition = router()
"""The conditional edge for nodes named "model" and "tools" (like LangGraph's own)."""


def build_graph(
    llm: LLM,
    registry: Registry,
    policy: Policy | None = None,
    config: AgentConfig | None = None,
    *,
    model: str = "model",
    tools: str = "tools",
) -> StateGraph[AgentState, ToolContext, AgentState, AgentState]:
    """The uncompiled built-in agent: START -> model -> (tools -> ... -> model) -> END."""
    config = config or AgentConfig()
    route = router(tools=tools, model=model)
    graph = StateGraph(AgentState, context_schema=ToolContext)
    graph.add_node(model, ModelNode(llm, registry, config, name=model))
    graph.add_node(tools, ToolNode(registry, policy, config, name=tools))
    graph.add_edge(START, model)
    graph.add_conditional_edges(model, route, [tools, END])
    graph.add_conditional_edges(tools, route, [tools, model, END])
    return graph


def node_names(graph: StateGraph[Any, Any, Any, Any]) -> tuple[str, str] | None:
    """The names of a graph's ModelNode and ToolNode, or None if it lacks one of them."""
    found: dict[type, str] = {}
    for name, spec in graph.nodes.items():
        node = getattr(spec.runnable, "func", spec.runnable)  # LangGraph wraps what was added
        for kind in (ModelNode, ToolNode):
            if isinstance(node, kind):
                found.setdefault(kind, name)
    if ModelNode in found and ToolNode in found:
        return found[ModelNode], found[ToolNode]
    return None


def stream_events(
    graph: Any, payload: Any, config: RunnableConfig, context: ToolContext | None = None
) -> Iterator[ev.Event]:
    """Run a compiled graph, yielding gemloom's events as they happen; every step is saved
    before the next.

    A graph of gemloom's nodes only runs in a thread of its own that hands its events over as
    they come: LangGraph's `custom` stream mode would hand each step to a pool thread and wait
    on it, which costs more per step than the step's own work in a fast tool loop (see
    bench/agent_overhead.py). A graph with nodes of your own runs in `custom` mode, so what
    they write with LangGraph's `get_stream_writer()` comes through as well.
    """
    if not _own_nodes_only(graph):
        yield from graph.stream(
            payload, config, stream_mode="custom", durability="sync", context=context
        )
        return

    def run() -> None:
        for _ in graph.stream(
            payload, config, stream_mode="updates", durability="sync", context=context
        ):
            pass  # the updates are in the checkpoints; the events went to the sink

    yield from _relayed(run)


def _own_nodes_only(graph: Any) -> bool:
    """Whether every node of a compiled graph is a ModelNode or a ToolNode."""
    nodes = getattr(getattr(graph, "builder", None), "nodes", None)
    if not nodes:
        return False
    return all(
        isinstance(getattr(spec.runnable, "func", spec.runnable), ModelNode | ToolNode)
        for spec in nodes.values()
    )


class _Failed(NamedTuple):
    error: BaseException


class RunAbandoned(Exception):
    """The caller stopped reading a run's events: the run ends at its next event, resumable
    as a killed run is."""


def _relayed(run: Callable[[], None]) -> Iterator[Any]:
    """The events `run` sends to the sink, run in another thread, yielded here as they come;
    what it raises is raised here. Leaving early ends the run at its next event and waits
    for it, so nothing of the run goes on after this returns."""
    events: SimpleQueue[Any] = SimpleQueue()
    left = threading.Event()

    def send(event: Any) -> None:
        if left.is_set():
            raise RunAbandoned("the caller stopped reading the run's events")
        events.put(event)

    def work() -> None:
        SINK.set(send)
        try:
            run()
        except BaseException as exc:
            events.put(_Failed(exc))
        else:
            events.put(_DONE)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,),
                              name="gemloom-run", daemon=True)  # fmt: skip
    thread.start()
    try:
        while (item := events.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        left.set()
        thread.join()


_DONE = object()
