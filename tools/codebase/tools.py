"""Whole-codebase loading for long context: `pack()`, and the load and search agent tools.

Reading and listing single files are the general `read_file` and `list_files` tools
(tools/files/tools.py): they work in the loaded codebase's root once one is loaded.
"""

from __future__ import annotations

import re

from gemloom.errors import GemloomError
from gemloom.tools.codebase.pack import Pack, PackError, PackStats, pack
from gemloom.tools.codebase.render import Entry
from gemloom.tools.codebase.walk import IgnoreRules
from gemloom.tools.files.tools import confine, matching, read_root, readable
from gemloom.tools.registry import ToolContext, ToolError, tool

__all__ = ["TOOLS", "Entry", "Pack", "PackError", "PackStats", "pack"]
TOOL_BUDGET = 120_000  # tokens a load_codebase result may take unless the context says otherwise
MAX_MATCHES = 200


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
    budget = ctx.codebase_budget or TOOL_BUDGET
    try:
        packed = pack(root, budget=budget, question=question, settings=ctx.settings)
    except GemloomError as exc:  # a missing folder or a budget too small for the tree
        raise ToolError(str(exc)) from None
    ctx.codebase_root = root
    return packed.text


@tool
def search_code(pattern: str, glob: str = "", *, ctx: ToolContext) -> str:
    """Search the text files under the root for a regular expression, line by line.

    Args:
        pattern: Python regular expression (plain words work too).
        glob: Only search files matching this gitignore-style glob, for example "*.py".
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    root, hits = read_root(ctx), []
    rules = IgnoreRules(root, (".gemloomignore",), None)  # read once for the whole search
    for rel in matching(root, ".", glob):
        try:
            text = readable(root, rel, rules)[1]
        except ToolError:
            continue  # binary, unreadable, ignored or escaping files are not searched
        hits += [f"{rel}:{n}: {line.strip()[:200]}"
                 for n, line in enumerate(text.splitlines(), 1) if regex.search(line)]  # fmt: skip
        if len(hits) >= MAX_MATCHES:
            return "\n".join(hits[:MAX_MATCHES]) + f"\n[... stopped at {MAX_MATCHES} matches]"
    return "\n".join(hits) or f"no match for {pattern!r}"


TOOLS = [load_codebase, search_code]
