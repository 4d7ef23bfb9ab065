"""The MCP boundary: sessions with MCP servers on a background event loop, driven synchronously.

The agent graph is synchronous; the official SDK is async and its client must be entered and
left in one task. So each server gets one long-lived task on a loop thread that this manager
owns, and synchronous callers submit calls to that loop and wait with a timeout. Every
failure (a server that will not start, crashes, hangs or errs) becomes an `McpError` whose
text says which server and what happened.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import weakref
from collections.abc import Coroutine
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gemloom import __version__
from gemloom.errors import GemloomError
from gemloom.tools.mcp.config import ServerConfig

STOP_TIMEOUT = 5.0  # seconds close() waits for servers to shut down
SLACK = 2.0  # seconds beyond a server's own timeout before the caller gives up on the loop


_RUNNING: weakref.WeakSet[McpManager] = weakref.WeakSet()


def stop_all() -> None:
    """Stop every manager's servers (the end of a session or of the process)."""
    for manager in list(_RUNNING):
        manager.close()


atexit.register(stop_all)


class McpError(GemloomError):
    """An MCP server failed; the message names it and says what went wrong."""


@dataclass
class _Live:
    """One server's running session, owned by its task on the loop."""

    name: str
    config: ServerConfig
    client: Any = None
    task: asyncio.Task | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tools: list[Any] = field(default_factory=list)
    error: str = ""
    errlog: TextIO | None = None


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _last_line(errlog: TextIO | None) -> str:
    """The last line the server wrote to stderr, which usually says why it died."""
    if errlog is None:
        return ""
    with suppress(OSError, ValueError):
        errlog.flush()
        lines = Path(errlog.name).read_text(errors="replace").strip().splitlines()
        return lines[-1].strip()[:200] if lines else ""
    return ""


def describe(exc: BaseException, live: _Live) -> str:
    """A short reason for a failure, with the server's last stderr line when there is one."""
    exc = _leaf(exc)
    if isinstance(exc, FileNotFoundError) and live.config.command:
        reason = f"cannot run '{live.config.command}': command not found"
    elif isinstance(exc, OSError) and live.config.command:
        reason = f"cannot run '{live.config.command}': {exc.strerror or exc}"
    elif type(exc).__name__ in ("ConnectError", "ConnectTimeout"):
        reason = f"cannot connect to {live.config.url}"
    else:
        reason = str(exc) or type(exc).__name__
    said = _last_line(live.errlog)
    return f"{reason} (stderr: {said})" if said and said not in reason else reason


class McpManager:
    """Starts MCP servers on first need, calls their tools, and stops them all on close()."""

    def __init__(self, servers: dict[str, ServerConfig], log_dir: Path | None = None):
        self.servers = servers
        self.log_dir = log_dir
        self.failures: dict[str, str] = {}
        """Why a server could not start (or last stopped), by name."""
        self._live: dict[str, _Live] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    # -- the loop -----------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                runner = threading.Thread(target=self._loop.run_forever, name="mcp", daemon=True)
                runner.start()
                _RUNNING.add(self)
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise McpError("the MCP event loop did not answer in time") from None

    # -- starting -----------------------------------------------------------------------

    def start(self) -> dict[str, list[Any]]:
        """Start every enabled server not yet running, concurrently; their tool listings."""
        wanted = [n for n, c in self.servers.items() if c.enabled and n not in self._live]
        if wanted:
            longest = max(self.servers[n].startup_timeout for n in wanted)
            outcomes = self._submit(self._start_all(wanted), longest + STOP_TIMEOUT + SLACK)
            for name, problem in outcomes.items():
                if problem:
                    self.failures[name] = problem
        return {n: live.tools for n, live in self._live.items() if live.client is not None}

    async def _start_all(self, names: list[str]) -> dict[str, str]:
        results = await asyncio.gather(*(self._start_one(n) for n in names))
        return dict(zip(names, results, strict=True))

    async def _start_one(self, name: str) -> str:
        """Start one server; '' on success, else why it failed."""
        live = _Live(name, self.servers[name], errlog=self._errlog(name))
        self._live[name] = live
        ready: asyncio.Future = asyncio.get_running_loop().create_future()
        live.task = asyncio.create_task(self._own(live, ready), name=f"mcp-{name}")
        try:
            await asyncio.wait_for(ready, live.config.startup_timeout)
        except TimeoutError:
            await self._halt(live)
            live.error = f"did not start within {live.config.startup_timeout:g} s"
        except Exception as exc:
            live.error = describe(exc, live)
        return live.error

    def _errlog(self, name: str) -> TextIO | None:
        if self.log_dir is None:
            return None
        with suppress(OSError):
            self.log_dir.mkdir(parents=True, exist_ok=True)
            return (self.log_dir / f"{name}.log").open("a", encoding="utf-8")
        return None

    async def _own(self, live: _Live, ready: asyncio.Future) -> None:
        """The task that holds the server's session from start to stop."""
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(await self._client(live, stack))
                live.tools = await _list_tools(client)
                live.client = client
                ready.set_result(None)
                await live.stop.wait()
        except asyncio.CancelledError:
            live.error = live.error or "stopped"
            raise
        except BaseException as exc:  # the SDK raises exception groups from its task groups
            live.error = describe(exc, live)
            if not ready.done():
                ready.set_exception(McpError(live.error))
        finally:
            live.client = None

    async def _client(self, live: _Live, stack: AsyncExitStack) -> Any:
        from mcp import Client, Implementation
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        config, me = live.config, Implementation(name="gemloom", version=__version__)
        if config.command:
            params = StdioServerParameters(
                command=config.command, args=config.args, env=config.env or None, cwd=config.cwd
            )
            transport = stdio_client(params, live.errlog) if live.errlog else stdio_client(params)
        else:
            assert config.url is not None  # ServerConfig holds exactly one of command and url
            http = await stack.enter_async_context(create_mcp_http_client(headers=config.headers))
            transport = streamable_http_client(config.url, http_client=http)
        return Client(transport, client_info=me)

    # -- calling ------------------------------------------------------------------------

    def call(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
        """Call a tool and return the SDK's CallToolResult; McpError on any failure."""
        config = self.servers[server]
        longest = config.startup_timeout + config.timeout + STOP_TIMEOUT + SLACK  # with a restart
        return self._submit(self._call(server, tool, arguments), longest)

    async def _call(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED

        live = self._live.get(server)
        if live is None or live.client is None:
            if not await self._restart(server):
                raise McpError(f"MCP server '{server}' is not running: {self._live[server].error}")
            live = self._live[server]
        timeout = live.config.timeout
        call = asyncio.ensure_future(live.client.call_tool(tool, arguments))
        done, _ = await asyncio.wait(
            {call, live.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if call not in done:
            call.cancel()
            if live.task in done:
                raise McpError(f"MCP server '{server}' stopped during the call: {live.error}")
            raise McpError(f"MCP server '{server}' did not answer {tool} within {timeout:g} s")
        try:
            return call.result()
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED or not _alive(live):
                live.error = f"it stopped ({describe(exc, live)})"
                await self._halt(live)
                raise McpError(f"MCP server '{server}' stopped during the call: {exc}") from None
            raise McpError(f"MCP server '{server}' refused {tool}: {exc}") from None

    async def _restart(self, server: str) -> bool:
        """Start a server again after it stopped (crashed, or never started)."""
        old = self._live.get(server)
        if old is not None:
            await self._halt(old)
        problem = await self._start_one(server)
        if problem:
            self.failures[server] = problem
        return not problem

    # -- stopping -----------------------------------------------------------------------

    async def _halt(self, live: _Live) -> None:
        """Stop a server: politely when its session is up, else by cancelling its start."""
        live.stop.set()
        task = live.task
        if task is not None and not task.done():
            if live.client is not None:
                with suppress(TimeoutError, Exception):
                    await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            task.cancel()
            with suppress(BaseException):
                await asyncio.wait_for(task, STOP_TIMEOUT)
        if live.errlog is not None:
            live.errlog.close()

    async def _halt_all(self) -> None:
        await asyncio.gather(*(self._halt(live) for live in self._live.values()))

    def close(self) -> None:
        """Stop every server (closing stdio servers' pipes, ending HTTP sessions) and the loop."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        with suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._halt_all(), loop).result(STOP_TIMEOUT * 2)
        loop.call_soon_threadsafe(loop.stop)
        self._live.clear()


def _alive(live: _Live) -> bool:
    return live.client is not None and live.task is not None and not live.task.done()


async def _list_tools(client: Any) -> list[Any]:
    """Every tool the server lists, page by page (a runaway paginator stops at 50 pages)."""
    tools, cursor = [], None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return tools
