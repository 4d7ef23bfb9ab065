"""General file tools confined to a root: list, read and write files, tell the time.

Reading and listing use the loaded codebase's root when one is loaded (`load_codebase`, `/load`,
`gemloom ask`), else the workspace; writing always uses the workspace. Everything read goes
through the pack's own reader: the same confinement, ignore rules and secret redaction.
"""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

import pathspec

from gemloom.atomic import write_atomic
from gemloom.secrets import summary
from gemloom.tools.codebase.files import Skip, read_text
from gemloom.tools.codebase.walk import IgnoreRules
from gemloom.tools.codebase.walk import list_files as listing
from gemloom.tools.registry import Risk, ToolContext, ToolError, tool

MAX_READ_CHARS = 100_000
MAX_LISTED = 2_000


def confine(root: Path, path: str) -> Path:
    """`path` resolved inside `root`, or ToolError if it would leave it (`..`, symlinks)."""
    root = root.resolve()
    if "\0" in path:
        raise ToolError(f"{path!r} contains a NUL character")
    candidate = Path(path)
    if ".." in candidate.parts:
        raise ToolError(f"'{path}' uses '..'; paths must stay inside the workspace")
    try:
        full = (root / candidate).resolve()  # an absolute `path` replaces root here
    except (OSError, RuntimeError):
        raise ToolError(f"'{path}' is a symlink loop") from None
    if not full.is_relative_to(root):
        raise ToolError(f"'{path}' is outside the workspace {root}")
    return full


def clip(text: str) -> str:
    """Text cut at MAX_READ_CHARS, saying so, so one read cannot flood the context."""
    if len(text) <= MAX_READ_CHARS:
        return text
    return text[:MAX_READ_CHARS] + f"\n[... cut at {MAX_READ_CHARS} characters]"


def read_root(ctx: ToolContext) -> Path:
    """The root that reading tools work in: the loaded codebase's, else the workspace."""
    return Path(ctx.codebase_root or ctx.workspace).resolve()


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root.resolve()).as_posix() or "."


def matching(root: Path, under: str = ".", glob: str = "") -> list[str]:
    """Files under folder `under` that the ignore rules keep, filtered by a gitignore glob."""
    folder = _relative(root, confine(root, under))
    files = listing(root).files
    if folder != ".":
        files = [f for f in files if f.startswith(folder + "/")]
    if glob.strip():
        spec = pathspec.PathSpec.from_lines("gitignore", [glob.strip()])
        files = [f for f in files if spec.match_file(f)]
    return files


def readable(root: Path, path: str, rules: IgnoreRules | None = None) -> tuple[str, str, str]:
    """(relative path, redacted text, what was redacted) of a text file, or a ToolError."""
    rel = _relative(root, confine(root, path))
    if (rules or IgnoreRules(root, (".gemloomignore",), None)).ignored(rel):
        raise ToolError(f"'{path}' is excluded by .gemloomignore")
    try:
        record = read_text(root, rel)
    except Skip as why:
        reason = str(why)
        if reason.startswith("folder"):
            reason = "not a file (it is a folder)"
        elif reason == "broken symlink or vanished file":
            reason = "not a file (no such file)"
        raise ToolError(f"'{path}' is {reason}") from None
    return rel, record.text or "", summary(record.redactions)


@tool
def list_files(path: str = ".", glob: str = "", *, ctx: ToolContext) -> str:
    """List the files under a folder (recursively) that the ignore rules keep.

    Args:
        path: Folder to list, relative to the root; "." for everything.
        glob: Only list files matching this gitignore-style glob, for example "src/**/*.ts".
    """
    root = read_root(ctx)
    folder = confine(root, path)
    if not folder.is_dir():
        raise ToolError(f"'{path}' is not a folder")
    files = matching(root, path, glob)
    shown = files[:MAX_LISTED]
    more = f"\n[... and {len(files) - MAX_LISTED} more]" if len(files) > MAX_LISTED else ""
    return "\n".join(shown) + more if shown else "no files match"


@tool
def read_file(path: str, start_line: int = 1, end_line: int = 0, *, ctx: ToolContext) -> str:
    """Read lines of a text file, with line numbers; secrets in it are shown as [REDACTED:...].

    Args:
        path: File path relative to the root.
        start_line: First line to return, counting from 1.
        end_line: Last line to return; 0 means to the end of the file.
    """
    _, text, redacted = readable(read_root(ctx), path)
    lines = text.splitlines()
    first = max(start_line, 1)
    chosen = lines[first - 1 : end_line if end_line > 0 else None]
    body = clip("\n".join(f"{first + i}: {line}" for i, line in enumerate(chosen)))
    if body and redacted:
        body += f"\n[{redacted}]"
    span = f"{start_line}-{end_line or 'end'}"
    return body or f"(no lines {span} in '{path}', which has {len(lines)})"


def _target(ctx: ToolContext, path: str) -> Path:
    """Where a write may go: a new or regular file inside the workspace, never the root."""
    file = confine(ctx.workspace, path)
    if file == ctx.workspace.resolve():
        raise ToolError(f"'{path}' is the workspace folder itself; give a file name")
    try:
        mode = file.lstat().st_mode
    except FileNotFoundError:
        return file
    if stat.S_ISDIR(mode):
        raise ToolError(f"'{path}' is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise ToolError(f"'{path}' is not a regular file (a device, pipe or socket)")
    return file


@tool(risk=Risk.WRITE)
def write_text_file(path: str, content: str, *, ctx: ToolContext) -> str:
    """Write a text file in the workspace, replacing it if it exists.

    Args:
        path: File path relative to the workspace root.
        content: The full text to write.
    """
    file = _target(ctx, path)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        confine(ctx.workspace, _relative(ctx.workspace, file.parent))  # no folder swapped in
        write_atomic(file, content)
    except OSError as exc:
        raise ToolError(f"cannot write '{path}': {exc.strerror or exc}") from None
    return f"wrote {len(content)} characters to {_relative(ctx.workspace, file)}"


@tool
def current_time() -> str:
    """The current local date and time, in ISO 8601 format."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


TOOLS = [list_files, read_file, write_text_file, current_time]
