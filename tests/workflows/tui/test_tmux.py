"""The real `gemloom chat` in tmux, typed into as a person does (each run on its own socket)."""

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from fake_ollama import Turn

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One tmux server on a private socket, so parallel runs cannot collide."""

    def __init__(self) -> None:
        self.socket = f"gemloom-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = "chat"

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )
        return done.stdout

    def pane(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.pane()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.pane()}")


@pytest.fixture
def tmux(fake_ollama, tmp_path):
    """`gemloom chat` running in a private tmux server; the server is killed afterwards."""
    env = {
        "OLLAMA_HOST": fake_ollama.url,
        "GEMLOOM_HOME": os.environ["GEMLOOM_HOME"],
        "GEMLOOM_CONFIG": os.environ["GEMLOOM_CONFIG"],
        "TERM": "xterm-256color",
    }
    command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command += f" {shlex.quote(sys.executable)} -m gemloom chat"
    session = Tmux()
    session.run(
        "new-session", "-d", "-s", session.name, "-x", "100", "-y", "30", "-c", str(tmp_path)
    )
    session.run("send-keys", "-t", session.name, f"exec {command}", "Enter")
    yield session
    session.run("kill-server", check=False)


def test_chat_in_tmux(tmux, fake_ollama) -> None:
    fake_ollama.script(
        Turn("The capital of France is **Paris**, on the Seine.", chunk_chars=3, delay=0.02)
    )
    tmux.wait_for("Message (Enter sends")
    tmux.wait_for("262,144 context")
    tmux.keys("What is the capital of France?")
    tmux.keys("Enter")
    screen = tmux.wait_for("on the Seine.")
    assert "The capital of France is Paris" in screen  # Markdown rendered, ** gone
    assert "What is the capital of France?" in screen
    sent = fake_ollama.chat_bodies()[0]["messages"][-1]["content"]
    assert sent == "What is the capital of France?"


def test_typing_while_an_answer_streams_sends_it_afterwards(tmux, fake_ollama) -> None:
    long = "Rivers of France, one by one. " * 60
    fake_ollama.script(Turn(long + "THE END.", chunk_chars=6, delay=0.02), Turn("Second done."))
    tmux.wait_for("262,144 context")
    tmux.keys("Name the rivers", "Enter")
    tmux.wait_for("Rivers of France")
    for word in ["And", "the", "lakes?"]:  # a person typing as the answer streams
        tmux.keys(word + " ")
        time.sleep(0.05)
    tmux.keys("Enter")
    tmux.wait_for("queued")
    tmux.wait_for("Second done.", timeout=60)
    bodies = fake_ollama.chat_bodies()
    assert [b["messages"][-1]["content"] for b in bodies] == ["Name the rivers", "And the lakes?"]
    assert bodies[1]["messages"][-2]["content"] == long + "THE END."  # the first answer whole


def test_escape_stops_an_answer_in_tmux(tmux, fake_ollama) -> None:
    fake_ollama.script(Turn("Counting sheep. " * 400, chunk_chars=8, delay=0.02))
    tmux.wait_for("262,144 context")
    tmux.keys("Count sheep", "Enter")
    tmux.wait_for("Counting sheep")
    tmux.keys("Escape")
    tmux.wait_for("Stopped by you")
    tmux.keys("C-q")  # idle again: quits without asking
    deadline = time.monotonic() + 30
    while "chat" in tmux.run("list-sessions", "-F", "#S", check=False):
        assert time.monotonic() < deadline, tmux.pane()
        time.sleep(0.2)


def exec_done(tmux: Tmux) -> None:
    """Wait until the shell has exec'd python: typing now goes to gemloom, before Textual is up."""
    deadline = time.monotonic() + 30
    while tmux.run("display", "-p", "-t", tmux.name, "#{pane_current_command}").strip() in (
        "bash",
        "sh",
        "",
    ):
        assert time.monotonic() < deadline, tmux.pane()
        time.sleep(0.01)


def test_keys_typed_right_after_launch_reach_the_prompt(tmux, fake_ollama) -> None:
    fake_ollama.script(Turn("Early bird answered."))
    exec_done(tmux)
    tmux.keys("typed before the first frame")
    tmux.wait_for("262,144 context")
    screen = tmux.wait_for("typed before the first frame")
    assert "Message (Enter sends" not in screen  # it is in the prompt, not a placeholder
    tmux.keys("Enter")
    tmux.wait_for("Early bird answered.")
    sent = fake_ollama.chat_bodies()[0]["messages"][-1]["content"]
    assert sent == "typed before the first frame"


def line_mode_off(tmux: Tmux) -> None:
    """Wait for gemloom's start-up mode: no line mode, but signals on (Textual turns them off)."""
    tty = tmux.run("display", "-p", "-t", tmux.name, "#{pane_tty}").strip()
    deadline = time.monotonic() + 30
    while True:
        flags = subprocess.run(["stty", "-F", tty, "-a"], capture_output=True, text=True).stdout
        if "-icanon" in flags.split() and "isig" in flags.split():
            return
        assert time.monotonic() < deadline, f"{flags}\n{tmux.pane()}"
        time.sleep(0.01)


def test_a_message_sent_during_the_start_up_imports_is_sent_once_ready(tmux, fake_ollama) -> None:
    fake_ollama.script(Turn("Early bird answered."))
    exec_done(tmux)  # before: the shell's own line editor has the same modes
    line_mode_off(tmux)
    tmux.keys("sent before the first frame", "Enter")  # Enter, not a new line in the prompt
    assert "Message (Enter sends" not in tmux.pane()  # typed before Textual drew anything
    screen = tmux.wait_for("Early bird answered.")
    assert "Message (Enter sends" in screen  # the prompt is empty again
    assert [b["messages"][-1]["content"] for b in fake_ollama.chat_bodies()] == [
        "sent before the first frame"
    ]
