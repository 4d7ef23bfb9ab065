"""The `gemloom` command. Heavy imports stay inside commands so start-up stays fast."""

from __future__ import annotations

import functools
import importlib
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import click
import typer
from typer.core import TyperGroup

from gemloom import __version__
from gemloom.errors import ExitCode, GemloomError

LAZY_COMMANDS = {
    "chat": ("gemloom.workflows.tui.app:chat_command",
             "Open the TUI: chat with the agent, approve its tools, browse sessions and memory."),
    "run": ("gemloom.cli.run:run_command",
            "Run an agent session non-interactively, streaming the answer and tool activity."),
    "sessions": ("gemloom.cli.sessions:sessions_app",
                 "List, show, resume and fork agent sessions."),
    "memory": ("gemloom.cli.memory:app", "The long-term memory store."),
    "pack": ("gemloom.cli.codebase:pack_command",
             "Pack a codebase into one context block (tree, then files) that fits the token "
             "budget."),
    "ask": ("gemloom.cli.ask:ask_command",
            "Ask about a codebase loaded whole into the model's long context."),
    "ingest": ("gemloom.cli.meetings:ingest_command",
               "Transcribe and summarise one recording into NAME.md, .json, .srt and .vtt."),
    "watch": ("gemloom.cli.meetings:watch_command",
              "Watch a folder and turn each complete recording into notes, exactly once."),
    "speakers": ("gemloom.cli.meetings:speakers_command",
                 "Rename speakers in a meeting's notes, transcript and subtitles."),
    "review": ("gemloom.cli.review:review_command",
               "Review screenshots for visual, accessibility and layout defects; ground them in "
               "code."),
    "screenshot": ("gemloom.cli.review:screenshot_command",
                   "Capture the screen (or a region, monitor or window) to a PNG file."),
    "mcp": ("gemloom.cli.mcp:app",
            "MCP: list the servers whose tools agents use, or serve gemloom's tools."),
}  # fmt: skip
"""Commands whose modules load only when used, with their help line so listing imports nothing
(tests/gemloom/test_cli_startup.py holds each line to the command's own docstring)."""


class LazyGroup(TyperGroup):
    """A command group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attr = LAZY_COMMANDS[cmd_name][0].partition(":")
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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the static help lines: `--help` imports no command."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                line = LAZY_COMMANDS[name][1]
            else:
                command = super().get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                line = command.help or ""
            rows.append((name, _short(line, formatter.width - 6 - max(map(len, LAZY_COMMANDS)))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _short(line: str, limit: int) -> str:
    """The first line of a help text, cut at a word as click does."""
    return click.utils.make_default_short_help(line.split("\n")[0], max(limit, 45))


@functools.cache
def _console(stderr: bool = False) -> Any:
    """rich's Console, made on first use: `--version` and `--help` never load rich."""
    from rich.console import Console

    return Console(stderr=stderr)


app = typer.Typer(
    cls=LazyGroup,
    help="gemloom: local multimodal agents on Gemma 4 through Ollama.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"gemloom {__version__}")
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
    from gemloom.tools.audio.transcribe import doctor_check as speech
    from gemloom.tools.screen.tools import doctor_check as display

    report = run_checks(optional=[speech, display])
    render(report, as_json, _console())
    if not report.ok:
        raise typer.Exit(report.exit_code)


@app.command()
def pull(model: str = typer.Argument(..., help="Model name, for example gemma4:12b.")) -> None:
    """Download a model into Ollama, with a progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from gemloom.llm import LLM

    llm = LLM()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, console=_console()) as bar:
        task = bar.add_task(f"pulling {model}", total=None)
        for part in llm.pull(model):
            bar.update(task, description=f"{model}: {part.get('status', '')}")
            if part.get("total"):
                bar.update(task, total=part["total"], completed=part.get("completed", 0))
    _console().print(f"{model} is ready.")


def _as_job(args: list[str]) -> AbstractContextManager[Any]:
    """The job board records lazy commands (watch, ingest, review); the rest skip its imports."""
    if not args or args[0] not in {*LAZY_COMMANDS, "doctor", "pull"}:
        return nullcontext()
    from gemloom.settings import check_host_variable

    check_host_variable()  # before anything imports ollama, which fails on a bad OLLAMA_HOST
    if args[0] not in LAZY_COMMANDS:
        return nullcontext()
    from gemloom.workflows.jobs import registered

    return registered(args)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; gemloom errors become one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with _as_job(args):
            app(args=args, prog_name="gemloom")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except GemloomError as exc:
        _console(stderr=True).print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted")
        return ExitCode.INTERRUPTED
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
