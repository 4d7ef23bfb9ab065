"""One exit-code table: every code has one meaning, every module uses it, the README shows it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from source_files import ROOT, library_modules

from gemloom.errors import EXIT_MEANINGS, ExitCode, exit_table

TABLE = re.compile(r"<!-- exit-codes -->\n(.*?)\n<!-- /exit-codes -->", re.S)


def test_the_readme_shows_the_whole_table() -> None:
    found = TABLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "README.md lost its <!-- exit-codes --> block"
    assert found.group(1) == exit_table()


def test_every_code_has_one_meaning() -> None:
    assert set(EXIT_MEANINGS) == set(ExitCode)
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    assert len(set(EXIT_MEANINGS.values())) == len(ExitCode)


def _literal_codes(path: Path) -> list[str]:
    """`exit_code = 3`, `typer.Exit(1)` or `return 130`-style literals instead of the table."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        literal = (
            isinstance(getattr(node, "value", None), ast.Constant) and node.value.value is not None
        )
        if isinstance(node, ast.Assign | ast.AnnAssign) and literal:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", getattr(t, "attr", "")) == "exit_code" for t in targets):
                found.append(f"{path.name}:{node.lineno}")
        is_exit = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Exit"
        if is_exit and node.args and isinstance(node.args[0], ast.Constant):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_spells_an_exit_code_as_a_number() -> None:
    modules = [*library_modules(), *sorted((ROOT / "gemloom" / "cli").glob("*.py"))]
    assert [hit for path in modules for hit in _literal_codes(path)] == []


def test_the_scan_catches_a_literal(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import typer\nclass E:\n    exit_code = 9\nraise typer.Exit(1)\n")
    assert _literal_codes(probe) == ["probe.py:3", "probe.py:4"]


def test_a_locked_store_is_busy_and_a_broken_one_is_not_stopped_early() -> None:
    from gemloom.locks import Busy
    from gemloom.memory.errors import EmbedderRetired, StoreLocked, StoreUnavailable

    assert StoreLocked("x").exit_code == Busy("x").exit_code == ExitCode.BUSY == 12
    assert StoreUnavailable("x").exit_code == EmbedderRetired("m").exit_code == 13
