"""Memory tools for the agent: remember, recall and forget, with provenance to cite."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gemloom.errors import GemloomError
from gemloom.memory.records import Kind, Source, parse_since
from gemloom.tools.registry import Risk, ToolContext, ToolError, tool

if TYPE_CHECKING:
    from gemloom.memory.store import MemoryStore

USER_NAMESPACE = "user"  # memories about the person, visible from every project


def _store(ctx: ToolContext) -> MemoryStore:
    """The shared store from ctx.memory, opened from the settings on first use."""
    if ctx.memory is None:
        from gemloom.memory.store import MemoryStore

        try:
            ctx.memory = MemoryStore.open(settings=ctx.settings)
        except GemloomError as exc:
            raise ToolError(f"memory is unavailable: {exc}") from None
    return ctx.memory


def _namespace(ctx: ToolContext) -> str:
    return ctx.memory_namespace or ctx.workspace.name or "default"


def _since(value: str | None) -> datetime | None:
    try:
        return parse_since(value)
    except GemloomError as exc:
        raise ToolError(str(exc)) from None


@tool(risk=Risk.WRITE)
def remember(
    text: str, kind: Kind = Kind.NOTE, tags: list[str] | None = None, *, ctx: ToolContext
) -> str:
    """Store a memory that later sessions can recall.

    Args:
        text: The fact, decision, action item or note, written so it makes sense on its own.
        kind: What the memory is.
        tags: Short labels to find it by later.
    """
    session = ctx.session_id
    try:
        results = _store(ctx).add(
            text, kind, tags=tags or [], namespace=_namespace(ctx),
            source=Source(session_id=str(session) if session else None),
        )  # fmt: skip
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    verbs = {"added": "remembered", "duplicate": "already known", "updated": "updated"}
    return "\n".join(f"{verbs[r.action]}: {r.record.cite()}" for r in results)


@tool(risk=Risk.READ)
def recall(
    query: str,
    k: int = 5,
    kind: Kind | None = None,
    since: str | None = None,
    *,
    ctx: ToolContext,
) -> str:
    """Find stored memories by meaning; each comes with its id and source to cite.

    Args:
        query: What to look for, in plain words.
        k: How many memories to return (1 to 20).
        kind: Only memories of this kind.
        since: Only memories stored after this ISO date, or within an age such as 7d or 12h.
    """
    spaces = [_namespace(ctx), USER_NAMESPACE]
    try:
        hits = _store(ctx).recall(
            query, max(1, min(int(k), 20)), kind=kind, since=_since(since), namespaces=spaces
        )
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    if not hits:
        return "No stored memory matches."
    return "\n\n".join(
        f"{h.record.cite()} similarity={1 - h.distance:.2f}\n{h.record.text}" for h in hits
    )


@tool(risk=Risk.WRITE)
def forget(id: str, *, ctx: ToolContext) -> str:
    """Forget a stored memory so recall no longer returns it.

    Args:
        id: The memory's id, as shown in brackets by recall.
    """
    try:
        record = _store(ctx).forget(id.strip().strip("[]"))
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    return f"forgotten: {record.cite()}"


TOOLS = [remember, recall, forget]
