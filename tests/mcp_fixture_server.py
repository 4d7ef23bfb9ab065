"""A small MCP server written with the official SDK, for the client tests.

Run as `python mcp_fixture_server.py stdio` or `python mcp_fixture_server.py http PORT`.
`--exit-at-start` makes it die before answering anything, as a broken server does.
MCP_FIXTURE_PIDFILE, when set, gets the process id, so tests can check it was stopped.
"""

from __future__ import annotations

import io
import os
import sys
import time
import wave
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Audio, Image
from mcp.types import (
    BlobResourceContents,
    EmbeddedResource,
    ResourceLink,
    TextResourceContents,
    ToolAnnotations,
)
from PIL import Image as PILImage

READ = ToolAnnotations(readOnlyHint=True)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False)
DESTROY = ToolAnnotations(readOnlyHint=False, destructiveHint=True)
server = MCPServer("fixture")


@server.tool(annotations=READ)
def echo(text: str, times: int = 1) -> str:
    """Say the text back, `times` times."""
    return " ".join([text] * times)


@server.tool(annotations=WRITE)
def write_note(path: str, text: str) -> str:
    """Write a note to a file."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return f"wrote {len(text)} characters"


@server.tool(annotations=DESTROY)
def wipe(confirm: bool) -> str:
    """Pretend to delete everything."""
    return f"wiped={confirm}"


@server.tool(annotations=READ)
def picture(colour: str = "red") -> Image:
    """A small PNG of one colour."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return Image(data=buffer.getvalue(), format="png")


@server.tool(annotations=READ)
def tone() -> Audio:
    """A tenth of a second of silence as WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 1600)
    return Audio(data=buffer.getvalue(), format="wav")


@server.tool(annotations=READ)
def speech() -> Audio:
    """Recorded speech as Ogg Opus (a format Ollama does not take)."""
    return Audio(path=Path(__file__).parent / "fixtures" / "audio" / "speech.ogg")


@server.tool(annotations=READ, structured_output=False)
def resources() -> list[EmbeddedResource | ResourceLink]:
    """An embedded text resource, an embedded binary one and a link."""
    text = TextResourceContents(uri="file:///notes.txt", text="the notes say hi")
    blob = BlobResourceContents(uri="file:///logo.bin", blob="AAEC")
    return [
        EmbeddedResource(type="resource", resource=text),
        EmbeddedResource(type="resource", resource=blob),
        ResourceLink(type="resource_link", uri="file:///more.txt", name="more"),
    ]


@server.tool(annotations=READ)
def big(size: int = 300_000) -> str:
    """A very long text."""
    return "x" * size


@server.tool(annotations=READ)
def fail() -> str:
    """Always fails."""
    raise ToolError("the fixture tool broke on purpose")


@server.tool(annotations=READ)
def crash() -> str:
    """Kill the server process mid-call."""
    sys.stderr.write("fixture: crashing now\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool(annotations=READ)
def hang(seconds: float = 3600) -> str:
    """Sleep far past any timeout."""
    time.sleep(seconds)
    return "woke up"


@server.tool(annotations=READ)
def where(ctx: Context) -> str:
    """The server's working directory and the X-Test request header (HTTP only)."""
    headers = ctx.headers or {}
    return f"{os.getcwd()} {headers.get('x-test', '-')}"


def main(argv: list[str]) -> None:
    """Serve on stdio or on streamable HTTP at 127.0.0.1:PORT."""
    if pidfile := os.environ.get("MCP_FIXTURE_PIDFILE"):
        with open(pidfile, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
    if "--exit-at-start" in argv:
        sys.stderr.write("fixture: refusing to start\n")
        sys.exit(2)
    if argv[0] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(argv[1]))
    else:
        server.run()


if __name__ == "__main__":
    main(sys.argv[1:])
