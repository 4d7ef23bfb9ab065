"""Start-up: `--version`, `--help` and doctor's start import nothing heavy; help lines stay true."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
import typer

from gemloom.cli import HELP_LINES
from gemloom.cli.app import _short, app

HEAVY = ("rich", "pydantic", "pydantic_settings", "numpy", "ollama", "httpx", "chromadb",
         "langgraph", "textual", "av", "faster_whisper", "PIL")  # fmt: skip
PROBE = (
    "import json, sys\n"
    "from gemloom.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]), file=sys.stderr)\n"
)


def _loaded(*args: str) -> tuple[int, str, set[str]]:
    """Run the command line in a fresh process: exit code, what it printed, top-level modules."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    *shown, last = done.stderr.strip().splitlines()
    code, modules = json.loads(last)
    return code, done.stdout + "\n".join(shown), set(modules)


@pytest.mark.parametrize(("args", "exit_code"), [(["--version"], 0), (["--help"], 0), ([], 2)])
def test_version_and_help_import_nothing_heavy(args: list[str], exit_code: int) -> None:
    code, out, modules = _loaded(*args)
    assert code == exit_code and "gemloom" in out
    assert not modules & set(HEAVY), modules & set(HEAVY)


@pytest.mark.parametrize("name", sorted(HELP_LINES))
def test_each_commands_help_imports_none_of_the_stacks_it_runs(name: str) -> None:
    code, out, modules = _loaded(name, "--help")
    stacks = {"langgraph", "langchain_core", "chromadb", "faster_whisper", "textual", "av",
              "PIL", "mcp", "numpy", "ollama"}  # fmt: skip
    assert code == 0 and "Usage" in out
    assert not modules & stacks, modules & stacks


def test_doctor_reads_its_settings_without_pydantic_settings_or_typer(dead_host: str) -> None:
    code, out, modules = _loaded("doctor")  # nothing listens: it stops before the client
    assert code == 3 and "ollama serve" in out
    assert not modules & (set(HEAVY) - {"pydantic"}), modules & set(HEAVY)
    assert "typer" not in modules


@pytest.mark.parametrize("args", [["doctor"], ["doctor", "--json"]])
def test_doctor_answers_without_typer_as_typer_would(dead_host: str, args: list[str]) -> None:
    code, out, modules = _loaded(*args)
    assert "typer" not in modules
    through_typer = subprocess.run(
        [sys.executable, "-c", "import sys; from gemloom.cli.app import run; "
         "sys.exit(run(sys.argv[1:]))", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    shown = (through_typer.stdout + through_typer.stderr).strip()
    assert (code, out.strip()) == (through_typer.returncode, shown)
    assert code == 3 and "ollama serve" in shown


def test_version_answers_without_typer_as_typer_would() -> None:
    from gemloom import __version__

    code, out, modules = _loaded("--version")
    assert code == 0 and out.strip() == f"gemloom {__version__}"
    assert "typer" not in modules and "click" not in modules
    code, through_typer, modules = _loaded("--version", "doctor")  # the eager option in typer
    assert code == 0 and through_typer == out and "typer" in modules


def test_help_lists_every_command_with_its_line() -> None:
    _, out, _ = _loaded("--help")
    for name in [*HELP_LINES, "doctor", "plugins", "pull"]:
        assert f"\n  {name} " in out
    assert "The long-term memory store." in out


@pytest.mark.parametrize("name", sorted(HELP_LINES))
def test_static_help_line_is_the_commands_own(name: str) -> None:
    group = typer.main.get_command(app)
    ctx = click.Context(group)
    command = group.get_command(ctx, name)
    assert command is not None
    own = (command.help or "").split("\n")[0].strip()
    assert HELP_LINES[name] == own
    assert _short(own, 60) == click.utils.make_default_short_help(own, 60)


def test_a_budgeted_pack_with_a_question_imports_no_model_memory_or_agent_stack(tmp_path) -> None:
    tree = tmp_path / "tree"  # apart from the test's data directory
    tree.mkdir()
    for i in range(40):  # a tree over the budget: ranked (the PageRank too) and fitted
        (tree / f"mod{i}.py").write_text(f"def f{i}():\n    return g{i + 1}()\n" * 40)
    code, out, modules = _loaded(
        "pack", str(tree), "-b", "3000", "-q", "what does f3 call?", "-o", str(tmp_path / "o")
    )
    assert code == 0 and "40 files" in out and (tmp_path / "o").stat().st_size > 0
    stacks = {"chromadb", "langgraph", "ollama", "httpx"}  # a budget given: no model asked
    assert not modules & stacks, modules & stacks
