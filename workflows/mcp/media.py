"""The long-running MCP tools: screenshot review, recordings, screen capture, with progress.

The work runs in a worker thread (the SDK's loop stays free) and reports MCP progress
notifications back through the loop as it goes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.server.mcpserver.utilities.types import Image
from mcp.types import TextContent, ToolAnnotations

from gemloom.errors import GemloomError
from gemloom.workflows.mcp.server import READS, clean

if TYPE_CHECKING:
    from gemloom.llm import LLM
    from gemloom.workflows.mcp.server import Served

# Reading the screen is read-only but reaches outside the roots: say so.
SCREEN = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=True)
HEARTBEAT = 2.0  # seconds between progress notes while a review runs
Report = Callable[[float, float | None, str], None]


async def in_thread(ctx: Context, work: Callable[[Report], str]) -> str:
    """Run `work(report)` in a thread; its reports become progress notifications.

    Reports may come from any thread. Progress only grows, as the protocol asks, so a
    report that would go back (a new phase of the work) is moved just past the last one.
    """
    token, last, lock = anyio.lowlevel.current_token(), [-1.0], threading.Lock()

    def report(done: float, total: float | None, message: str) -> None:
        with lock:
            last[0] = done = max(done, last[0] + 1)
        anyio.from_thread.run(ctx.report_progress, done, total, message, token=token)

    def guarded() -> str:
        try:
            return clean(work(report))
        except GemloomError as exc:
            raise McpToolError(str(exc)) from None

    return await anyio.to_thread.run_sync(guarded)


def _llm(served: Served) -> LLM:
    from gemloom.llm import LLM

    if served.llm is None:
        served.llm = LLM()
    return served.llm


def review_work(served: Served, images: list[str], repo: str) -> Callable[[Report], str]:
    """The review as thread work: findings and SARIF, with a heartbeat while the model looks."""
    from gemloom.workflows.review.graph import review
    from gemloom.workflows.review.sarif import to_sarif

    shots = [served.place(p) for p in images]
    folder = served.place(repo) if repo else None

    def work(report: Report) -> str:
        finished = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(report, finished, len(shots)))
        beat.start()
        try:
            result = review(_llm(served), shots, repo=folder)
        finally:
            finished.set()
            beat.join()
        findings = [f.model_dump(mode="json") for f in result.findings]
        return json.dumps({"findings": findings, "sarif": to_sarif(result)}, indent=1)

    return work


def _heartbeat(report: Report, finished: threading.Event, count: int) -> None:
    seconds = 0.0
    report(0, None, f"reviewing {count} screenshot(s)")
    while not finished.wait(HEARTBEAT):
        seconds += HEARTBEAT
        report(seconds, None, f"reviewing {count} screenshot(s): {seconds:.0f} s")


def transcript_work(served: Served, path: str) -> Callable[[Report], list[Any]]:
    """Transcription as thread work, one progress step per chunk of the recording."""
    from gemloom.tools.audio.decode import decode, split
    from gemloom.tools.audio.transcribe import make_transcriber, transcribe_chunks

    file = served.place(path)

    def work(report: Report) -> list[Any]:
        chunks = split(decode(file))
        hear = make_transcriber(_llm(served))
        segments = transcribe_chunks(
            chunks, hear, lambda i, n: report(i, n, f"transcribing chunk {i + 1}/{n}")
        )
        report(len(chunks), len(chunks), "transcribed")
        return segments

    return work


def add_media_tools(server: MCPServer, served: Served) -> None:
    """review_screenshots, transcribe_recording, summarise_recording and capture_screen."""

    @server.tool(annotations=READS)
    async def review_screenshots(images: list[str], ctx: Context, repo: str = "") -> str:
        """Review UI screenshots for visual, accessibility and layout defects.

        Returns JSON with the findings and the same findings as a SARIF 2.1.0 log.
        """
        return await in_thread(ctx, review_work(served, images, repo))

    @server.tool(annotations=READS)
    async def transcribe_recording(path: str, ctx: Context) -> str:
        """Transcribe a recorded meeting (audio or video) into timed lines."""
        from gemloom.tools.audio.transcript import to_lines

        hear = transcript_work(served, path)
        return await in_thread(ctx, lambda report: "\n".join(to_lines(hear(report))))

    @server.tool(annotations=READS)
    async def summarise_recording(path: str, ctx: Context, title: str = "Meeting") -> str:
        """Transcribe a recording and summarise it as Markdown notes (decisions, actions)."""
        from gemloom.tools.audio.notes import to_markdown
        from gemloom.tools.audio.summary import summarise

        hear = transcript_work(served, path)

        def work(report: Report) -> str:
            segments = hear(report)
            notes = summarise(_llm(served), segments, title, lambda note: report(0, None, note))
            report(0, None, "summarised")
            return to_markdown(notes, source=path)

        return await in_thread(ctx, work)

    @server.tool(annotations=SCREEN, structured_output=False)
    def capture_screen(region: str = "") -> list[Any]:
        """Capture the screen, or a region "X,Y,WIDTH,HEIGHT" of it, as a PNG image."""
        from gemloom.tools.screen.tools import capture, parse_region

        try:
            shot = capture(parse_region(region) if region.strip() else None)
        except GemloomError as exc:
            raise McpToolError(str(exc)) from None
        note = f"{shot.size[0]}x{shot.size[1]} screenshot, sha256 {shot.sha256}"
        return [TextContent(type="text", text=note), Image(data=shot.png(), format="png")]
