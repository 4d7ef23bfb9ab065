"""A user's own agent graph built from gemloom's nodes: a planning step, then model and tools.

The node names differ from the built-in graph's on purpose ("think", "act"), so nothing can
lean on the built-in names.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from gemloom import AgentConfig, AgentState, ModelNode, Policy, Registry, ToolNode, router
from gemloom.llm import LLM

NAMES = ("think", "act")
PLAN = "Plan: look before you change anything, then answer in one sentence."


def plan(state: AgentState) -> dict:
    """A planning note before the model's first step of each turn (no model call)."""
    return {"messages": [{"role": "system", "content": PLAN}]}


def build(
    llm: LLM, registry: Registry, policy: Policy | None = None, config: AgentConfig | None = None
) -> StateGraph:
    """plan -> think -> (act -> ... -> think) -> end."""
    config = config or AgentConfig()
    route = router(tools="act", model="think")
    graph = StateGraph(AgentState)
    graph.add_node("plan", plan)
    graph.add_node("think", ModelNode(llm, registry, config, name="think"))
    graph.add_node("act", ToolNode(registry, policy, config, name="act"))
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "think")
    graph.add_conditional_edges("think", route, ["act", END])
    graph.add_conditional_edges("act", route, ["act", "think", END])
    return graph
