"""`gemloom sessions`: list, show, export, resume and fork agent sessions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from gemloom.agents.session_catalogue import refuse_unknown

if TYPE_CHECKING:
    from gemloom.agents.sessions import Sessions

# The agent stack (LangGraph, the MCP client) is imported by each command, not with this module:
# `gemloom sessions --help` needs none of it.

sessions_app = typer.Typer(
    help="List, show, resume, fork and migrate agent sessions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _sessions() -> Sessions:
    """The sessions, with the default tools."""
    from gemloom.agents.sessions import Sessions
    from gemloom.tools.registry import default_registry

    return Sessions(registry=default_registry())


@sessions_app.command("list")
def list_sessions() -> None:
    """List sessions, most recent first."""
    from rich.console import Console
    from rich.table import Table

    from gemloom.agents.session_catalogue import sqlite_listed
    from gemloom.settings import load_settings
    from gemloom.terminal import safe

    found = sqlite_listed(load_settings())  # SQLite's catalogue as it is: no agent stack to load
    if found is None:  # PostgreSQL, or a catalogue the store must migrate or report on
        found = _sessions().list()
    out = Console(highlight=False)
    hosts = any(info.host for info in found)  # recorded only with several Ollama servers
    table = Table("id", "title", "updated", "from", *(["host"] if hosts else []))
    for info in found:
        when = datetime.fromtimestamp(info.updated).strftime("%Y-%m-%d %H:%M")
        host = [safe(info.host or "")] if hosts else []
        table.add_row(info.id, safe(info.title), when, info.parent or "", *host)
    out.print(table)


@sessions_app.command("show")
def show_session(session_id: str) -> None:
    """Print a session's messages."""
    refuse_unknown(session_id)  # before the agent stack loads
    from gemloom.workflows.run import out, safe

    sessions = _sessions()
    info = sessions.get(session_id)
    out.print(f"[bold]{safe(info.title)}[/] ({info.id})")
    for message in sessions.messages(session_id):
        role = safe(
            message["role"] + (f" {message['tool_name']}" if message.get("tool_name") else "")
        )
        calls = [c["function"]["name"] for c in message.get("tool_calls", [])]
        suffix = f"  [cyan]calls {safe(', '.join(calls))}[/]" if calls else ""
        out.print(f"[bold]{role}:[/] {safe(message.get('content', ''))}{suffix}")
    if request := sessions.awaiting(session_id):
        out.print(f"[yellow]waiting for approval of {safe(request['name'])}[/]")


@sessions_app.command("export")
def export_session(
    session_id: str,
    fmt: str = typer.Option("md", "--format", "-f", help="md or json"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file (default: stdout)"),
) -> None:
    """Write a session as Markdown or JSON."""
    refuse_unknown(session_id)  # before the agent stack loads
    from gemloom.workflows.session_export import export_text, write_export

    write_export(export_text(_sessions(), session_id, fmt), output)


@sessions_app.command("history")
def session_history(session_id: str) -> None:
    """List a session's checkpoints, to fork from."""
    refuse_unknown(session_id)  # before the agent stack loads
    from gemloom.workflows.run import out, safe

    for point in _sessions().checkpoints(session_id):
        line = f"{point.id}  step {point.step:>3}  {point.messages:>3} messages  {point.last}"
        out.print(safe(line))


@sessions_app.command("resume")
def resume_session(
    session_id: str,
    yes: bool = typer.Option(False, "--yes", "-y", help="Run write/execute tools without asking."),
) -> None:
    """Go on with a session that was interrupted, killed or left waiting for approval."""
    refuse_unknown(session_id)  # before the agent stack loads
    from gemloom.agents.approval import Action, Decision
    from gemloom.tools.mcp.client import stop_all as stop_mcp_servers
    from gemloom.workflows.run import ask, drive, open_sessions

    sessions = open_sessions(yes)
    sessions.get(session_id)
    try:
        with sessions.held(session_id):  # before asking: another process may be answering it
            if request := sessions.awaiting(session_id):
                decision = Decision(Action.APPROVE) if yes else ask(request)
                events = sessions.answer(session_id, decision)
            else:
                events = sessions.resume(session_id)
            outcome = drive(sessions, session_id, events)
    finally:
        stop_mcp_servers()
    raise typer.Exit(outcome.exit_code)


@sessions_app.command("fork")
def fork_session(
    session_id: str,
    checkpoint: str = typer.Option(None, "--checkpoint", "-c", help="From this checkpoint."),
) -> None:
    """Start a new session from a checkpoint of an existing one."""
    refuse_unknown(session_id)  # before the agent stack loads
    from gemloom.workflows.run import out

    new_id = _sessions().fork(session_id, checkpoint)
    out.print(new_id)


@sessions_app.command("migrate")
def migrate_sessions(
    to: str = typer.Option(..., "--to", help="postgresql://user:password@host:port/database"),
) -> None:
    """Copy this machine's sessions (checkpoints and catalogue) into a PostgreSQL server."""
    from rich.progress import Progress

    from gemloom.agents.session_migrate import Copied, migrate
    from gemloom.agents.session_store import shown_url
    from gemloom.settings import load_settings
    from gemloom.workflows.run import err, out, safe

    steps = migrate(load_settings(), to)
    total = cast(int, next(steps))
    sessions = checkpoints = busy = 0
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("copying sessions", total=total)
        for item in steps:
            copied = cast(Copied, item)
            if copied.busy:
                err.print(f"[yellow]skipped[/] {safe(copied.busy)}")
                busy += 1
            sessions += copied.new or copied.checkpoints > 0
            checkpoints += copied.checkpoints
            progress.advance(task)
    out.print(
        f"Copied {sessions} of {total} sessions ({checkpoints} checkpoints) to {shown_url(to)}; "
        f"already there: {total - sessions - busy}"
        + (f"; in use, skipped: {busy} (run it again when they finish)." if busy else ".")
    )
