"""Keys typed while `gemloom chat` starts: the terminal modes around the start-up imports."""

import os
import pty
import select
import termios

import pytest

from gemloom.workflows.tui.typeahead import typeahead_kept


@pytest.fixture
def terminal():
    """A real pseudo-terminal: (the program's side, the keyboard's side)."""
    keyboard, program = pty.openpty()
    yield program, keyboard
    os.close(program)
    os.close(keyboard)


def read_all(fd: int, size: int) -> bytes:
    """What the program reads, until `size` bytes came or nothing more does for a second."""
    got = b""
    while len(got) < size and select.select([fd], [], [], 1.0)[0]:
        got += os.read(fd, size - len(got))
    return got


def modes(fd: int) -> tuple[bool, bool, bool]:
    iflag, _, _, lflag, *_ = termios.tcgetattr(fd)
    return bool(lflag & termios.ICANON), bool(lflag & termios.ECHO), bool(iflag & termios.ICRNL)


def test_enter_typed_during_start_up_stays_enter_and_the_modes_come_back(terminal) -> None:
    program, keyboard = terminal
    assert modes(program) == (True, True, True)  # a shell's usual line mode
    os.write(keyboard, b"before")  # typed before gemloom got to the terminal
    with typeahead_kept(program):
        assert modes(program) == (False, False, False)
        os.write(keyboard, b"\r hi\r")
        assert read_all(program, 11) == b"before\r hi\r"  # nothing dropped, Enter is CR
    assert modes(program) == (True, True, True)


def test_a_pipe_is_left_alone() -> None:
    read, write = os.pipe()
    try:
        with typeahead_kept(read):
            os.write(write, b"x\n")
        assert os.read(read, 10) == b"x\n"
    finally:
        os.close(read)
        os.close(write)
