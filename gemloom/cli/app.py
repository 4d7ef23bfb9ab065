"""The root Typer app of `gemloom`: the command list, its own commands, and running them.

Heavy imports stay inside commands so start-up stays fast; `gemloom.cli.main` answers
`--version` before this module (and typer) is imported at all.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import typer
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

from gemloom import __version__
from gemloom.cli import HELP_LINES, OWN_COMMANDS, guarded
from gemloom.errors import ExitCode
from gemloom.plugins import (
    Group,
    Plugin,
    PluginError,
    discover,
    fix_for,
    installed_plugins,
    require_builtins,
    warn_skipped,
)

if TYPE_CHECKING:
    # typer vendors click (0.26+): TyperGroup takes and returns these, not the click package's
    from typer._click import Command, Context, HelpFormatter


@functools.cache
def plugin_commands() -> dict[str, Plugin]:
    """Command name -> its entry point (built-ins first); a clash is one warning, then skipped."""
    found: dict[str, Plugin] = {}
    plugins = discover(Group.COMMANDS)
    require_builtins(Group.COMMANDS, plugins)
    for plugin in plugins:
        if plugin.name in found or plugin.name in OWN_COMMANDS:
            taken = ValueError(f"the command name '{plugin.name}' is taken")
            warn_skipped(plugin, taken)
            continue
        found[plugin.name] = plugin
    return found


def _help_line(plugin: Plugin) -> str:
    if plugin.builtin and plugin.name in HELP_LINES:
        return HELP_LINES[plugin.name]
    return f"{plugin.distribution}: {plugin.summary or 'a plugin command.'}"


def _as_command(name: str, target: Any) -> Command:
    """A click command from a Typer app or a plain function."""
    if not isinstance(target, typer.Typer):
        single = typer.Typer(
            pretty_exceptions_enable=False, rich_markup_mode=None, add_completion=False
        )
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A command group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *plugin_commands()})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        plugin = plugin_commands().get(cmd_name)
        if plugin is None:
            return super().get_command(ctx, cmd_name)
        try:
            return _as_command(cmd_name, plugin.load())
        except Exception as exc:  # a broken plugin: say so and fix, never a traceback
            if plugin.builtin:
                raise
            warn_skipped(plugin, exc)
            raise PluginError(
                f"The command '{cmd_name}' from {plugin.distribution} did not load "
                f"({type(exc).__name__}: {exc}); {fix_for(plugin)}."
            ) from None

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the static help lines: `--help` imports no command."""
        commands = plugin_commands()
        rows = []
        for name in self.list_commands(ctx):
            if name in commands:
                line = _help_line(commands[name])
            else:
                command = super().get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                line = command.help or ""
            rows.append((name, line))
        width = formatter.width - 6 - max((len(name) for name, _ in rows), default=0)
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl([(name, _short(line, width)) for name, line in rows])


def _short(line: str, limit: int) -> str:
    """The first line of a help text, cut at a word as click does."""
    return make_default_short_help(line.split("\n")[0], max(limit, 45))


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
    from gemloom.cli.doctor import doctor as check

    if code := check(as_json):
        raise typer.Exit(code)


@app.command("plugins")
def plugins_command(
    check: bool = typer.Option(False, "--check", help="Load each plugin and report failures."),
) -> None:
    """List the commands, tools, embedders and workflows that packages add, built-ins first.

    Read afresh from the installed metadata, which also renews the copy `--help` reads.
    """
    installed_plugins(refresh=True)
    problems = 0
    for group in Group:
        for plugin in discover(group):
            status = ""
            if check:
                try:
                    plugin.load()
                    status = "  ok"
                except Exception as exc:  # reported as a line, like every skipped plugin
                    problems += 1
                    status = f"  FAILED {type(exc).__name__}: {exc}; {fix_for(plugin)}"
            print(f"{group.value}  {plugin.name}  {plugin.origin}{status}")
    if problems:
        raise typer.Exit(ExitCode.FAILED)


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
    """The job board records lazy commands (watch, ingest, review); the rest skip its imports.
    (`doctor` checks OLLAMA_HOST itself: it also runs without typer.)"""
    if not args or args[0].startswith("-") or args[0] not in {*plugin_commands(), "pull"}:
        return nullcontext()
    from gemloom.settings import check_host_variable

    check_host_variable()  # before anything imports ollama, which fails on a bad OLLAMA_HOST
    if args[0] not in plugin_commands():
        return nullcontext()
    from gemloom.workflows.jobs import registered

    return registered(args)


def run(args: list[str]) -> int:
    """Run the command line; gemloom errors become one line on stderr and an exit code."""

    def through_typer() -> int:
        try:
            with _as_job(args):
                app(args=args, prog_name="gemloom")
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return ExitCode.OK

    return guarded(through_typer)
