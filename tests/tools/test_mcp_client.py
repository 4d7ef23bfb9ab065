"""The MCP client against real fixture servers (stdio and HTTP) written with the SDK."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import FIXTURE, free_port, http_process, stdio_server

from gemloom.errors import SettingsError
from gemloom.tools.files.tools import MAX_READ_CHARS
from gemloom.tools.mcp.client import McpManager
from gemloom.tools.mcp.config import parse
from gemloom.tools.mcp.tools import McpTool, load_tools
from gemloom.tools.registry import Risk, ToolArgumentError, ToolContext, ToolError, ToolResult


def manager_for(tmp_path: Path, **servers: dict) -> McpManager:
    return McpManager(parse({"servers": servers}).servers, log_dir=tmp_path / "logs")


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, McpTool]]:
    """The fixture server's tools over stdio, with one per-tool override and one disabled."""
    tools_table = {"wipe": {"risk": "read"}, "tone": {"enabled": False}}
    manager = manager_for(tmp_path_factory.mktemp("mcp"), fx=stdio_server(tools=tools_table))
    yield {t.name: t for t in load_tools(manager)}
    manager.close()


def shown(tool: McpTool, ctx: ToolContext, **arguments) -> ToolResult:
    return tool.run(tool.validate(arguments), ctx)


def run(tool: McpTool, ctx: ToolContext, **arguments) -> str:
    return shown(tool, ctx, **arguments).text


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(tmp_path)


def test_tools_are_namespaced_by_server_with_their_source(fx) -> None:
    assert {"fx.echo", "fx.write_note", "fx.picture", "fx.crash"} <= set(fx)
    assert all(t.source == "fx" for t in fx.values())
    assert fx["fx.echo"].remote == "echo"


def test_risk_comes_from_annotations_and_overrides(fx) -> None:
    assert fx["fx.echo"].risk is Risk.READ
    assert fx["fx.write_note"].risk is Risk.WRITE
    assert fx["fx.wipe"].risk is Risk.READ  # destructive, but the config says read


def test_disabled_tool_is_left_out(fx) -> None:
    assert "fx.tone" not in fx


def test_schema_is_flat_like_builtin_tools(fx) -> None:
    function = fx["fx.echo"].schema["function"]
    assert function["name"] == "fx.echo"
    assert function["parameters"] == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "Text"},
            "times": {"type": "integer", "description": "Times (default: 1)"},
        },
        "required": ["text"],
    }


def test_arguments_are_coerced_and_validated(fx, ctx) -> None:
    assert run(fx["fx.echo"], ctx, text="hi", times="3") == "hi hi hi"
    with pytest.raises(ToolArgumentError, match="text: Field required"):
        fx["fx.echo"].validate({"times": 2})
    with pytest.raises(ToolArgumentError, match="times"):
        fx["fx.echo"].validate({"text": "a", "times": "many"})


def test_images_go_to_the_model(fx, ctx) -> None:
    result = shown(fx["fx.picture"], ctx, colour="blue")
    assert "image image/png" in result.text and "shown to you" in result.text
    assert result.images[0][:8] == b"\x89PNG\r\n\x1a\n"


def test_other_audio_is_converted_to_wav(fx, ctx) -> None:
    result = shown(fx["fx.speech"], ctx)
    assert "audio audio/ogg" in result.text and "converted to WAV" in result.text
    wav = result.images[0]
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 16_000 * 2  # > 1 s


def test_resources_become_text(fx, ctx) -> None:
    assert run(fx["fx.resources"], ctx).splitlines() == [
        "the notes say hi",
        "[resource file:///logo.bin: binary]",
        "[resource file:///more.txt]",
    ]


def test_long_text_is_clipped(fx, ctx) -> None:
    text = run(fx["fx.big"], ctx, size=MAX_READ_CHARS + 5000)
    assert len(text) < MAX_READ_CHARS + 100 and text.endswith("characters]")


def test_server_error_becomes_a_tool_error(fx, ctx) -> None:
    with pytest.raises(ToolError, match="broke on purpose"):
        run(fx["fx.fail"], ctx)
    assert run(fx["fx.echo"], ctx, text="still here") == "still here"


def test_audio_goes_to_the_model_and_cwd_is_honoured(tmp_path, ctx) -> None:
    folder = tmp_path / "server-home"
    folder.mkdir()
    manager = manager_for(tmp_path, fx=stdio_server(cwd=str(folder)))
    try:
        tools = {t.name: t for t in load_tools(manager)}
        tone = shown(tools["fx.tone"], ctx)
        assert "audio audio/wav" in tone.text and tone.images[0][:4] == b"RIFF"
        assert run(tools["fx.where"], ctx) == f"{folder} -"
    finally:
        manager.close()


def test_crash_mid_call_is_an_error_and_the_server_restarts(tmp_path, ctx) -> None:
    manager = manager_for(tmp_path, fx=stdio_server())
    try:
        tools = {t.name: t for t in load_tools(manager)}
        with pytest.raises(ToolError, match="MCP server 'fx' stopped during the call"):
            run(tools["fx.crash"], ctx)
        assert run(tools["fx.echo"], ctx, text="back") == "back"
    finally:
        manager.close()


def test_hang_past_the_timeout_is_an_error(tmp_path, ctx) -> None:
    manager = manager_for(tmp_path, fx=stdio_server(timeout=1))
    try:
        tools = {t.name: t for t in load_tools(manager)}
        with pytest.raises(ToolError, match="did not answer hang within 1 s"):
            run(tools["fx.hang"], ctx)
        assert run(tools["fx.echo"], ctx, text="awake") == "awake"
    finally:
        manager.close()


def test_servers_that_fail_to_start_are_reported_and_skipped(tmp_path, caplog) -> None:
    manager = manager_for(
        tmp_path,
        missing={"command": "gemloom-no-such-server"},
        dies=stdio_server("--exit-at-start"),
        off={**stdio_server(), "enabled": False},
    )
    try:
        assert load_tools(manager) == []
    finally:
        manager.close()
    assert "command not found" in manager.failures["missing"]
    assert "refusing to start" in manager.failures["dies"]  # its last stderr line
    assert "off" not in manager.failures
    assert "MCP server dies: did not start" in caplog.text


def test_server_that_never_answers_times_out(tmp_path) -> None:
    silent = {"command": sys.executable, "args": ["-c", "import time; time.sleep(60)"]}
    manager = manager_for(tmp_path, silent={**silent, "startup_timeout": 1})
    try:
        assert manager.start() == {}
    finally:
        manager.close()
    assert manager.failures["silent"] == "did not start within 1 s"


def test_streamable_http_server_with_headers(tmp_path, ctx) -> None:
    port = free_port()
    with http_process([sys.executable, str(FIXTURE), "http", str(port)], port):
        url = f"http://127.0.0.1:{port}/mcp"
        manager = manager_for(tmp_path, web={"url": url, "headers": {"X-Test": "sent-by-gemloom"}})
        try:
            tools = {t.name: t for t in load_tools(manager)}
            assert run(tools["web.echo"], ctx, text="over http") == "over http"
            assert run(tools["web.where"], ctx).endswith(" sent-by-gemloom")
            assert shown(tools["web.picture"], ctx).images[0][:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            manager.close()


def test_unreachable_http_server(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    manager = manager_for(tmp_path, web={"url": url, "startup_timeout": 10})
    try:
        assert manager.start() == {}
    finally:
        manager.close()
    assert manager.failures["web"] == f"cannot connect to {url}"


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ({"servers": {"x": {}}}, r"\[mcp.servers.x\]: Value error, give either command"),
        ({"servers": {"x": {"command": "a", "url": "http://h"}}}, "give either"),
        ({"servers": {"x": {"command": "a", "risk": "maybe"}}}, r"risk: Input should be"),
        ({"servers": {"x": {"command": "a", "colour": 1}}}, "colour: Extra inputs"),
        ({"servers": {"bad.name": {"command": "a"}}}, "Invalid MCP server name 'bad.name'"),
        ({"server": {}}, r"\[mcp\]: server: Extra inputs"),
    ],
)
def test_config_mistakes_are_one_clear_line(servers, message) -> None:
    with pytest.raises(SettingsError, match=message):
        parse(servers)


def test_the_readme_config_example_is_valid() -> None:
    import re
    import tomllib

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = re.search(r"```toml\n(\[mcp\.servers\..*?)```", readme, re.DOTALL).group(1)
    config = parse(tomllib.loads(block)["mcp"]).servers
    assert config["files"].transport == "stdio" and config["tracker"].transport == "http"
    assert config["files"].override("write_file").risk is Risk.EXECUTE
    assert config["files"].override("move_file").enabled is False
    assert config["tracker"].risk is Risk.READ
