"""The `gemloom` command. Heavy imports stay inside commands so start-up stays fast."""

from __future__ import annotations

import importlib
import sys

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from gemloom import __version__
from gemloom.errors import GemloomError

LAZY_COMMANDS = {
    "chat": "gemloom.workflows.tui.app:chat_command",
    "run": "gemloom.workflows.run:run_command",
    "sessions": "gemloom.workflows.run:sessions_app",
    "memory": "gemloom.memory.cli:app",
    "pack": "gemloom.tools.codebase_cli:pack_command",
    "ask": "gemloom.workflows.ask:ask_command",
    "ingest": "gemloom.workflows.meetings:ingest_command",
    "watch": "gemloom.workflows.meetings:watch_command",
    "speakers": "gemloom.workflows.meetings_speakers:speakers_command",
    "review": "gemloom.workflows.review_cli:review_command",
    "screenshot": "gemloom.workflows.review_cli:screenshot_command",
    "mcp": "gemloom.workflows.mcp_cli:app",
}
"""Commands whose modules load only when used, so `gemloom --version` and doctor start fast."""


class LazyGroup(TyperGroup):
    """A command group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
        target = getattr(importlib.import_module(module), attr)
        if not isinstance(target, typer.Typer):
            single = typer.Typer(
                pretty_exceptions_enable=False, rich_markup_mode=None, add_completion=False
            )
            single.command(cmd_name)(target)
            target = single
        command = typer.main.get_command(target)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=LazyGroup,
    help="gemloom: local multimodal agents on Gemma 4 through Ollama.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"gemloom {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """gemloom: local multimodal agents on Gemma 4 through Ollama."""


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check Ollama, the models, the data directory and the optional parts."""
    from gemloom.doctor import render, run_checks
    from gemloom.tools.audio_transcribe import doctor_check as speech
    from gemloom.tools.screenshot import doctor_check as display

    report = run_checks(optional=[speech, display])
    render(report, as_json, out)
    if not report.ok:
        raise typer.Exit(report.exit_code)


@app.command()
def pull(model: str = typer.Argument(..., help="Model name, for example gemma4:12b.")) -> None:
    """Download a model into Ollama, with a progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from gemloom.llm import LLM

    llm = LLM()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, console=out) as bar:
        task = bar.add_task(f"pulling {model}", total=None)
        for part in llm.pull(model):
            bar.update(task, description=f"{model}: {part.get('status', '')}")
            if part.get("total"):
                bar.update(task, total=part["total"], completed=part.get("completed", 0))
    out.print(f"{model} is ready.")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; gemloom errors become one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from gemloom.settings import check_host_variable
        from gemloom.workflows.jobs import registered

        check_host_variable()
        with registered(args):
            app(args=args, prog_name="gemloom")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except GemloomError as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
