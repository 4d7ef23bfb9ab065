"""`gemloom sessions export ID --format md|json`: a real session, exported through the CLI."""

import json
from pathlib import Path

import pytest
from fake_ollama import Turn, call

from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.tools.registry import default_registry


@pytest.fixture
def session_id(fake_ollama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("buy milk\n```\nnot a fence end\n")
    monkeypatch.chdir(root)
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="notes.txt")]), Turn("You need **milk**.")
    )
    sessions = Sessions(registry=default_registry(), workspace=root)
    sid = sessions.create("Shopping")
    list(sessions.send(sid, "what is on my list?"))
    return sid


def test_markdown_export(session_id, capsys) -> None:
    assert main(["sessions", "export", session_id]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Shopping\n\nSession `" + session_id)
    assert "## You\n\nwhat is on my list?" in text
    assert "Tool call `read_file`:" in text and '"path": "notes.txt"' in text
    assert "## Tool result (read_file)\n\n````\n" in text  # fence outlasts the file's ```
    assert text.rstrip().endswith("## gemloom\n\nYou need **milk**.")
    assert "You are gemloom" not in text  # the system prompt is not part of the transcript


def test_json_export_to_a_file(session_id, tmp_path, capsys) -> None:
    out = tmp_path / "out" / "s.json"
    assert main(["sessions", "export", session_id, "--format", "json", "-o", str(out)]) == 0
    body = json.loads(out.read_text())
    assert body["session"]["id"] == session_id and body["session"]["title"] == "Shopping"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert body["messages"][-1]["content"] == "You need **milk**."


def test_bad_input_is_one_line_and_an_exit_code(session_id, tmp_path, capsys) -> None:
    assert main(["sessions", "export", session_id, "--format", "pdf"]) != 0
    assert "Unknown export format 'pdf': use one of md, json." in capsys.readouterr().err
    assert main(["sessions", "export", "nosuchid"]) != 0
    assert "No session 'nosuchid'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["sessions", "export", session_id, "-o", str(blocker / "s.md")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot write the export to") and "Traceback" not in err
