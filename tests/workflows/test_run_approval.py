"""`gemloom run` approvals, as real child processes: only a yes typed on a terminal runs a write."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from fake_ollama import Turn, call

PROMPT = "[y]es / [n]o / [a]lways for this session / [e]dit: "
QUESTION = "Allow write_text_file (write) with "
GEMLOOM = [sys.executable, "-m", "gemloom"]


class TerminalChild:
    """`gemloom ARGS` with its standard input on a pseudo-terminal, typed into like a person."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]):
        self.master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # nobody reads the echo; keep the pty buffer empty
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.proc = subprocess.Popen(
            [*GEMLOOM, *args],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        os.close(slave)
        self._err = bytearray()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        while chunk := self.proc.stderr.read1(4096):
            self._err += chunk

    @property
    def stderr(self) -> str:
        """What the child wrote to standard error so far."""
        return self._err.decode(errors="replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        """Wait until `text` was printed `count` times on stderr."""
        deadline = time.monotonic() + timeout
        while self.stderr.count(text) < count:
            assert self.proc.poll() is None, f"exited early:\n{self.stderr}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.stderr}"
            time.sleep(0.05)

    def asked(self, number: int) -> bool:
        """Whether question `number` shows its prompt (keys typed before that are dropped)."""
        questions = self.stderr.split(QUESTION)
        return len(questions) > number and PROMPT in questions[number]

    def wait_for_question(self, number: int = 1, timeout: float = 60) -> None:
        """Wait until question `number` is asked."""
        deadline = time.monotonic() + timeout
        while not self.asked(number):
            assert self.proc.poll() is None, f"exited early:\n{self.stderr}"
            assert time.monotonic() < deadline, f"question {number} not in:\n{self.stderr}"
            time.sleep(0.05)

    def type(self, keys: str | bytes) -> None:
        """Type keys on the terminal."""
        os.write(self.master, keys if isinstance(keys, bytes) else keys.encode())

    def hang_up(self) -> None:
        """Close the terminal, as when its window is closed."""
        os.close(self.master)
        self.master = -1

    def finish(self) -> tuple[int, str, str]:
        """Exit code, stdout and stderr once the child ends."""
        out = self.proc.stdout.read().decode()
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        if self.master >= 0:
            os.close(self.master)
        return code, out, self.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def env(fake_ollama) -> dict[str, str]:
    return {**os.environ, "OLLAMA_HOST": fake_ollama.url, "COLUMNS": "500"}


def two_writes(fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="one.txt", content="1")]),
        Turn(tool_calls=[call("write_text_file", path="two.txt", content="2")]),
        Turn("Done."),
    )


def tool_replies(fake_ollama) -> list[str]:
    messages = fake_ollama.chat_bodies()[-1]["messages"]
    return [m["content"] for m in messages if m["role"] == "tool"]


def test_prompt_shows_its_key_letters_and_each_call_prints_once(
    fake_ollama, workspace, env
) -> None:
    two_writes(fake_ollama)
    child = TerminalChild(["run", "save two files"], workspace, env)
    child.wait_for_question(1)
    child.type("y\n")
    child.wait_for_question(2)
    child.type("y\n")
    code, out, err = child.finish()
    assert code == 0, err
    assert out.strip() == "Done."
    assert (workspace / "one.txt").read_text() == "1" and (workspace / "two.txt").read_text() == "2"
    assert err.count("→ write_text_file") == 2  # one per call, not once more after the yes
    assert err.count("← write_text_file wrote 1 characters") == 2


def test_no_and_a_reason_go_back_to_the_model(fake_ollama, workspace, env) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="x.txt", content="hi")]), Turn("Understood.")
    )
    child = TerminalChild(["run", "save hi"], workspace, env)
    child.wait_for_question(1)
    child.type("n\n")
    child.wait_for("reason (sent to the model): ")
    child.type("wrong folder\n")
    code, _, _ = child.finish()
    assert code == 10
    assert not (workspace / "x.txt").exists()
    assert tool_replies(fake_ollama) == ["Rejected by the user: wrong folder"]


def test_always_allows_the_rest_of_the_session(fake_ollama, workspace, env) -> None:
    two_writes(fake_ollama)
    child = TerminalChild(["run", "save two files"], workspace, env)
    child.wait_for_question(1)
    child.type("a\n")
    code, _, err = child.finish()
    assert code == 0, err
    assert err.count(PROMPT) == 1
    assert (workspace / "two.txt").read_text() == "2"


def test_keys_typed_before_the_question_do_not_answer_it(fake_ollama, workspace, env) -> None:
    two_writes(fake_ollama)
    child = TerminalChild(["run", "save two files"], workspace, env)
    child.type("a\n")  # typed ahead while the model was still thinking
    child.wait_for_question(1)
    child.type("y\n")
    child.wait_for_question(2)  # asked again: the typed-ahead "a" granted nothing
    child.type("n\n\n")
    code, _, _ = child.finish()
    assert code == 10
    assert (workspace / "one.txt").exists() and not (workspace / "two.txt").exists()


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ("ye\x04", "no answer (end of input)"),  # Ctrl-D in the middle of the answer
        ("\x04", "no answer (end of input)"),
        ("sure\nok\n\x1b[A\n", "no valid answer in 3 tries"),
        (b"\xff\xfe\x00garbage\nyes please\n\x07\n", "no valid answer in 3 tries"),
        ("e\n{not json\ne\n[1]\ne\n\x04", "no valid answer in 3 tries"),
        ("n\n\x04", "rejected by the user"),
    ],
    ids=["eof-mid-answer", "eof", "garbage", "binary-garbage", "bad-edits", "no-then-eof"],
)
def test_anything_but_a_yes_on_the_terminal_writes_nothing(
    fake_ollama, workspace, env, keys: str | bytes, reason: str
) -> None:
    two_writes(fake_ollama)
    child = TerminalChild(["run", "save two files"], workspace, env)
    child.wait_for_question(1)
    child.type(keys)
    child.wait_for_question(2)  # the second call is asked about too: nothing was allowed
    child.type("\x04")
    code, _, err = child.finish()
    assert code == 10, err
    assert list(workspace.iterdir()) == []
    assert tool_replies(fake_ollama)[0] == f"Rejected by the user: {reason}"


def test_closing_the_terminal_mid_question_writes_nothing(fake_ollama, workspace, env) -> None:
    two_writes(fake_ollama)
    child = TerminalChild(["run", "save two files"], workspace, env)
    child.wait_for_question(1)
    child.hang_up()
    code, _, err = child.finish()
    assert code == 10, err
    assert list(workspace.iterdir()) == []


STDIN_CASES = {
    "closed": None,
    "empty": b"",
    "a pipe of a": b"a\n" * 5000,
    "a pipe of a without newlines": b"a" * 100_000,
    "a pipe of y": b"y\n" * 5000,
    "garbage": bytes(range(256)) * 50,
}


@pytest.mark.parametrize("stdin", STDIN_CASES.values(), ids=STDIN_CASES.keys())
def test_without_a_terminal_no_write_runs_whatever_stdin_holds(
    fake_ollama, workspace, env, stdin: bytes | None
) -> None:
    two_writes(fake_ollama)
    command = [*GEMLOOM, "run", "save two files"]
    if stdin is None:  # the shell closes fd 0 before Python starts
        command = ["sh", "-c", 'exec "$@" <&-', "sh", *command]
    done = subprocess.run(
        command, cwd=workspace, env=env, input=stdin or b"", capture_output=True, timeout=120
    )
    err = done.stderr.decode()
    assert done.returncode == 10, err
    assert list(workspace.iterdir()) == []
    assert "no terminal to ask whether write_text_file may run (pass --yes to allow)" in err
    assert "Traceback" not in err
    replies = tool_replies(fake_ollama)
    assert len(replies) == 2 and all("write and execute tools need --yes" in r for r in replies)


def test_resume_without_a_terminal_does_not_approve(fake_ollama, workspace, env) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="x.txt", content="hi")]), Turn("ok")
    )
    child = TerminalChild(["run", "save hi"], workspace, env)
    child.wait_for_question(1)
    session_id = child.stderr.split()[1]
    child.proc.kill()
    child.finish()
    resumed = subprocess.run(
        [*GEMLOOM, "sessions", "resume", session_id],
        cwd=workspace,
        env=env,
        input=b"y\n",
        capture_output=True,
        timeout=120,
    )
    assert resumed.returncode == 10, resumed.stderr
    assert not (workspace / "x.txt").exists()
