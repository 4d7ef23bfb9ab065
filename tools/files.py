"""General tools confined to the workspace root: list, read and write files, tell the time."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from gemloom.tools.registry import Risk, ToolContext, ToolError, tool

MAX_READ_CHARS = 100_000


def confine(root: Path, path: str) -> Path:
    """`path` resolved inside `root`, or ToolError if it would leave it (`..`, symlinks)."""
    root = root.resolve()
    candidate = Path(path)
    if ".." in candidate.parts:
        raise ToolError(f"'{path}' uses '..'; paths must stay inside the workspace")
    full = (root / candidate).resolve() if not candidate.is_absolute() else candidate.resolve()
    if not full.is_relative_to(root):
        raise ToolError(f"'{path}' is outside the workspace {root}")
    return full


def clip(text: str) -> str:
    """Text cut at MAX_READ_CHARS, saying so, so one read cannot flood the context."""
    if len(text) <= MAX_READ_CHARS:
        return text
    return text[:MAX_READ_CHARS] + f"\n[... cut at {MAX_READ_CHARS} characters]"


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root.resolve()).as_posix() or "."


@tool
def list_directory(path: str = ".", *, ctx: ToolContext) -> str:
    """List the files and folders in a workspace directory.

    Args:
        path: Directory relative to the workspace root.
    """
    folder = confine(ctx.workspace, path)
    if not folder.is_dir():
        raise ToolError(f"'{path}' is not a directory")
    lines = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            lines.append(entry.name + "/")
        else:
            lines.append(f"{entry.name}  ({entry.lstat().st_size} bytes)")
    return "\n".join(lines) or "(empty directory)"


@tool
def read_text_file(path: str, start_line: int = 1, end_line: int = 0, *, ctx: ToolContext) -> str:
    """Read a text file in the workspace, optionally only some lines.

    Args:
        path: File path relative to the workspace root.
        start_line: First line to return, counting from 1.
        end_line: Last line to return; 0 means to the end of the file.
    """
    file = confine(ctx.workspace, path)
    if not file.is_file():
        raise ToolError(f"'{path}' is not a file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"'{path}' is not a UTF-8 text file") from None
    lines = text.splitlines()
    chosen = lines[max(start_line, 1) - 1 : end_line or None]
    return clip("\n".join(chosen))


@tool(risk=Risk.WRITE)
def write_text_file(path: str, content: str, *, ctx: ToolContext) -> str:
    """Write a text file in the workspace, replacing it if it exists.

    Args:
        path: File path relative to the workspace root.
        content: The full text to write.
    """
    file = confine(ctx.workspace, path)
    file.parent.mkdir(parents=True, exist_ok=True)
    temp = file.with_name(f".{file.name}.gemloom-tmp")
    temp.write_text(content, encoding="utf-8")
    os.replace(temp, file)
    return f"wrote {len(content)} characters to {_relative(ctx.workspace, file)}"


@tool
def current_time() -> str:
    """The current local date and time, in ISO 8601 format."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


TOOLS = [list_directory, read_text_file, write_text_file, current_time]
