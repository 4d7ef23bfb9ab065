"""`gemloom ask`: question and answer over a whole codebase in long context, multi-turn."""

from __future__ import annotations

from pathlib import Path

import typer

from gemloom.cli.codebase import Excludes, Globs, patterns


def ask_command(
    path: Path = typer.Argument(..., help="The codebase folder."),
    question: str = typer.Argument(..., help="What to ask about it."),
    session: str = typer.Option(None, "--session", "-s", help="Continue this ask session."),
    budget: int = typer.Option(None, "--budget", "-b", min=1, help="Token budget for the pack."),
    include: Globs = None,
    exclude: Excludes = None,
) -> None:
    """Ask about a codebase loaded whole into the model's long context."""
    from gemloom.workflows.ask import ask_sessions, first_message, pack_budget  # not for --help

    if session:  # an unknown id is said before the agent stack loads
        from gemloom.agents.session_catalogue import refuse_unknown

        refuse_unknown(session)
    root, sessions = ask_sessions(path)  # a path that is no folder is refused before the stack
    from gemloom.workflows.run import drive, err

    if session:
        sessions.get(session)
        text = question
        session_id = session
    else:
        budget = budget or pack_budget(sessions)
        text, packed = first_message(root, question, budget, patterns(include), patterns(exclude))
        err.print(f"[dim]packed {packed.stats.tokens:,} tokens of {root} (budget {budget:,})[/]")
        session_id = sessions.create(f"ask {root.name}: {question[:60]}")
    err.print(f"[dim]session {session_id} (continue with --session {session_id})[/]")
    raise typer.Exit(drive(sessions, session_id, sessions.send(session_id, text)).exit_code)
