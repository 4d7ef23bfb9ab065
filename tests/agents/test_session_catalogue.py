"""`gemloom sessions list` reads SQLite's catalogue as it is, without loading the agent stack."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gemloom.agents.graph import AgentConfig
from gemloom.agents.session_catalogue import listed
from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.llm import LLM
from gemloom.settings import load_settings

PROBE = (
    "import json, sys\n"
    "from gemloom.cli import main\n"
    "code = main(['sessions', 'list'])\n"
    "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]), file=sys.stderr)\n"
)


def _sessions(workspace: Path) -> Sessions:
    settings = load_settings()
    return Sessions(settings, llm=LLM(settings), workspace=workspace, config=AgentConfig())


def test_the_listing_is_the_stores_and_loads_no_agent_stack(fake_ollama, workspace) -> None:
    sessions = _sessions(workspace)
    first = sessions.create("first \x1b]52;c;x\x07 title")  # a control sequence in a title
    second = sessions.fork(first)
    path = load_settings().data_dir / "sessions.sqlite"
    assert listed(path) == sessions.list() and {s.id for s in sessions.list()} == {first, second}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=os.environ, timeout=60, check=False)  # fmt: skip
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0 and first in done.stdout and second in done.stdout
    assert "\x1b" not in done.stdout and "␛]52" in done.stdout  # shown, not obeyed
    assert not {"langgraph", "langchain_core", "ollama", "mcp", "chromadb"} & set(modules)


def test_no_database_yet_lists_nothing_and_creates_nothing(capsys) -> None:
    path = load_settings().data_dir / "sessions.sqlite"
    assert listed(path) == []
    assert main(["sessions", "list"]) == 0
    assert not path.exists()


def test_a_catalogue_from_before_workspaces_goes_through_the_store(fake_ollama, capsys) -> None:
    path = load_settings().data_dir / "sessions.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:  # as gemloom 0.1 made it: no workspace or host
        conn.execute("create table gemloom_sessions (id text primary key, title text not null, "
                     "created real not null, updated real not null, parent text, "
                     "parent_checkpoint text)")  # fmt: skip
        conn.execute("insert into gemloom_sessions values ('old1', 'from 0.1', 1, 2, null, null)")
    conn.close()
    assert listed(path) is None  # the store adds the columns
    assert main(["sessions", "list"]) == 0
    assert "old1" in capsys.readouterr().out
    assert [s.id for s in listed(path) or []] == ["old1"]


def test_a_damaged_database_is_the_stores_one_line_error(capsys) -> None:
    path = load_settings().data_dir / "sessions.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all" * 100)
    assert listed(path) is None
    assert main(["sessions", "list"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Cannot open the sessions database" in err[0]
    assert path.read_bytes() == b"not a database at all" * 100  # left as it was


UNKNOWN = [
    ["sessions", "show"], ["sessions", "export"], ["sessions", "history"], ["sessions", "fork"],
    ["sessions", "resume"], ["run", "hi", "--session"], ["ask", ".", "what?", "--session"],
]  # fmt: skip


@pytest.mark.parametrize("args", UNKNOWN)
def test_an_unknown_session_is_said_before_the_agent_stack_loads(
    fake_ollama, workspace, args, capsys, monkeypatch
) -> None:
    _sessions(workspace).create("the only one")  # the catalogue exists and lacks "nope"
    monkeypatch.chdir(workspace)  # ask's folder
    assert main([*args, "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: No session 'nope': `gemloom sessions list` shows them."]


def test_an_unknown_session_costs_no_agent_stack(fake_ollama, workspace) -> None:
    _sessions(workspace).create("the only one")
    probe = PROBE.replace("['sessions', 'list']", "['sessions', 'show', 'nope']")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=os.environ, timeout=60, check=False)  # fmt: skip
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 1 and "No session 'nope'" in done.stderr
    assert not {"langgraph", "langchain_core", "ollama", "mcp", "chromadb"} & set(modules)
