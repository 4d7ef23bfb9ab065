"""`gemloom ask`: question and answer over a whole codebase in long context, multi-turn."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from gemloom.agents.approval import Policy
from gemloom.agents.sessions import Sessions
from gemloom.cli.codebase import Excludes, Globs, patterns, require_files
from gemloom.errors import GemloomError
from gemloom.tools.registry import default_registry
from gemloom.workflows.run import drive, err

ASK_TOOLS = ["read_file", "search_code", "list_files"]
PACK_SHARE = 0.75  # of the context, so follow-up turns fit before compaction starts at 80%


def pack_budget(sessions: Sessions) -> int:
    """Tokens the packed codebase may take in this model's context."""
    context = sessions.llm.model_info().context_length
    return max(int(context * PACK_SHARE) - sessions.settings.answer_reserve, 1)


def first_message(
    root: Path, question: str, budget: int, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> str:
    """The packed codebase, then the question; the pack comes first so it stays a stable prefix."""
    from gemloom.tools.codebase.tools import pack

    packed = pack(root, budget=budget, question=question, fmt="xml", include=include,
                  exclude=exclude)  # fmt: skip
    require_files(packed, root)
    err.print(f"[dim]packed {packed.stats.tokens:,} tokens of {root} (budget {budget:,})[/]")
    return f"{packed.text}\n\nQuestion about the codebase above: {question}"


def ask_command(
    path: Path = typer.Argument(..., help="The codebase folder."),
    question: str = typer.Argument(..., help="What to ask about it."),
    session: str = typer.Option(None, "--session", "-s", help="Continue this ask session."),
    budget: int = typer.Option(None, "--budget", "-b", min=1, help="Token budget for the pack."),
    include: Globs = None,
    exclude: Excludes = None,
) -> None:
    """Ask about a codebase loaded whole into the model's long context."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise GemloomError(f"{path} is not a folder: give the root of a codebase.")
    sessions = Sessions(
        registry=default_registry().select(ASK_TOOLS),
        workspace=root,
        policy=Policy.deny_risky(),
        services={"codebase_root": root},
    )
    if session:
        sessions.get(session)
        text = question
        session_id = session
    else:
        globs = patterns(include), patterns(exclude)
        text = first_message(root, question, budget or pack_budget(sessions), *globs)
        session_id = sessions.create(f"ask {root.name}: {question[:60]}")
    err.print(f"[dim]session {session_id} (continue with --session {session_id})[/]")
    raise typer.Exit(drive(sessions, session_id, sessions.send(session_id, text)).exit_code)
