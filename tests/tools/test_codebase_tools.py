"""The codebase agent tools and the `gemloom pack` command, on real folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gemloom.cli.codebase import pack_command
from gemloom.tools.codebase.tools import TOOLS, load_codebase, search_code
from gemloom.tools.files.tools import list_files, read_file
from gemloom.tools.registry import Registry, Risk, ToolContext, ToolError, default_registry


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "proj" / "src").mkdir(parents=True)
    (root / "proj" / "src" / "app.py").write_text('def main():\n    """Run."""\n    return 1\n')
    (root / "proj" / "src" / "util.py").write_text('TOKEN = "ghp_' + "a" * 36 + '"\n')
    (root / "proj" / "blob.bin").write_bytes(b"\x00\x01")
    (root / "proj" / ".gitignore").write_text("ignored.py\n")
    (root / "proj" / "ignored.py").write_text("hidden = True\n")
    (root / "outside.py").write_text("secret_outside = 1\n")
    return root


def test_tools_are_read_only_and_one_read_and_one_list_tool_exist() -> None:
    registry = Registry(TOOLS)
    assert registry.names() == ["load_codebase", "search_code"]
    assert all(registry.get(n).risk is Risk.READ for n in registry.names())
    names = default_registry().names()
    assert "read_text_file" not in names and "list_directory" not in names
    params = default_registry().get("read_file").schema["function"]["parameters"]
    assert params["required"] == ["path"]
    assert set(params["properties"]) == {"path", "start_line", "end_line"}
    assert set(default_registry().get("list_files").schema["function"]["parameters"][
        "properties"]) == {"path", "glob"}  # fmt: skip


def test_load_then_read_search_and_list_stay_inside_the_loaded_root(workspace: Path) -> None:
    ctx = ToolContext(workspace=workspace)
    text = load_codebase.run(load_codebase.validate({"path": "proj", "question": "main"}), ctx).text
    assert '<file path="src/app.py">' in text and "[REDACTED:github_token]" in text
    assert ctx.codebase_root == (workspace / "proj").resolve()
    assert read_file.run({"path": "src/app.py", "start_line": 2, "end_line": 3}, ctx).text == (
        '2:     """Run."""\n3:     return 1'
    )
    assert read_file.run({"path": "src/util.py"}, ctx).text == (
        '1: TOKEN = "[REDACTED:github_token]"\n[1 secret(s) redacted (github_token) on line(s) 1]'
    )
    assert list_files.run({"glob": "*.py"}, ctx).text == "src/app.py\nsrc/util.py"
    assert list_files.run({"path": "src"}, ctx).text == "src/app.py\nsrc/util.py"
    assert (
        search_code.run({"pattern": r"def \w+", "glob": ""}, ctx).text
        == "src/app.py:1: def main():"
    )
    assert "REDACTED" in search_code.run({"pattern": "TOKEN", "glob": "src/*.py"}, ctx).text
    assert search_code.run({"pattern": "hidden", "glob": ""}, ctx).text == "no match for 'hidden'"
    with pytest.raises(ToolError, match=r"uses '\.\.'"):
        read_file.run({"path": "../outside.py"}, ctx)
    with pytest.raises(ToolError, match="binary"):
        read_file.run({"path": "blob.bin"}, ctx)


def test_tools_fall_back_to_the_workspace_and_report_bad_input(workspace: Path) -> None:
    ctx = ToolContext(workspace=workspace)
    assert "outside.py" in list_files.run({}, ctx).text
    with pytest.raises(ToolError, match="invalid regular expression"):
        search_code.run({"pattern": "(", "glob": ""}, ctx)
    with pytest.raises(ToolError, match="not a folder"):
        load_codebase.run({"path": "outside.py", "question": ""}, ctx)
    with pytest.raises(ToolError, match="outside the workspace"):
        load_codebase.run({"path": "/", "question": ""}, ctx)
    with pytest.raises(ToolError, match="not a file"):
        read_file.run({"path": "proj"}, ctx)
    ctx.codebase_budget = 5
    with pytest.raises(ToolError, match="cannot hold even the file tree"):
        load_codebase.run({"path": "proj", "question": ""}, ctx)


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("pack")(pack_command)
    app.command("noop")(lambda: None)  # two commands, so `pack` is a subcommand as in gemloom
    return app


def test_pack_command_writes_a_file_and_json_stats(
    cli: typer.Typer, workspace: Path, tmp_path: Path, dead_host: str
) -> None:
    out = tmp_path / "pack.md"
    args = ["pack", str(workspace / "proj"), "-f", "markdown", "-o", str(out), "--json-stats"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Cannot reach Ollama" in result.stderr and "262,144-token context" in result.stderr
    stats = json.loads(result.stdout)
    assert stats["budget"] == 262_144 - 4096 and stats["full"] == 3 and stats["redacted"] == 1
    assert out.read_text().startswith("# Codebase: proj")


def test_pack_command_budget_and_bad_input(cli: typer.Typer, workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["pack", str(workspace / "proj"), "--budget", "100000"])
    assert result.exit_code == 0 and result.stdout.startswith('<codebase name="proj"')
    missing = CliRunner().invoke(cli, ["pack", str(workspace / "nope"), "--budget", "1000"])
    assert "no such file or directory" in str(missing.exception)
    tiny = CliRunner().invoke(cli, ["pack", str(workspace / "proj"), "--budget", "3"])
    assert "cannot hold even the file tree" in str(tiny.exception)
    folder = CliRunner().invoke(cli, ["pack", str(workspace), "-b", "9000", "-o", str(workspace)])
    assert "Cannot write the pack" in str(folder.exception)


def test_a_bad_path_is_reported_before_ollama_is_asked(
    cli: typer.Typer, workspace: Path, fake_ollama
) -> None:
    missing = CliRunner().invoke(cli, ["pack", str(workspace / "nope")])
    assert "no such file or directory" in str(missing.exception)
    assert fake_ollama.requests == []


PROBE = """
import sys
from gemloom.cli import main
code = main(sys.argv[1:])
loaded = [m for m in ("ollama", "httpx", "gemloom.llm") if m in sys.modules]
print("loaded:", loaded, "code:", code, file=sys.stderr)
"""


def test_the_command_writes_the_packed_bytes_and_finds_ollama_down_without_its_client(
    workspace: Path, tmp_path: Path, dead_host: str, gemloom_home: Path
) -> None:
    proj = workspace / "proj"
    (proj / "caf\xe9.py").write_text("NAME = 'caf\xe9'\n")  # non-ASCII, in name and text
    out = tmp_path / "pack.xml"
    env = {**os.environ, "GEMLOOM_DATA_DIR": str(gemloom_home)}
    run = [sys.executable, "-c", PROBE, "pack", str(proj)]
    to_stdout = subprocess.run(run, capture_output=True, env=env, timeout=120, check=False)
    to_file = subprocess.run([*run, "-o", str(out)], capture_output=True, env=env, timeout=120,
                             check=False)  # fmt: skip
    assert b"loaded: [] code: 0" in to_stdout.stderr, to_stdout.stderr
    assert b"Cannot reach Ollama" in to_stdout.stderr and b"262,144-token" in to_stdout.stderr
    assert to_file.returncode == 0 and b"about" in to_file.stdout
    assert to_stdout.stdout == out.read_bytes()
    assert "NAME = 'caf\xe9'" in to_stdout.stdout.decode("utf-8")
