"""Where the events of a running graph's nodes and tools go.

`stream_events` (agents/graph.py) runs a graph of gemloom's own nodes in a thread of its own and
sets `SINK` there; everything else that runs a graph streams it in LangGraph's `custom` mode.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

SINK: ContextVar[Callable[[Any], None] | None] = ContextVar("gemloom_events", default=None)
"""Set by `stream_events` in the thread that runs a graph of gemloom's own nodes."""


def writer(outside: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
    """Where an event goes: to the caller of `stream_events` running the graph, else to
    LangGraph's custom stream (a graph streamed in `custom` mode), else to `outside` (a node
    or tool called directly, outside a graph run; by default nowhere)."""
    sink = SINK.get()
    if sink is not None:
        return sink
    from langgraph.config import get_stream_writer

    try:
        return get_stream_writer()
    except RuntimeError:  # outside a graph run (direct calls in tests)
        return outside or _nowhere


def _nowhere(event: Any) -> None:
    """Events of a node or tool run outside a graph are dropped."""
