"""A `gemloom` child whose standard input is a pseudo-terminal, typed into as a person does."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

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
