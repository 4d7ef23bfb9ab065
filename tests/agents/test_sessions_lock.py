"""One process at a time on a session, and a session always works in its own workspace."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn, call
from terminal_child import TerminalChild

from gemloom.agents.approval import Action, Decision
from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.locks import Busy


def gemloom(*args: str, cwd: Path, fake: FakeOllama) -> subprocess.Popen:
    env = {**os.environ, "OLLAMA_HOST": fake.url}
    return subprocess.Popen(
        [sys.executable, "-m", "gemloom", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def holder_pid(sessions: Sessions, session_id: str) -> int | None:
    """Who last took the session: its lock file (SQLite) or its holders row (PostgreSQL)."""
    if sessions.store.kind == "sqlite":
        lock = sessions.settings.data_dir / "locks" / f"session-{session_id}.lock"
        raw = lock.read_text() if lock.exists() else ""
    else:
        query = "select holder from gemloom_session_holders where id = ?"
        raw = next(iter(sessions.store.sql(query, (session_id,))), ("",))[0]
    try:
        return json.loads(raw)["pid"]
    except (ValueError, KeyError):
        return None


def wait_for_holder(sessions: Sessions, session_id: str, pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holder_pid(sessions, session_id) == pid:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} never took session {session_id}")


def test_a_second_run_on_a_busy_session_is_refused_and_nothing_is_lost(
    fake_ollama: FakeOllama, sessions: Sessions, workspace: Path, gemloom_home: Path
) -> None:
    session_id = sessions.create("shared")
    fake_ollama.script(Turn("the first answer, streamed slowly", chunk_chars=1, delay=0.3))
    first = gemloom(
        "run", "--session", session_id, "first question", cwd=workspace, fake=fake_ollama
    )
    wait_for_holder(sessions, session_id, first.pid)

    second = gemloom("run", "--session", session_id, "second", cwd=workspace, fake=fake_ollama)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 12, err
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    assert f"pid {first.pid} on {socket.gethostname()}" in line
    assert f"gemloom run --session {session_id} first question" in line
    assert first.poll() is None  # refused at once, while the first still runs

    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert out.strip() == "the first answer, streamed slowly"
    contents = [m["content"] for m in sessions.messages(session_id)]
    assert contents[1:] == ["first question", "the first answer, streamed slowly"]
    assert len(fake_ollama.chat_bodies()) == 1  # the refused run never reached the model

    fake_ollama.script(Turn("now it is my turn"))
    again = gemloom("run", "--session", session_id, "second", cwd=workspace, fake=fake_ollama)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err  # the lock went with the first process
    assert [m["content"] for m in sessions.messages(session_id)][-2:] == [
        "second",
        "now it is my turn",
    ]


def test_a_killed_holder_frees_the_session(
    fake_ollama: FakeOllama, sessions: Sessions, workspace: Path, gemloom_home: Path
) -> None:
    session_id = sessions.create("killed")
    fake_ollama.script(Turn("never finished", chunk_chars=1, delay=0.5))
    child = gemloom("run", "--session", session_id, "go", cwd=workspace, fake=fake_ollama)
    wait_for_holder(sessions, session_id, child.pid)
    child.kill()
    child.wait(timeout=10)
    with sessions.held(session_id):  # taken at once: a dead process holds no flock
        pass


def test_the_same_process_cannot_drive_one_session_twice(
    fake_ollama: FakeOllama, make_sessions
) -> None:
    sessions, another = make_sessions(), make_sessions()  # say the TUI and a helper thread
    session_id = sessions.create("twice")
    with sessions.held(session_id), pytest.raises(Busy, match=f"pid {os.getpid()}"):
        list(another.send(session_id, "hello"))
    with pytest.raises(Busy), sessions.held(session_id):  # nor deleted while it runs
        another.delete(session_id)
    assert sessions.get(session_id).title == "twice"
    held = threading.Event()

    def hold_it() -> None:
        with sessions.held(session_id):
            held.set()
            time.sleep(1.0)

    worker = threading.Thread(target=hold_it)
    worker.start()
    held.wait(10)
    with pytest.raises(Busy):  # re-entrant per thread only, not across threads
        list(sessions.resume(session_id))
    worker.join()


def test_resume_works_in_the_sessions_workspace_not_the_current_folder(
    fake_ollama: FakeOllama, sessions: Sessions, workspace: Path, tmp_path: Path, monkeypatch
) -> None:
    fake_ollama.script(Turn(tool_calls=[call("write_text_file", path="out.txt", content="hi")]))
    session_id = sessions.create("elsewhere")
    list(sessions.send(session_id, "write it"))
    assert sessions.awaiting(session_id)["name"] == "write_text_file"

    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    fake_ollama.script(Turn("Written."))
    assert main(["sessions", "resume", "--yes", session_id]) == 0
    assert (workspace / "out.txt").read_text() == "hi"
    assert not (other / "out.txt").exists()
    assert sessions.get(session_id).workspace == str(workspace)


def test_continuing_from_another_folder_keeps_the_workspace(
    fake_ollama: FakeOllama, make_sessions, workspace: Path, tmp_path: Path
) -> None:
    session_id = make_sessions().create("first")
    other = tmp_path / "other"
    other.mkdir()
    elsewhere = Sessions(make_sessions().settings, workspace=other)
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="b.txt", content="b")]), Turn("Done.")
    )
    list(elsewhere.send(session_id, "write b"))
    list(elsewhere.answer(session_id, Decision(Action.APPROVE)))
    assert (workspace / "b.txt").read_text() == "b" and not (other / "b.txt").exists()
    assert str(workspace) in elsewhere.messages(session_id)[0]["content"]


def test_a_session_whose_workspace_is_gone_says_so(
    fake_ollama: FakeOllama, sessions: Sessions, workspace: Path
) -> None:
    session_id = sessions.create("gone")
    workspace.rename(workspace.with_name("moved"))
    with pytest.raises(Exception, match="no longer a folder"):
        list(sessions.resume(session_id))


def test_a_session_waiting_at_an_approval_prompt_stays_held(
    fake_ollama: FakeOllama, sessions: Sessions, workspace: Path, gemloom_home: Path
) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="held.txt", content="mine")]),
        Turn("Saved."),
    )
    env = {**os.environ, "OLLAMA_HOST": fake_ollama.url}
    first = TerminalChild(["run", "save it"], workspace, env)  # only a terminal can approve
    first.wait_for_question()  # the session line is printed before it
    session_id = first.stderr.split("session ", 1)[1].split()[0]
    assert sessions.awaiting(session_id), "the run never reached its approval prompt"

    other = gemloom("sessions", "resume", "--yes", session_id, cwd=workspace, fake=fake_ollama)
    _, err = other.communicate(timeout=60)
    assert other.returncode == 12, err  # it may not answer the first one's question
    assert f"pid {first.proc.pid}" in err
    assert not (workspace / "held.txt").exists()

    first.type("y\n")
    code, out, err = first.finish()
    assert code == 0, err
    assert (workspace / "held.txt").read_text() == "mine" and "Saved." in out
