"""Keys typed while `gemloom chat` starts, before Textual takes the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

try:
    import termios
except ImportError:  # Windows: Textual's driver there reads keys its own way
    termios = None  # type: ignore[assignment]


@contextmanager
def typeahead_kept(fd: int | None = None) -> Iterator[None]:
    """Until Textual takes the terminal, keep keys as it reads them; restore the modes after.

    Start-up imports take about a second. In the terminal's line mode a key typed meanwhile is
    echoed over the shell's screen and Enter arrives as a newline (ctrl+j: a new line in the
    prompt, not a send). Without line mode, echo and CR-to-NL, Enter stays Enter.
    """
    before = None
    fd = sys.stdin.fileno() if fd is None else fd
    if termios is not None and os.isatty(fd):
        with suppress(termios.error):
            before = termios.tcgetattr(fd)
    if before is None:
        yield
        return
    early = termios.tcgetattr(fd)
    early[0] &= ~termios.ICRNL
    early[3] &= ~(termios.ICANON | termios.ECHO)
    termios.tcsetattr(fd, termios.TCSANOW, early)  # TCSANOW: what was typed stays queued
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)
