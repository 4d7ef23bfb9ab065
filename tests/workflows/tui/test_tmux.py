"""The real `gemloom chat` in tmux: type a message, read the streamed answer off the screen."""

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


def pane(name: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True, check=True
    ).stdout


def wait_for(name: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = pane(name)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{pane(name)}")


def test_chat_in_tmux(fake_ollama, tmp_path) -> None:
    fake_ollama.script(
        Turn("The capital of France is **Paris**, on the Seine.", chunk_chars=3, delay=0.02)
    )
    env = {
        "OLLAMA_HOST": fake_ollama.url,
        "GEMLOOM_HOME": os.environ["GEMLOOM_HOME"],
        "GEMLOOM_CONFIG": os.environ["GEMLOOM_CONFIG"],
        "TERM": "xterm-256color",
    }
    command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command += f" {shlex.quote(sys.executable)} -m gemloom chat"
    name = f"gemloom-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            str(tmp_path),
            command,
        ],
        check=True,
    )
    try:
        wait_for(name, "Message, or /help")
        wait_for(name, "262,144 context")
        subprocess.run(
            ["tmux", "send-keys", "-t", name, "What is the capital of France?"], check=True
        )
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)
        screen = wait_for(name, "on the Seine.")
        assert "The capital of France is Paris" in screen  # Markdown rendered, ** gone
        assert "What is the capital of France?" in screen
        subprocess.run(["tmux", "send-keys", "-t", name, "C-q"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    sent = fake_ollama.chat_bodies()[0]["messages"][-1]["content"]
    assert sent == "What is the capital of France?"
