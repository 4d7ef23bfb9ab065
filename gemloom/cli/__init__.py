"""The `gemloom` command. Heavy imports stay inside commands so start-up stays fast.

This module is what the `gemloom` script imports: `main()` and the built-in commands' static
help lines, and nothing else, so `gemloom --version` (and a plain `gemloom doctor`) answers
without importing typer. Every other command line goes to the Typer app in `gemloom.cli.app`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from gemloom.errors import ExitCode, GemloomError

HELP_LINES = {
    "chat": "Open the TUI: chat with the agent, approve its tools, browse sessions and memory.",
    "run": "Run an agent session non-interactively, streaming the answer and tool activity.",
    "sessions": "List, show, resume, fork and migrate agent sessions.",
    "memory": "The long-term memory store.",
    "pack": "Pack a codebase into one context block (tree, then files) that fits the token budget.",
    "ask": "Ask about a codebase loaded whole into the model's long context.",
    "ingest": "Transcribe and summarise one recording into NAME.md, .json, .srt and .vtt.",
    "watch": "Watch a folder and turn each complete recording into notes, exactly once.",
    "speakers": "Rename speakers in a meeting's notes, transcript and subtitles.",
    "review": (
        "Review screenshots for visual, accessibility and layout defects; ground them in code."
    ),
    "screenshot": "Capture the screen (or a region, monitor or window) to a PNG file.",
    "mcp": "MCP: list the servers whose tools agents use, or serve gemloom's tools.",
}
"""The built-in commands' help lines, so listing imports nothing (tests/gemloom/test_cli_startup.py
holds each to the command's own docstring). A plugin's command shows its package and summary."""
OWN_COMMANDS = ("doctor", "plugins", "pull")
"""Commands defined in gemloom.cli.app, not through the `gemloom.commands` entry points."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; gemloom errors become one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # typer is a third of the start-up, and not needed for this
        from gemloom import __version__

        print(f"gemloom {__version__}")
        return ExitCode.OK
    if args == ["chat"]:  # straight to the TUI: typer's parameter adapters import pydantic
        gc.disable()  # 15-25% of the import CPU was collections; the TUI enables it once loaded
        from gemloom.workflows.tui.typeahead import typeahead_kept

        with typeahead_kept():  # keys typed during the imports reach the prompt as typed
            from gemloom.workflows.tui.app import chat_command

            chat_command()
        return ExitCode.OK
    if args in (["doctor"], ["doctor", "--json"]):  # typer would be a fifth of its start-up
        from gemloom.cli.doctor import doctor

        return guarded(lambda: doctor(as_json=len(args) == 2))
    from gemloom.cli.app import run

    return run(args)


def guarded(command: Callable[[], int]) -> int:
    """Run a command: gemloom errors become one line on stderr and their exit code."""
    try:
        return command()
    except GemloomError as exc:
        print(f"error: {exc}", file=sys.stderr)  # plain: rich costs 0.1 s of imports
        return exc.exit_code
    except KeyboardInterrupt:
        from rich.console import Console

        Console(stderr=True).print("interrupted")
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
