"""gemloom: a local multimodal agent framework on Ollama and LangGraph.

The public API, imported on first use so that `import gemloom` (and `gemloom --help`) stays
cheap: `from gemloom import Agent, tool` loads LangGraph only when `Agent` is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it from here

_EVENTS = ("Approved", "AwaitingApproval", "Compacted", "Content", "Cut", "Error", "Event",
           "NodeFinished", "NodeStarted", "Rejected", "Stopped", "Thinking", "ToolFinished",
           "ToolProposed", "Usage")  # fmt: skip
_ERRORS = ("GemloomError", "ModelNotFound", "OllamaUnreachable", "CapabilityMissing",
           "SettingsError")  # fmt: skip
_WHERE: dict[str, str] = {
    **dict.fromkeys(("tool", "Risk", "Tool", "ToolContext", "ToolResult", "ToolError",
                     "Registry"), "gemloom.tools.registry"),
    **dict.fromkeys(("Agent", "ApprovalRequired", "AgentStopped"), "gemloom.agents.agent"),
    **dict.fromkeys(("Policy", "Decision", "Action", "Mode"), "gemloom.agents.approval"),
    **dict.fromkeys(("AgentState", "ModelNode", "ToolNode", "tools_condition", "router",
                     "stream_events", "build_graph"), "gemloom.agents.graph"),
    "AgentConfig": "gemloom.agents.config",
    "Sessions": "gemloom.agents.sessions",
    "LLM": "gemloom.llm",
    "Settings": "gemloom.settings",
    **dict.fromkeys(_EVENTS, "gemloom.agents.events"),
    **dict.fromkeys(_ERRORS, "gemloom.errors"),
}  # fmt: skip
__all__ = [
    "LLM",
    "Action",
    "Agent",
    "AgentConfig",
    "AgentState",
    "AgentStopped",
    "ApprovalRequired",
    "Approved",
    "AwaitingApproval",
    "CapabilityMissing",
    "Compacted",
    "Content",
    "Cut",
    "Decision",
    "Error",
    "Event",
    "GemloomError",
    "Mode",
    "ModelNode",
    "ModelNotFound",
    "NodeFinished",
    "NodeStarted",
    "OllamaUnreachable",
    "Policy",
    "Registry",
    "Rejected",
    "Risk",
    "Sessions",
    "Settings",
    "SettingsError",
    "Stopped",
    "Thinking",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolFinished",
    "ToolNode",
    "ToolProposed",
    "ToolResult",
    "Usage",
    "__version__",
    "build_graph",
    "router",
    "stream_events",
    "tool",
    "tools_condition",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is used."""
    if name not in _WHERE:
        raise AttributeError(f"module 'gemloom' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


if TYPE_CHECKING:  # what editors and type checkers see
    from gemloom.agents.agent import Agent, AgentStopped, ApprovalRequired
    from gemloom.agents.approval import Action, Decision, Mode, Policy
    from gemloom.agents.config import AgentConfig
    from gemloom.agents.events import (
        Approved,
        AwaitingApproval,
        Compacted,
        Content,
        Cut,
        Error,
        Event,
        NodeFinished,
        NodeStarted,
        Rejected,
        Stopped,
        Thinking,
        ToolFinished,
        ToolProposed,
        Usage,
    )
    from gemloom.agents.graph import (
        AgentState,
        ModelNode,
        ToolNode,
        build_graph,
        router,
        stream_events,
        tools_condition,
    )
    from gemloom.agents.sessions import Sessions
    from gemloom.errors import (
        CapabilityMissing,
        GemloomError,
        ModelNotFound,
        OllamaUnreachable,
        SettingsError,
    )
    from gemloom.llm import LLM
    from gemloom.settings import Settings
    from gemloom.tools.registry import (
        Registry,
        Risk,
        Tool,
        ToolContext,
        ToolError,
        ToolResult,
        tool,
    )
