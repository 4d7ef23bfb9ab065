"""Session step time on PostgreSQL vs the embedded SQLite file: one 20-step tool loop each.

Both stores drive the same graph against one instantly answering fake Ollama server (in its own
process), so the difference is the checkpoint store: SQLite (WAL, synchronous=normal) in the data
directory, or LangGraph's PostgresSaver on a local server from Debian's postgresql package (a
throw-away initdb cluster on loopback, fsync on as a real server has it). Rounds are interleaved.

    .venv/bin/python bench/session_store.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent_overhead import STEPS, responder
from fake_ollama import FakeOllama
from postgres_server import PostgresServer


def session_loop(workspace: Path, sessions_url: str | None) -> float:
    """Seconds for one 20-step turn of a fresh session on the chosen store."""
    from gemloom.agents.graph import AgentConfig
    from gemloom.agents.sessions import Sessions
    from gemloom.llm import LLM
    from gemloom.settings import load_settings
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import Registry

    settings = load_settings(sessions_url=sessions_url)
    sessions = Sessions(
        settings,
        llm=LLM(settings),
        registry=Registry([read_file]),
        workspace=workspace,
        config=AgentConfig(max_steps=STEPS + 5),
    )
    sessions.llm.model_info()  # cached per process, not per step
    sid = sessions.create()
    start = time.perf_counter()
    list(sessions.send(sid, "go"))
    elapsed = time.perf_counter() - start
    tools = sum(1 for m in sessions.messages(sid) if m["role"] == "tool")
    assert tools == STEPS, f"expected {STEPS} tool results, got {tools}"
    sessions.store.close()
    return elapsed


def serve() -> None:
    """Run the fake server in this process until stdin closes."""
    server = FakeOllama().start()
    server.default = responder
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = fake.stdout.readline().strip()
    postgres = PostgresServer(fsync=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            workspace = root / "ws"
            workspace.mkdir()
            (workspace / "a.txt").write_text("".join(f"line {i}\n" for i in range(100)))
            os.environ.update(OLLAMA_HOST=url, GEMLOOM_HOME=str(root / "home"))
            session_loop(workspace, postgres.url)  # set-up (migrations) is not a step
            sqlite, pg = [], []
            for _ in range(args.rounds):
                sqlite.append(session_loop(workspace, None))
                pg.append(session_loop(workspace, postgres.url))
    finally:
        postgres.stop()
        fake.communicate("")
    sqlite_ms = statistics.median(sqlite) * 1000 / STEPS
    pg_ms = statistics.median(pg) * 1000 / STEPS
    print(f"{STEPS}-step tool loop, median of {args.rounds} rounds, per step")
    print(f"  SQLite file (WAL)      : {sqlite_ms:6.2f} ms/step")
    print(f"  PostgreSQL (loopback)  : {pg_ms:6.2f} ms/step")
    print(f"  ratio PostgreSQL/SQLite: {pg_ms / sqlite_ms:.2f}x")


if __name__ == "__main__":
    main()
