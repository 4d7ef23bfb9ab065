"""Whole-codebase loading for long context: `pack()` and the read-only agent tools over a root."""

from __future__ import annotations

import re
from pathlib import Path

import pathspec

from gemloom.errors import GemloomError
from gemloom.tools.codebase_files import MAX_FILE_BYTES
from gemloom.tools.codebase_pack import Pack, PackError, PackStats, pack
from gemloom.tools.codebase_render import Entry
from gemloom.tools.codebase_secrets import redact
from gemloom.tools.codebase_walk import list_files as _listing
from gemloom.tools.files import clip, confine
from gemloom.tools.registry import ToolContext, ToolError, tool

__all__ = ["TOOLS", "Entry", "Pack", "PackError", "PackStats", "pack"]
TOOL_BUDGET = 120_000  # tokens a load_codebase result may take unless services say otherwise
MAX_MATCHES = 200
MAX_LISTED = 2_000


def _root(ctx: ToolContext) -> Path:
    return Path(ctx.services.get("codebase_root") or ctx.workspace).resolve()


def _text(file: Path, shown: str) -> str:
    if not file.is_file():
        raise ToolError(f"'{shown}' is not a file")
    if file.stat().st_size > MAX_FILE_BYTES * 10:
        raise ToolError(f"'{shown}' is too large to read ({file.stat().st_size:,} bytes)")
    data = file.read_bytes()
    if b"\0" in data:
        raise ToolError(f"'{shown}' is a binary file")
    try:
        return redact(data.decode("utf-8"), shown)[0]
    except UnicodeDecodeError:
        raise ToolError(f"'{shown}' is not a UTF-8 text file") from None


@tool
def load_codebase(path: str = ".", question: str = "", *, ctx: ToolContext) -> str:
    """Load a whole codebase (file tree and file contents) into the conversation.

    Args:
        path: Folder to load, relative to the workspace root.
        question: What you want to find out; the most relevant files are shown in full.
    """
    root = confine(ctx.workspace, path)
    if not root.is_dir():
        raise ToolError(f"'{path}' is not a folder")
    budget = int(ctx.services.get("codebase_budget") or TOOL_BUDGET)
    try:
        packed = pack(root, budget=budget, question=question, settings=ctx.services.get("settings"))
    except GemloomError as exc:  # a missing folder or a budget too small for the tree
        raise ToolError(str(exc)) from None
    ctx.services["codebase_root"] = root
    return packed.text


@tool
def read_file(path: str, start: int = 1, end: int = 0, *, ctx: ToolContext) -> str:
    """Read lines of a file in the loaded codebase, with line numbers.

    Args:
        path: File path relative to the codebase root.
        start: First line to return, counting from 1.
        end: Last line to return; 0 means to the end of the file.
    """
    lines = _text(confine(_root(ctx), path), path).splitlines()
    first = max(start, 1)
    chosen = lines[first - 1 : end if end > 0 else None]
    body = clip("\n".join(f"{first + i}: {line}" for i, line in enumerate(chosen)))
    return body or f"(no lines {start}-{end or 'end'} in '{path}', which has {len(lines)})"


def _matching(root: Path, glob: str) -> list[str]:
    files = _listing(root).files
    if glob.strip():
        spec = pathspec.PathSpec.from_lines("gitignore", [glob.strip()])
        files = [f for f in files if spec.match_file(f)]
    return files


@tool
def search_code(pattern: str, glob: str = "", *, ctx: ToolContext) -> str:
    """Search the loaded codebase's text files for a regular expression, line by line.

    Args:
        pattern: Python regular expression (plain words work too).
        glob: Only search files matching this gitignore-style glob, for example "*.py".
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    root, hits = _root(ctx), []
    for rel in _matching(root, glob):
        try:
            text = _text(confine(root, rel), rel)
        except (ToolError, OSError):
            continue  # binary, unreadable or escaping files are not searched
        hits += [f"{rel}:{n}: {line.strip()[:200]}"
                 for n, line in enumerate(text.splitlines(), 1) if regex.search(line)]  # fmt: skip
        if len(hits) >= MAX_MATCHES:
            return "\n".join(hits[:MAX_MATCHES]) + f"\n[... stopped at {MAX_MATCHES} matches]"
    return "\n".join(hits) or f"no match for {pattern!r}"


@tool
def list_files(glob: str = "", *, ctx: ToolContext) -> str:
    """List the files of the loaded codebase that its ignore rules keep.

    Args:
        glob: Only list files matching this gitignore-style glob, for example "src/**/*.ts".
    """
    files = _matching(_root(ctx), glob)
    shown = files[:MAX_LISTED]
    more = f"\n[... and {len(files) - MAX_LISTED} more]" if len(files) > MAX_LISTED else ""
    return "\n".join(shown) + more if shown else "no files match"


TOOLS = [load_codebase, read_file, search_code, list_files]
