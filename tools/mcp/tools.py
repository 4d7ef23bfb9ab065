"""Configured MCP servers' tools as registry tools: `SERVER.tool`, with risk and flat schemas."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gemloom.settings import Settings, load_settings
from gemloom.tools.files.tools import clip
from gemloom.tools.mcp.client import McpError, McpManager
from gemloom.tools.mcp.config import ServerConfig, servers
from gemloom.tools.mcp.schema import flatten, params_model
from gemloom.tools.registry import Risk, Tool, ToolContext, ToolError, ToolResult

log = logging.getLogger("gemloom.mcp")
_UNSAFE = re.compile(r"[^\w.\-]")
WAV_OR_MP3 = ("audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3")


@dataclass
class McpNotice:
    """A line for the agent's timeline about an MCP server (it did not start, it stopped)."""

    server: str
    text: str


def tool_name(server: str, remote: str) -> str:
    """The registry name of a server's tool: `server.tool`, with odd characters made `_`.

    Ollama passes tool names through verbatim (the Gemma 4 renderer writes
    `declaration:NAME{`, its parser reads `call:NAME{` back up to the brace), so a dot is
    safe; characters outside letters, digits, `_`, `-` and `.` are replaced so that the
    leaked-call recovery in agents/leaks.py can still read the name.
    """
    return f"{server}.{_UNSAFE.sub('_', remote)}"


def risk_of(annotations: Any, config: ServerConfig, remote: str) -> Risk:
    """The tool's risk: a per-tool or per-server override, else from its annotations."""
    if (override := config.override(remote).risk) is not None:
        return override
    if config.risk is not None:
        return config.risk
    if annotations is not None and annotations.read_only_hint is True:
        return Risk.READ
    if annotations is not None and annotations.destructive_hint is True:
        return Risk.EXECUTE
    return Risk.WRITE


@dataclass
class McpTool(Tool):
    """A tool that lives on an MCP server; `source` is the server's name."""

    remote: str = ""
    manager: McpManager | None = field(default=None, repr=False)

    def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Call the server's tool; images and audio it returns come with the result."""
        sent = {k: v for k, v in arguments.items() if v is not None}
        assert self.manager is not None
        try:
            result = self.manager.call(self.source, self.remote, sent)
        except McpError as exc:
            raise ToolError(str(exc)) from None
        rendered = render(result)
        if result.is_error:
            raise ToolError(rendered.text)
        return rendered


def render(result: Any) -> ToolResult:
    """A CallToolResult as clipped text, plus the images and audio it carries."""
    media: list[bytes] = []
    parts: list[str] = []
    for block in result.content:
        if block.type == "text":
            parts.append(block.text)
        elif block.type in ("image", "audio"):
            parts.append(_media(block, media))
        elif block.type == "resource":
            inner = block.resource
            parts.append(getattr(inner, "text", None) or f"[resource {inner.uri}: binary]")
        elif block.type == "resource_link":
            parts.append(f"[resource {block.uri}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=1))
    return ToolResult(clip("\n".join(parts)) or "(no output)", media)


def _media(block: Any, media: list[bytes]) -> str:
    data = base64.b64decode(block.data)
    label = f"[{block.type} {block.mime_type}, {len(data):,} bytes"
    if block.type == "audio" and block.mime_type not in WAV_OR_MP3:
        data = _to_wav(data)
        label += ", converted to WAV" if data else ", not playable"
    if data:
        media.append(data)
        return label + ", shown to you]"
    return label + "]"


def _to_wav(data: bytes) -> bytes:
    """Other audio formats as 16 kHz mono WAV (Ollama recognises only WAV and MP3)."""
    import tempfile

    from gemloom.tools.audio import decode as audio

    with tempfile.NamedTemporaryFile(suffix=".audio") as file:
        file.write(data)
        file.flush()
        try:
            return audio.wav_bytes(audio.decode(file.name).samples[: 30 * audio.RATE])
        except audio.AudioError:
            return b""


def server_tools(manager: McpManager, name: str, listing: list[Any]) -> list[McpTool]:
    """One server's tools as registry tools, leaving out disabled, unreadable and clashing ones."""
    config = manager.servers[name]
    made: dict[str, McpTool] = {}
    for remote in listing:
        if not config.override(remote.name).enabled:
            continue
        if (held := made.get(tool_name(name, remote.name))) is not None:
            _notify(name, f"left out its tool {remote.name}: its name {held.name} is already "
                          f"taken by its tool {held.remote}")  # fmt: skip
            continue
        try:
            tool = _tool(manager, name, remote)
        except Exception as exc:  # one odd schema must not cost the server's other tools
            _notify(name, f"left out its tool {remote.name}: unreadable schema ({exc})")
            continue
        made[tool.name] = tool
    return list(made.values())


def _tool(manager: McpManager, server: str, remote: Any) -> McpTool:
    registered = tool_name(server, remote.name)
    flat = flatten(remote.input_schema)
    summary = " ".join((remote.description or remote.title or remote.name).split())
    schema = {
        "type": "function",
        "function": {"name": registered, "description": summary, "parameters": flat},
    }
    risk = risk_of(remote.annotations, manager.servers[server], remote.name)
    params = params_model(registered.replace(".", "_"), flat)
    return McpTool(registered, _unused, risk, summary, params, schema, False, server,
                   remote=remote.name, manager=manager)  # fmt: skip


def _unused(**_: Any) -> None:
    raise AssertionError("McpTool.run calls the server, never func")


def _notify(server: str, text: str) -> None:
    """Tell the timeline when inside a graph run, else the log."""
    from gemloom.tools.stream import writer

    notice = McpNotice(server, text)
    writer(lambda _: log.warning("MCP server %s: %s", server, text))(notice)


def load_tools(manager: McpManager) -> list[McpTool]:
    """Start the servers and gather their tools; each failure is one notice, not an error."""
    listings = manager.start()
    for name, problem in manager.failures.items():
        _notify(name, f"did not start, its tools are left out: {problem}")
    return [t for name, listing in listings.items() for t in server_tools(manager, name, listing)]


def configured_tools(settings: Settings | None = None) -> Callable[[], list[McpTool]]:
    """A registry provider: the configured servers' tools, started on first need.

    The config is checked now, so a mistake in it is a clear error before any session runs;
    the servers start only when the provider is first called.
    """
    chosen = settings or load_settings()
    configured = servers(chosen)

    def provide() -> list[McpTool]:
        if not configured:
            return []
        return load_tools(McpManager(configured, log_dir=chosen.data_dir / "logs" / "mcp"))

    return provide
