"""The import direction: cli -> workflows -> agents -> tools -> memory -> the gemloom shell.

The graph comes from grimp (the engine of import-linter). It counts every import statement,
including lazy ones inside functions and those under `if TYPE_CHECKING:`. grimp finds a package
through its directory, which the folder mapping of pyproject.toml splits across the root, so the
tests lay the package out as its wheel does (a copy into tmp_path) and build the graph there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; a module may import its own layer and the layers below it.
LAYERS = ["shell", "memory", "tools", "agents", "workflows", "cli"]
# `gemloom/__init__.py` re-exports the public API lazily, so it may name any layer.
EXEMPT_IMPORTERS = {"gemloom"}
GRAPH_SCRIPT = """
import json, grimp
graph = grimp.build_graph("gemloom", cache_dir=None)
edges = []
for importer in sorted(graph.modules):
    for imported in sorted(graph.find_modules_directly_imported_by(importer)):
        for detail in graph.get_import_details(importer=importer, imported=imported):
            edges.append([importer, imported, detail["line_number"]])
print(json.dumps(edges))
"""


def installed_layout(dest: Path) -> Path:
    """Copy the source folders into `dest` as the wheel lays them out; returns `dest`."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping = pyproject["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        shutil.copytree(
            ROOT / folder,
            dest / package.replace(".", "/"),
            ignore=shutil.ignore_patterns("__pycache__"),
            dirs_exist_ok=True,
        )
    return dest


def layer(module: str) -> str:
    """The layer a module of gemloom belongs to."""
    parts = module.split(".")
    if len(parts) == 1:
        return "shell"  # the package itself: `from gemloom import __version__`
    if parts[1] == "__main__":
        return "cli"  # `python -m gemloom` runs the command line
    return parts[1] if parts[1] in LAYERS else "shell"


def violations(tree: Path) -> list[str]:
    """Every import in `tree` that points up the layers, one line each."""
    run = subprocess.run(
        [sys.executable, "-c", GRAPH_SCRIPT],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for importer, imported, line in json.loads(run.stdout):
        low, high = layer(importer), layer(imported)
        if importer not in EXEMPT_IMPORTERS and LAYERS.index(high) > LAYERS.index(low):
            found.append(
                f"module {importer} imports {imported} "
                f"(layer {low} may not import layer {high}), line {line}"
            )
    return found


def test_no_module_imports_a_layer_above_its_own(tmp_path: Path) -> None:
    """The source tree as it is: no upward import anywhere."""
    found = violations(installed_layout(tmp_path))
    assert found == [], "\n".join(found)


def package(tree: Path, files: dict[str, str]) -> Path:
    """A small package `gemloom` in `tree`, one module per entry; returns `tree`."""
    for name, source in files.items():
        path = tree / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in [tree / "gemloom", *(tree / "gemloom").rglob("*/")]:
        (folder / "__init__.py").touch()
    return tree


def test_an_upward_import_inside_a_function_is_reported(tmp_path: Path) -> None:
    """A lazy import in a function body counts as much as one at the top."""
    tree = package(
        tmp_path,
        {
            "gemloom.memory.store": "def late():\n    from gemloom.workflows import run\n",
            "gemloom.workflows.run": "from gemloom.memory import store\n",
        },
    )
    assert violations(tree) == [
        "module gemloom.memory.store imports gemloom.workflows.run "
        "(layer memory may not import layer workflows), line 2"
    ]


def test_the_shell_may_not_import_tools_but_init_may(tmp_path: Path) -> None:
    """gemloom/llm.py importing a tool is reported; the lazy re-exports of __init__ are not."""
    tree = package(
        tmp_path,
        {
            "gemloom.__init__": "def __getattr__(name):\n    from gemloom.agents import graph\n",
            "gemloom.llm": "import gemloom.tools.registry\n",
            "gemloom.tools.registry": "from gemloom import llm\n",
            "gemloom.agents.graph": "",
            "gemloom.__main__": "from gemloom.cli import main\n",
            "gemloom.cli.main": "import gemloom.workflows.run\n",
            "gemloom.workflows.run": "",
        },
    )
    assert violations(tree) == [
        "module gemloom.llm imports gemloom.tools.registry "
        "(layer shell may not import layer tools), line 1"
    ]
