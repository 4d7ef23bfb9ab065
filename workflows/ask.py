"""Question and answer over a whole codebase in long context, multi-turn (gemloom ask)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gemloom.errors import GemloomError
from gemloom.tools.codebase.pack import Pack, require_files

if TYPE_CHECKING:
    from gemloom.agents.sessions import Sessions

ASK_TOOLS = ["read_file", "search_code", "list_files"]
PACK_SHARE = 0.75  # of the context, so follow-up turns fit before compaction starts at 80%


def ask_sessions(path: Path) -> tuple[Path, Sessions]:
    """The codebase root and sessions that may only read it; a path that is no folder raises."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise GemloomError(f"{path} is not a folder: give the root of a codebase.")
    from gemloom.agents.approval import Policy  # the agent stack: once the folder is known good
    from gemloom.agents.sessions import Sessions
    from gemloom.tools.registry import ToolContext, default_registry

    sessions = Sessions(
        registry=default_registry().select(ASK_TOOLS),
        workspace=root,
        policy=Policy.deny_risky(),
        context=ToolContext(root, codebase_root=root),
    )
    return root, sessions


def pack_budget(sessions: Sessions) -> int:
    """Tokens the packed codebase may take in this model's context."""
    context = sessions.llm.model_info().context_length
    return max(int(context * PACK_SHARE) - sessions.settings.answer_reserve, 1)


def first_message(
    root: Path, question: str, budget: int, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[str, Pack]:
    """The packed codebase, then the question, and the pack; the pack comes first as a prefix."""
    from gemloom.tools.codebase.tools import pack

    packed = pack(root, budget=budget, question=question, fmt="xml", include=include,
                  exclude=exclude)  # fmt: skip
    require_files(packed, root)
    return f"{packed.text}\n\nQuestion about the codebase above: {question}", packed
