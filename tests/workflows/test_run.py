import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_ollama import Turn, call

from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.tools.registry import default_registry


@pytest.fixture
def in_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("buy milk\n")
    monkeypatch.chdir(root)
    return root


def answer(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_run_completes_a_multi_step_session(fake_ollama, in_workspace, capsys) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("list_files")]),
        Turn(tool_calls=[call("read_file", path="notes.txt")]),
        Turn("You need to buy milk."),
    )
    assert main(["run", "what is on my list?"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "You need to buy milk."
    assert "→ list_files" in captured.err and "← read_file 1: buy milk" in captured.err


def test_run_without_a_terminal_answer_rejects(fake_ollama, in_workspace, monkeypatch) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="x.txt", content="hi")]), Turn("ok")
    )
    answer(monkeypatch, "")
    assert main(["run", "save hi"]) == 10
    assert not (in_workspace / "x.txt").exists()


def test_run_yes_skips_the_question(fake_ollama, in_workspace) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="x.txt", content="hi")]), Turn("Saved.")
    )
    assert main(["run", "--yes", "save hi"]) == 0
    assert (in_workspace / "x.txt").read_text() == "hi"


def test_run_stopped_by_the_step_budget(fake_ollama, in_workspace, capsys) -> None:
    fake_ollama.script(Turn(tool_calls=[call("current_time")]))
    assert main(["run", "--max-steps", "1", "time?"]) == 9
    assert "step budget of 1" in capsys.readouterr().err


def test_run_model_failure_is_one_line(fake_ollama, in_workspace, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GEMLOOM_CHAT_MODEL", "missing:1b")
    assert main(["run", "hi"]) == 4
    err = capsys.readouterr().err
    assert "gemloom pull missing:1b" in err and "Traceback" not in err


def test_run_with_unknown_tool_names(fake_ollama, in_workspace, capsys) -> None:
    assert main(["run", "--tools", "read_file,rm_rf", "hi"]) == 1
    assert "Unknown tool(s): rm_rf" in capsys.readouterr().err


def test_run_only_offers_the_chosen_tools(fake_ollama, in_workspace) -> None:
    fake_ollama.script(Turn("hello"))
    assert main(["run", "--tools", "current_time", "hi"]) == 0
    names = [t["function"]["name"] for t in fake_ollama.chat_bodies()[0]["tools"]]
    assert names == ["current_time"]


def test_continue_list_show_fork(
    fake_ollama, in_workspace, capsys, sessions_backend, gemloom_home
) -> None:
    fake_ollama.script(Turn("first answer"), Turn("second answer"))
    assert main(["run", "first question"]) == 0
    sid = Sessions(registry=default_registry()).list()[0].id
    assert main(["run", "--session", sid, "second question"]) == 0
    capsys.readouterr()
    assert main(["sessions", "list"]) == 0
    assert sid in capsys.readouterr().out
    assert main(["sessions", "show", sid]) == 0
    shown = capsys.readouterr().out
    assert "first question" in shown and "second answer" in shown
    assert main(["sessions", "history", sid]) == 0
    assert "messages" in capsys.readouterr().out
    assert main(["sessions", "fork", sid]) == 0
    fork_id = capsys.readouterr().out.strip()
    assert Sessions(registry=default_registry()).messages(fork_id)[-1]["content"] == "second answer"
    # the chosen store holds it all: no SQLite file appears when PostgreSQL is configured
    assert (gemloom_home / "sessions.sqlite").exists() == (sessions_backend == "sqlite")


def test_unknown_session(fake_ollama, in_workspace, capsys) -> None:
    assert main(["sessions", "show", "nope"]) == 1
    assert "No session 'nope'" in capsys.readouterr().err
    assert main(["run", "--session", "nope", "hi"]) == 1


def test_sigkill_mid_session_resumes_without_losing_or_rerunning(
    fake_ollama, tmp_path, sessions_backend
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="report.txt", content="draft 1")]),
        Turn("a very slow answer that will never finish", chunk_chars=1, delay=0.5),
    )
    env = {**os.environ, "OLLAMA_HOST": fake_ollama.url}
    child = subprocess.Popen(
        [sys.executable, "-m", "gemloom", "run", "--yes", "write the report"],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    session_id = child.stderr.readline().split()[-1]
    deadline = time.monotonic() + 30
    while len(fake_ollama.chat_bodies()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_ollama.chat_bodies()) == 2, "the tool step never completed"
    written = (workspace / "report.txt").stat().st_mtime_ns
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    fake_ollama.script(Turn("The report is written."))
    resumed = subprocess.run(
        [sys.executable, "-m", "gemloom", "sessions", "resume", "--yes", session_id],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "The report is written." in resumed.stdout
    assert (workspace / "report.txt").stat().st_mtime_ns == written  # not run again
    messages = Sessions(registry=default_registry()).messages(session_id)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[1]["content"] == "write the report"
    final_request = fake_ollama.chat_bodies()[-1]["messages"]
    assert [m["role"] for m in final_request].count("tool") == 1


def test_dropping_typeahead_without_standard_input_does_nothing(monkeypatch) -> None:
    from gemloom.workflows import run

    monkeypatch.setattr(sys, "stdin", None)
    run._drop_typeahead()  # no file descriptor to flush: returns instead of a TypeError
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # no fileno() either
    run._drop_typeahead()


def test_meeting_tool_progress_is_shown_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """A meeting tool's progress reaches the person running `gemloom run`, not the answer."""
    from gemloom.tools.audio.tools import MeetingProgress
    from gemloom.workflows.run import RunTally, render

    render(MeetingProgress("summarise_recording", "transcribe chunk 2/5", 2, 5), RunTally())
    captured = capsys.readouterr()
    assert "summarise_recording: transcribe chunk 2/5" in captured.err
    assert captured.out == ""
