"""`gemloom mcp serve`: gemloom's own tools for any MCP client, confined to the roots it was given.

Each tool is a thin typed wrapper over the function gemloom's agents use, with honest
annotations. Every text that leaves goes through the codebase redaction first, and write
tools refuse unless the server was started with `--allow-writes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.types import ToolAnnotations

from gemloom import __version__
from gemloom.errors import GemloomError
from gemloom.memory.records import Kind
from gemloom.secrets import redact
from gemloom.tools.codebase import tools as codebase
from gemloom.tools.files import tools as files
from gemloom.tools.files.tools import confine
from gemloom.tools.memory import tools as memory
from gemloom.tools.registry import ToolContext, ToolError

if TYPE_CHECKING:
    from gemloom.llm import LLM
    from gemloom.memory.store import MemoryStore

READS = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
ADDS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
REMOVES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
DEFAULT_BUDGET = 100_000
INSTRUCTIONS = (
    "gemloom's local tools: pack a codebase into one context block within a token budget, "
    "list, search and read its files, recall and remember memories, review UI screenshots, "
    "transcribe and summarise recordings, capture the screen. Paths are relative to the "
    "first root the server was started with, or absolute inside one of its roots."
)


def check_roots(paths: list[Path]) -> list[Path]:
    """The roots as resolved folders; a missing one is a clear GemloomError."""
    roots = []
    for path in paths:
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise GemloomError(f"--root {path}: not a folder. Give folders the tools may read.")
        roots.append(resolved)
    return roots


def check_port(port: int) -> None:
    """GemloomError when the loopback port is already taken."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            reason = exc.strerror or exc
            raise GemloomError(
                f"Cannot serve on 127.0.0.1:{port}: {reason}. Pick another --http port."
            ) from None


@dataclass
class Served:
    """What the tools share: the roots, the write switch and the lazily opened clients."""

    roots: list[Path]
    allow_writes: bool = False
    memory: MemoryStore | None = None
    """The memory store, opened by the first memory tool call."""
    llm: LLM | None = None
    """The model client, made by the first tool that asks the model."""

    def place(self, path: str) -> Path:
        """`path` inside one of the roots (relative paths: the first root where it exists)."""
        inside = []
        for root in self.roots:
            try:
                inside.append(confine(root, path))
            except ToolError:
                continue
        if not inside:
            shown = ", ".join(str(r) for r in self.roots)
            raise McpToolError(f"'{path}' is outside the roots this server may read ({shown})")
        return next((p for p in inside if p.exists()), inside[0])

    def context(self, root: Path | None = None) -> ToolContext:
        """A ToolContext for gemloom's own tools, sharing the server's memory store."""
        return ToolContext(self.roots[0], memory=self.memory, codebase_root=root)

    def refuse_writes(self, name: str) -> None:
        """McpToolError unless the server was started with --allow-writes."""
        if not self.allow_writes:
            raise McpToolError(
                f"{name} changes stored data; this server was started without --allow-writes, "
                "so it refuses write tools."
            )


def clean(text: str) -> str:
    """Text with secrets replaced by markers, as every gemloom output is."""
    return redact(text)[0]


def guarded(work: Callable[[], str]) -> str:
    """Run a tool's work; gemloom's errors become MCP tool errors with the same message."""
    try:
        return clean(work())
    except GemloomError as exc:
        raise McpToolError(str(exc)) from None


def _root_of(served: Served, file: Path) -> Path:
    return next(r for r in served.roots if file.is_relative_to(r))


def add_code_tools(server: MCPServer, served: Served) -> None:
    """pack_codebase, list_files, search_files and read_file over the roots."""

    @server.tool(annotations=READS)
    def pack_codebase(
        path: str = ".", budget_tokens: int = DEFAULT_BUDGET, question: str = ""
    ) -> str:
        """Pack a folder (file tree and contents) into one text block within a token budget.

        Files most relevant to `question` are kept in full; the rest become outlines.
        """
        folder = served.place(path)
        return guarded(lambda: codebase.pack(folder, budget=budget_tokens, question=question).text)

    @server.tool(annotations=READS)
    def list_files(path: str = ".", glob: str = "") -> str:
        """List a folder's files that its ignore rules keep, optionally matching a glob."""
        ctx = served.context(served.place(path))
        return guarded(lambda: files.list_files(glob=glob, ctx=ctx))

    @server.tool(annotations=READS)
    def search_files(pattern: str, path: str = ".", glob: str = "") -> str:
        """Search a folder's text files for a regular expression; one line per match."""
        ctx = served.context(served.place(path))
        return guarded(lambda: codebase.search_code(pattern=pattern, glob=glob, ctx=ctx))

    @server.tool(annotations=READS)
    def read_file(path: str, start: int = 1, end: int = 0) -> str:
        """Read lines of a text file with line numbers (end 0 means to the end)."""
        file = served.place(path)
        ctx = served.context(_root_of(served, file))
        rel = file.relative_to(_root_of(served, file)).as_posix()
        return guarded(lambda: files.read_file(path=rel, start_line=start, end_line=end, ctx=ctx))


def add_memory_tools(server: MCPServer, served: Served) -> None:
    """recall (read), remember and forget (writes, refused without --allow-writes)."""

    def run(tool: Any, **arguments: Any) -> str:
        ctx = served.context()
        try:
            return guarded(lambda: tool(**arguments, ctx=ctx))
        finally:
            served.memory = ctx.memory

    @server.tool(annotations=READS)
    def recall(query: str, k: int = 5, kind: Kind | None = None, since: str | None = None) -> str:
        """Find stored memories by meaning; each comes with its id and source."""
        return run(memory.recall, query=query, k=k, kind=kind, since=since)

    @server.tool(annotations=ADDS)
    def remember(text: str, kind: Kind = Kind.NOTE, tags: list[str] | None = None) -> str:
        """Store a memory that later sessions can recall (needs --allow-writes)."""
        served.refuse_writes("remember")
        return run(memory.remember, text=clean(text), kind=kind, tags=tags)

    @server.tool(annotations=REMOVES)
    def forget(id: str) -> str:
        """Forget a stored memory by its id (needs --allow-writes)."""
        served.refuse_writes("forget")
        return run(memory.forget, id=id)


def build(roots: list[Path], allow_writes: bool = False) -> MCPServer:
    """The MCP server with every gemloom tool on it."""
    from gemloom.workflows.mcp.media import add_media_tools

    server = MCPServer(
        "gemloom", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    served = Served(roots, allow_writes)
    add_code_tools(server, served)
    add_memory_tools(server, served)
    add_media_tools(server, served)
    return server
