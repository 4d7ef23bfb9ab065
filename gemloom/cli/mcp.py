"""`gemloom mcp list` and `gemloom mcp serve`: MCP servers gemloom uses, and gemloom as one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from gemloom.errors import ExitCode

app = typer.Typer(
    help="MCP: list the servers whose tools agents use, or serve gemloom's tools.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@app.command("list")
def list_servers() -> None:
    """Start each configured MCP server, show whether it started and what tools it offers."""
    from gemloom.settings import config_path, load_settings
    from gemloom.tools.mcp.client import McpManager
    from gemloom.tools.mcp.config import servers
    from gemloom.tools.mcp.tools import server_tools

    settings = load_settings()
    configured = servers(settings)
    if not configured:
        out.print(f"No MCP servers configured: add [mcp.servers.NAME] tables to {config_path()}.")
        return
    manager = McpManager(configured, log_dir=settings.data_dir / "logs" / "mcp")
    try:
        listings = manager.start()
        for name, config in configured.items():
            where = " ".join([config.command, *config.args]) if config.command else config.url
            if not config.enabled:
                status = "[dim]disabled[/]"
            elif name in listings:
                status = "[green]started[/]"
            else:
                status = f"[red]did not start:[/] {escape(manager.failures.get(name, '?'))}"
            head = f"[bold]{escape(name)}[/] ({config.transport}: {escape(str(where))})"
            out.print(f"{head} {status}")
            for tool in server_tools(manager, name, listings.get(name, [])):
                out.print(f"  {escape(tool.name)}  [dim]{tool.risk}[/]  {escape(tool.description)}")
    finally:
        manager.close()
    if manager.failures:
        raise typer.Exit(ExitCode.FAILED)


@app.command("serve")
def serve(
    root: list[Path] = typer.Option(
        None, "--root", "-r", help="A folder the file tools may read (repeatable; default: .)."
    ),
    http: int = typer.Option(
        None, "--http", min=1, max=65535, help="Serve streamable HTTP on 127.0.0.1:PORT."
    ),
    allow_writes: bool = typer.Option(
        False, "--allow-writes", help="Let clients call write tools (remember)."
    ),
) -> None:
    """Serve gemloom's tools (pack, search, read, memory, review, meetings, screen) over MCP."""
    from gemloom.workflows.mcp.server import build, check_port, check_roots

    roots = check_roots(root or [Path.cwd()])
    if http is not None:
        check_port(http)
    server = build(roots, allow_writes=allow_writes)
    if http is None:
        server.run()
    else:
        err.print(f"gemloom MCP server on http://127.0.0.1:{http}/mcp")
        server.run("streamable-http", host="127.0.0.1", port=http)
