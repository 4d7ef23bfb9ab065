"""`gemloom mcp serve` as a real process, driven by the official SDK's own client."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ollama import Turn
from fixtures.review.screens import model_reply
from mcp import Client, StdioServerParameters
from mcp_helpers import free_port, http_process
from PIL import Image as PILImage
from reference import SPEECH

SECRET = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(f'KEY = "{SECRET}"\ndef greet():\n    return "hi"\n')
    (root / "README.md").write_text("# Project\n\nSays hi.\n")
    (tmp_path / "outside.txt").write_text("not yours\n")
    (root / "escape.txt").symlink_to(tmp_path / "outside.txt")
    return root


def serve_env(fake_ollama) -> dict[str, str]:
    """The serve process's environment: this test's data dir, config and fake Ollama."""
    keep = ("GEMLOOM_HOME", "GEMLOOM_CONFIG", "PATH", "HOME")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "OLLAMA_HOST": fake_ollama.url}


def serve(fake_ollama, *args: str) -> Client:
    command = [*("-m", "gemloom", "mcp", "serve"), *args]
    params = StdioServerParameters(command=sys.executable, args=command, env=serve_env(fake_ollama))
    return Client(params)


def text(result) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


async def test_lists_tools_with_honest_annotations(fake_ollama, project) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"pack_codebase", "list_files", "search_files", "read_file", "recall", "remember",
            "forget", "review_screenshots", "transcribe_recording", "summarise_recording",
            "capture_screen"} == set(tools)  # fmt: skip
    reads = ["pack_codebase", "read_file", "search_files", "recall", "review_screenshots"]
    assert all(tools[n].annotations.read_only_hint is True for n in reads)
    assert tools["remember"].annotations.read_only_hint is False
    assert tools["remember"].annotations.destructive_hint is False
    assert tools["forget"].annotations.destructive_hint is True
    assert tools["capture_screen"].annotations.open_world_hint is True
    assert tools["read_file"].input_schema["required"] == ["path"]


async def test_pack_within_budget_with_secrets_redacted(fake_ollama, project) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:
        result = await client.call_tool("pack_codebase", {"budget_tokens": 20_000})
    packed = text(result)
    assert not result.is_error
    assert "src/app.py" in packed and "def greet" in packed and "Says hi." in packed
    assert SECRET not in packed and "[REDACTED:aws_access_key]" in packed


async def test_pack_too_small_a_budget_is_a_tool_error(fake_ollama, project) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:
        result = await client.call_tool("pack_codebase", {"budget_tokens": 5})
    assert result.is_error and "budget" in text(result).lower()


async def test_read_and_search_are_confined_to_the_roots(fake_ollama, project, tmp_path) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:
        inside = await client.call_tool("read_file", {"path": "src/app.py", "start": 2})
        found = await client.call_tool("search_files", {"pattern": "greet"})
        listed = await client.call_tool("list_files", {})
        escapes = [
            await client.call_tool("read_file", {"path": "../outside.txt"}),
            await client.call_tool("read_file", {"path": str(tmp_path / "outside.txt")}),
            await client.call_tool("read_file", {"path": "escape.txt"}),
            await client.call_tool("list_files", {"path": str(tmp_path)}),
        ]
    assert text(inside).startswith("2: def greet():")
    assert "src/app.py:2: def greet():" in text(found)
    assert "README.md" in text(listed)
    for result in escapes:
        assert result.is_error, text(result)
        assert "not yours" not in text(result)
        assert "outside" in text(result) or "'..'" in text(result)


async def test_second_root_is_reachable_by_absolute_path(fake_ollama, project, tmp_path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.md").write_text(f"token {SECRET}\n")
    args = ("--root", str(project), "--root", str(other))
    async with serve(fake_ollama, *args) as client:
        result = await client.call_tool("read_file", {"path": str(other / "notes.md")})
    assert text(result) == (
        "1: token [REDACTED:aws_access_key]\n[1 secret(s) redacted (aws_access_key) on line(s) 1]"
    )


async def test_writes_are_refused_without_the_flag(fake_ollama, project) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:
        result = await client.call_tool("remember", {"text": "the build uses uv"})
        recalled = await client.call_tool("recall", {"query": "build"})
    assert result.is_error and "--allow-writes" in text(result)
    assert text(recalled) == "No stored memory matches."


async def test_remember_then_recall_with_the_flag(fake_ollama, project) -> None:
    args = ("--root", str(project), "--allow-writes")
    async with serve(fake_ollama, *args) as client:
        stored = await client.call_tool("remember", {"text": f"deploy key is {SECRET}"})
        recalled = await client.call_tool("recall", {"query": "deploy key", "k": 3})
    assert not stored.is_error and "remembered" in text(stored)
    assert "deploy key is [REDACTED:aws_access_key]" in text(recalled)
    assert SECRET not in text(recalled)


async def test_review_reports_progress_and_returns_findings_and_sarif(
    fake_ollama, screen, app
) -> None:
    fake_ollama.default = Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16)
    notes: list[tuple[float, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        notes.append((done, message))

    root = screen.path.parent
    args = ("--root", str(root), "--root", str(app))
    async with serve(fake_ollama, *args) as client:
        images = [screen.path.name]
        arguments = {"images": images, "repo": str(app)}
        result = await client.call_tool("review_screenshots", arguments, progress_callback=progress)
    assert not result.is_error, text(result)
    report = json.loads(text(result))
    assert len(report["findings"]) == 3
    assert report["sarif"]["version"] == "2.1.0" and len(report["sarif"]["runs"][0]["results"]) == 3
    assert notes and "reviewing 1 screenshot" in notes[0][1]
    assert [n for n, _ in notes] == sorted({n for n, _ in notes})  # progress only grows


async def test_transcribe_reports_progress_per_chunk(instant_model, tmp_path) -> None:
    recording = tmp_path / "talk.ogg"
    recording.write_bytes(SPEECH.read_bytes())
    notes: list[str | None] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        notes.append(message)

    async with serve(instant_model, "--root", str(tmp_path)) as client:
        result = await client.call_tool(
            "transcribe_recording", {"path": "talk.ogg"}, progress_callback=progress
        )
    assert not result.is_error, text(result)
    assert "in native transcript words" in text(result)
    assert notes[0] == "transcribing chunk 1/1" and notes[-1] == "transcribed"


async def test_streamable_http_transport(fake_ollama, project) -> None:
    port = free_port()
    command = [sys.executable, "-m", "gemloom", "mcp", "serve", "--root", str(project)]
    env = serve_env(fake_ollama)
    with http_process([*command, "--http", str(port)], port, env=env):
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("read_file", {"path": "README.md"})
    assert "pack_codebase" in names
    assert text(result).startswith("1: # Project")


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "gemloom", "mcp", "serve", "--http", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: Cannot serve on 127.0.0.1:{port}: Address already in use. "
        "Pick another --http port."
    )


def test_a_missing_root_is_one_line_and_exit_1(tmp_path) -> None:
    command = [sys.executable, "-m", "gemloom", "mcp", "serve", "--root", str(tmp_path / "nope")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: --root") and "Traceback" not in done.stderr


async def test_summarise_reports_progress_and_returns_notes(instant_model, tmp_path) -> None:
    recording = tmp_path / "standup.ogg"
    recording.write_bytes(SPEECH.read_bytes())
    notes: list[float] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        notes.append(done)

    async with serve(instant_model, "--root", str(tmp_path)) as client:
        arguments = {"path": "standup.ogg", "title": "Standup"}
        result = await client.call_tool(
            "summarise_recording", arguments, progress_callback=progress
        )
    assert not result.is_error, text(result)
    markdown = text(result)
    assert markdown.startswith("# Part from") and "send the report" in markdown
    assert len(notes) >= 3 and notes == sorted(set(notes))


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb display (its root window is black); yields ':N'."""
    if not shutil.which("Xvfb"):
        pytest.skip("needs Xvfb (Debian xvfb)")
    read, write = os.pipe()
    command = ["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"]
    server = subprocess.Popen(command, pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


async def test_capture_screen_returns_an_image(fake_ollama, project, display) -> None:
    env = {**serve_env(fake_ollama), "DISPLAY": display}
    args = ["-m", "gemloom", "mcp", "serve", "--root", str(project)]
    async with Client(StdioServerParameters(command=sys.executable, args=args, env=env)) as client:
        result = await client.call_tool("capture_screen", {"region": "10,20,64,48"})
    assert not result.is_error, text(result)
    image = next(block for block in result.content if block.type == "image")
    picture = PILImage.open(io.BytesIO(base64.b64decode(image.data)))
    assert picture.size == (64, 48) and picture.getpixel((5, 5))[:3] == (0, 0, 0)
    assert text(result).startswith("64x48 screenshot, sha256 ")


async def test_capture_screen_without_a_display_is_a_tool_error(fake_ollama, project) -> None:
    async with serve(fake_ollama, "--root", str(project)) as client:  # no DISPLAY passed on
        bad_region = await client.call_tool("capture_screen", {"region": "a,b"})
        result = await client.call_tool("capture_screen", {})
    assert bad_region.is_error and "X,Y,WIDTH,HEIGHT" in text(bad_region)
    assert result.is_error and "Traceback" not in text(result)
