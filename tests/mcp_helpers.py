"""Helpers for the MCP tests: the fixture server's command, a free port, a running HTTP server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FIXTURE = Path(__file__).with_name("mcp_fixture_server.py")


def stdio_server(*extra: str, **settings: object) -> dict[str, object]:
    """A `[mcp.servers.X]` table that runs the fixture server over stdio."""
    return {"command": sys.executable, "args": [str(FIXTURE), "stdio", *extra], **settings}


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, limit: float = 60) -> None:
    """Block until something accepts connections on the port (or the process died)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {process.stderr.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def http_process(command: list[str], port: int, **popen: object) -> Iterator[subprocess.Popen]:
    """Run an HTTP MCP server process until the block ends."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, **popen)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def toml_config(path: Path, servers: dict[str, dict[str, object]]) -> None:
    """Write a config file with these `[mcp.servers.NAME]` tables."""
    lines = []
    for name, table in servers.items():
        lines.append(f"[mcp.servers.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items() if key != "tools"]
        for tool, override in dict(table.get("tools", {})).items():
            lines.append(f"[mcp.servers.{name}.tools.{tool}]")
            lines += [f"{k} = {_toml(v)}" for k, v in override.items()]
    path.write_text("\n".join(lines) + "\n")


def _toml(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)
