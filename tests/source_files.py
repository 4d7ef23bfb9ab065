"""The package's own source files, for tests that check the layout (imports, exit codes)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package_dirs() -> dict[str, Path]:
    """The `gemloom.*` import namespace and the folders it maps to, read from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {
        name: ROOT / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()
    }


def imported(path: Path) -> set[str]:
    """Top-level names of every module the file imports, at any depth of the code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def library_modules() -> list[Path]:
    """Every source file of the package outside gemloom/cli."""
    cli = ROOT / "gemloom" / "cli"
    files = {p for folder in _package_dirs().values() for p in folder.rglob("*.py")}
    return sorted(p for p in files if cli not in p.parents and ".venv" not in p.parts)
