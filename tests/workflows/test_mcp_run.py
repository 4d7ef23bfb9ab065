"""`gemloom run` and `gemloom mcp list` with MCP servers from the config, run as real processes."""

from __future__ import annotations

import io
import os
import pty
import sys
from pathlib import Path

import pytest
from fake_ollama import Turn, call
from mcp_helpers import FIXTURE, free_port, http_process, stdio_server, toml_config

from gemloom.cli import main
from gemloom.workflows import run


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def pidfile(tmp_path: Path) -> Path:
    return tmp_path / "pids.txt"


def configure(tmp_path: Path, pidfile: Path, **servers: dict) -> None:
    for table in servers.values():
        if "command" in table:
            table["env"] = {"MCP_FIXTURE_PIDFILE": str(pidfile)}
    toml_config(tmp_path / "config.toml", servers)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_uses_a_read_tool_and_stops_the_server(
    fake_ollama, workspace, tmp_path, pidfile, capsys
) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    fake_ollama.script(Turn(tool_calls=[call("fx.echo", text="hello", times="2")]), Turn("Done."))
    assert main(["run", "say hello twice"]) == 0
    err = capsys.readouterr().err
    assert "→ fx.echo" in err and "← fx.echo hello hello" in err
    first, second = fake_ollama.chat_bodies()
    offered = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert offered["fx.echo"]["parameters"]["required"] == ["text"]
    assert "read_file" in offered  # built-in tools stay
    reply = second["messages"][-1]
    assert reply == {"role": "tool", "tool_name": "fx.echo", "content": "hello hello"}
    pids = [int(p) for p in pidfile.read_text().split()]
    assert pids and not any(alive(p) for p in pids)  # stopped with the session


def typed_on_a_terminal(monkeypatch: pytest.MonkeyPatch, keys: str) -> None:
    """Standard input on a real pseudo-terminal with `keys` typed (approvals need a terminal).

    The keys are typed before the question, so the prompt's dropping of type-ahead is turned
    off here; tests/workflows/test_run_approval.py types after the prompt, as a person does.
    """
    master, slave = pty.openpty()  # the master stays open: closing it hangs the terminal up
    os.write(master, keys.encode())
    monkeypatch.setattr(sys, "stdin", os.fdopen(slave, "r"))
    monkeypatch.setattr(run, "_drop_typeahead", lambda: None)


def test_write_tool_asks_first_and_runs_when_approved(
    fake_ollama, workspace, tmp_path, pidfile, monkeypatch, capsys
) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    note = workspace / "note.txt"
    fake_ollama.script(
        Turn(tool_calls=[call("fx.write_note", path=str(note), text="hi")]), Turn("Saved.")
    )
    typed_on_a_terminal(monkeypatch, "y\n")
    assert main(["run", "save a note"]) == 0
    assert note.read_text() == "hi"
    assert "Allow fx.write_note (write)" in capsys.readouterr().err


def test_write_tool_rejected_does_not_run(
    fake_ollama, workspace, tmp_path, pidfile, monkeypatch
) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    note = workspace / "note.txt"
    fake_ollama.script(
        Turn(tool_calls=[call("fx.write_note", path=str(note), text="hi")]), Turn("Fine.")
    )
    typed_on_a_terminal(monkeypatch, "n\nnot now\n")
    assert main(["run", "save a note"]) == 10
    assert not note.exists()
    reply = fake_ollama.chat_bodies()[-1]["messages"][-1]
    assert reply["content"] == "Rejected by the user: not now"


def test_config_risk_override_skips_the_question(
    fake_ollama, workspace, tmp_path, pidfile, monkeypatch
) -> None:
    configure(tmp_path, pidfile, fx=stdio_server(tools={"wipe": {"risk": "read"}}))
    fake_ollama.script(Turn(tool_calls=[call("fx.wipe", confirm="true")]), Turn("Gone."))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # a question would be answered "no"
    assert main(["run", "wipe"]) == 0
    assert fake_ollama.chat_bodies()[-1]["messages"][-1]["content"] == "wiped=True"


def test_images_from_a_tool_reach_the_model(fake_ollama, workspace, tmp_path, pidfile) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    fake_ollama.script(Turn(tool_calls=[call("fx.picture", colour="green")]), Turn("Green."))
    assert main(["run", "show me"]) == 0
    reply = fake_ollama.chat_bodies()[-1]["messages"][-1]
    assert reply["role"] == "tool" and len(reply["images"]) == 1


def test_failures_are_one_line_and_the_session_goes_on(
    fake_ollama, workspace, tmp_path, pidfile, capsys
) -> None:
    configure(
        tmp_path,
        pidfile,
        fx=stdio_server(timeout=2),
        gone={"command": "gemloom-no-such-server"},
    )
    fake_ollama.script(
        Turn(tool_calls=[call("fx.fail")]),
        Turn(tool_calls=[call("fx.hang")]),
        Turn(tool_calls=[call("fx.crash")]),
        Turn(tool_calls=[call("fx.echo", text="still working")]),
        Turn("All done."),
    )
    assert main(["run", "try everything"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "All done."
    err = " ".join(captured.err.split())  # the console wraps long lines
    assert err.count("MCP server gone did not start") == 1
    assert "← fx.fail Error: Error executing tool fail: the fixture tool broke on purpose" in err
    assert "← fx.hang Error: MCP server 'fx' did not answer hang within 2 s" in err
    assert "← fx.crash Error: MCP server 'fx' stopped during the call" in err
    assert "← fx.echo still working" in err
    assert "Traceback" not in err


def test_run_with_a_streamable_http_server(fake_ollama, workspace, tmp_path, pidfile) -> None:
    port = free_port()
    with http_process([sys.executable, str(FIXTURE), "http", str(port)], port):
        configure(tmp_path, pidfile, web={"url": f"http://127.0.0.1:{port}/mcp"})
        fake_ollama.script(Turn(tool_calls=[call("web.echo", text="via http")]), Turn("ok"))
        assert main(["run", "echo"]) == 0
    assert fake_ollama.chat_bodies()[-1]["messages"][-1]["content"] == "via http"


def test_bad_mcp_config_is_one_line_before_any_session(fake_ollama, workspace, tmp_path, capsys):
    (tmp_path / "config.toml").write_text('[mcp.servers.x]\nurl = "ftp://nope"\n')
    assert main(["run", "hi"]) == 2
    err = capsys.readouterr().err
    assert "Invalid MCP setting in [mcp.servers.x]: url" in err and "Traceback" not in err
    assert fake_ollama.chat_bodies() == []


def test_mcp_list_shows_servers_status_and_tools(workspace, tmp_path, pidfile, capsys) -> None:
    configure(
        tmp_path,
        pidfile,
        fx=stdio_server(tools={"crash": {"enabled": False}}),
        off={**stdio_server(), "enabled": False},
        gone={"command": "gemloom-no-such-server"},
    )
    assert main(["mcp", "list"]) == 1  # one server did not start
    out = capsys.readouterr().out
    assert "fx (stdio:" in out and "started" in out
    assert "fx.echo  read" in out and "fx.write_note  write" in out and "fx.wipe  execute" in out
    assert "fx.crash" not in out
    assert "off (stdio:" in out and "disabled" in out
    assert "gone (stdio: gemloom-no-such-server) did not start: cannot run" in out


def test_mcp_list_without_servers(workspace, capsys) -> None:
    assert main(["mcp", "list"]) == 0
    assert "No MCP servers configured" in capsys.readouterr().out


def test_servers_start_only_when_a_model_wants_tools(
    fake_ollama, workspace, tmp_path, pidfile, capsys
) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    assert main(["sessions", "list"]) == 0
    fake_ollama.script(Turn("It is noon."))
    assert main(["run", "--tools", "current_time", "time?"]) == 0
    assert not pidfile.exists()  # neither listing sessions nor built-in-only runs start it
    names = [t["function"]["name"] for t in fake_ollama.chat_bodies()[0]["tools"]]
    assert names == ["current_time"]


def test_choosing_an_mcp_tool_with_tools(fake_ollama, workspace, tmp_path, pidfile) -> None:
    configure(tmp_path, pidfile, fx=stdio_server())
    fake_ollama.script(Turn(tool_calls=[call("fx.echo", text="only me")]), Turn("ok"))
    assert main(["run", "--tools", "fx.echo", "echo"]) == 0
    names = [t["function"]["name"] for t in fake_ollama.chat_bodies()[0]["tools"]]
    assert names == ["fx.echo"]
    assert pidfile.exists()


def test_resume_runs_a_pending_mcp_call_after_approval(
    fake_ollama, workspace, tmp_path, pidfile
) -> None:
    from gemloom.agents.sessions import Sessions
    from gemloom.tools.mcp.client import stop_all
    from gemloom.tools.registry import default_registry

    configure(tmp_path, pidfile, fx=stdio_server())
    note = workspace / "later.txt"
    fake_ollama.script(
        Turn(tool_calls=[call("fx.write_note", path=str(note), text="later")]), Turn("Written.")
    )
    sessions = Sessions(registry=default_registry())
    sid = sessions.create("pending")
    list(sessions.send(sid, "write it later"))  # stops at the approval question
    stop_all()  # the first process's servers end with it
    assert sessions.awaiting(sid)["name"] == "fx.write_note"
    assert main(["sessions", "resume", sid, "--yes"]) == 0
    assert note.read_text() == "later"
    assert len(pidfile.read_text().split()) == 2  # started again for the resumed run
