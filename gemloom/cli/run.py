"""`gemloom run`: one agent turn on the terminal, streaming the answer and tool activity."""

from __future__ import annotations

import typer


def run_command(
    prompt: str = typer.Argument(..., help="What to ask the agent."),
    session: str = typer.Option(None, "--session", "-s", help="Continue this session."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Run write/execute tools without asking."),
    tools: str = typer.Option(None, "--tools", help="Comma-separated tool names to offer."),
    max_steps: int = typer.Option(20, "--max-steps", min=1, help="Model calls per message."),
) -> None:
    """Run an agent session non-interactively, streaming the answer and tool activity."""
    if session:  # an unknown id is said before the agent stack loads and Ollama is asked
        from gemloom.agents.session_catalogue import refuse_unknown

        refuse_unknown(session)
    # the agent stack is imported here, not with the module: `gemloom run --help` needs none of it
    from gemloom.tools.mcp.client import stop_all as stop_mcp_servers
    from gemloom.workflows.run import drive, err, open_sessions

    sessions = open_sessions(yes, tools, max_steps)
    if sessions.agent.registry:  # fail before a session exists; bool() starts no MCP server
        sessions.llm.require("tools", sessions.agent.config.model)
    session_id = sessions.get(session).id if session else sessions.create(prompt[:80])
    err.print(f"[dim]session {session_id}[/]")
    try:
        outcome = drive(sessions, session_id, sessions.send(session_id, prompt))
    finally:
        stop_mcp_servers()  # MCP servers live as long as the session's run
    raise typer.Exit(outcome.exit_code)
