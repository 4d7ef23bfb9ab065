"""The `[mcp.servers.NAME]` tables of the config file, validated into typed server settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gemloom.errors import SettingsError
from gemloom.settings import Settings, config_path
from gemloom.tools.registry import Risk

SERVER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,31}$")
"""Server names prefix tool names (`NAME.tool`), so they stay plain words a model copies well."""


class ToolOverride(BaseModel):
    """Per-tool settings: `[mcp.servers.NAME.tools.TOOL]`."""

    model_config = ConfigDict(extra="forbid")

    risk: Risk | None = None
    enabled: bool = True


class ServerConfig(BaseModel):
    """One MCP server: a command to run (stdio) or a URL (streamable HTTP)."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(None, min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None
    url: str | None = Field(None, pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    risk: Risk | None = None
    """Overrides the risk the tools' annotations give, for every tool of the server."""
    enabled: bool = True
    timeout: float = Field(60.0, gt=0)
    """Seconds one tool call may take before it counts as hung."""
    startup_timeout: float = Field(20.0, gt=0)
    """Seconds the server may take to start and list its tools."""
    tools: dict[str, ToolOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> ServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (a stdio server) or url (streamable HTTP)")
        return self

    @property
    def transport(self) -> str:
        """'stdio' or 'http'."""
        return "stdio" if self.command else "http"

    def override(self, tool: str) -> ToolOverride:
        """The per-tool settings for one of the server's tools (defaults when absent)."""
        return self.tools.get(tool, ToolOverride())


class McpConfig(BaseModel):
    """The whole `[mcp]` table."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, ServerConfig] = Field(default_factory=dict)


def _problem(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    where = [str(part) for part in err["loc"]]
    server = where[1] if len(where) > 1 and where[0] == "servers" else ""
    field = ".".join(where[2:]) if server else ".".join(where)
    return server, f"{field + ': ' if field else ''}{err['msg']}"


def parse(raw: dict[str, Any]) -> McpConfig:
    """Validate the raw `[mcp]` table; a mistake is one SettingsError naming the server."""
    try:
        config = McpConfig.model_validate(raw or {})
    except ValidationError as exc:
        server, problem = _problem(exc)
        table = f"[mcp.servers.{server}]" if server else "[mcp]"
        raise SettingsError(
            f"Invalid MCP setting in {table}: {problem} (fix {config_path()})."
        ) from None
    for name in config.servers:
        if not SERVER_NAME.match(name):
            raise SettingsError(
                f"Invalid MCP server name {name!r}: use letters, digits, '_' or '-', starting "
                f"with a letter, at most 32 characters (fix {config_path()})."
            )
    return config


def servers(settings: Settings) -> dict[str, ServerConfig]:
    """The configured MCP servers, by name."""
    return parse(settings.mcp).servers
