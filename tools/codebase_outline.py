"""Outlines of source files: signatures and docstrings, for files that do not fit in full."""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

MAX_DOC_LINES = 3
# Lines that declare something in most C-like, scripting and config languages.
_DECLARATION = re.compile(
    r"^[ \t]*(?:export\s+|pub(?:\([^)]*\))?\s+|public\s+|private\s+|protected\s+|static\s+|"
    r"async\s+|abstract\s+|final\s+|default\s+|override\s+)*"
    r"(?:def|class|struct|enum|trait|impl|interface|type|fn|func|function|module|namespace|"
    r"object|record|union|const\s+\w+\s*=\s*(?:async\s*)?\(|let\s+\w+\s*=\s*(?:async\s*)?\(|"
    r"macro_rules!|package|sub|proc)\b.*$",
    re.MULTILINE,
)
_HEADING = re.compile(r"^#{1,6} .*$|^\[[^\]\n]+\]$", re.MULTILINE)  # markdown, TOML/INI


def outline(path: str, text: str) -> str:
    """Signatures and docstrings of `text`; Python via `ast`, other languages by line patterns."""
    if PurePosixPath(path).suffix in {".py", ".pyi"}:
        try:
            return _python_outline(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError):
            pass  # not valid Python for this interpreter: fall back to line patterns
    return _regex_outline(path, text)


def _python_outline(tree: ast.Module) -> str:
    lines: list[str] = []
    _doc(tree, "", lines)
    for node in tree.body:
        _node(node, "", lines)
    return "\n".join(lines)


def _doc(node: ast.AST, indent: str, lines: list[str]) -> None:
    doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
    if doc:
        kept = doc.split("\n\n")[0].splitlines()[:MAX_DOC_LINES]
        lines.append(f'{indent}"""' + f"\n{indent}".join(kept) + '"""')


def _node(node: ast.stmt, indent: str, lines: list[str]) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        lines += [f"{indent}@{ast.unparse(d)}" for d in node.decorator_list]
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        lines.append(f"{indent}{prefix} {node.name}({ast.unparse(node.args)}){returns}: ...")
        _doc(node, indent + "    ", lines)
    elif isinstance(node, ast.ClassDef):
        lines += [f"{indent}@{ast.unparse(d)}" for d in node.decorator_list]
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        lines.append(f"{indent}class {node.name}" + (f"({bases})" if bases else "") + ":")
        _doc(node, indent + "    ", lines)
        for child in node.body:
            _node(child, indent + "    ", lines)
    elif isinstance(node, ast.Assign | ast.AnnAssign) and not indent:
        source = ast.unparse(node)
        if len(source) <= 120:
            lines.append(source)


def _regex_outline(path: str, text: str) -> str:
    suffix = PurePosixPath(path).suffix
    pattern = _HEADING if suffix in {".md", ".rst", ".toml", ".ini", ".cfg"} else _DECLARATION
    found = [m.group(0).rstrip().rstrip("{").rstrip() for m in pattern.finditer(text)]
    return "\n".join(line[:200] for line in found)
