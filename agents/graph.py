"""gemloom's agent graph, built from the same pieces you can put into your own StateGraph.

The pieces: `AgentState` (the state type), `ModelNode` and `ToolNode` (the nodes, their names
are parameters), `tools_condition` / `router()` (the conditional edge) and `stream_events`
(run a compiled graph and get gemloom's typed events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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
    """Run a compiled graph, yielding gemloom's events; every step is saved before the next."""
    yield from graph.stream(
        payload, config, stream_mode="custom", durability="sync", context=context
    )
