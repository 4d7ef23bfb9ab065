"""Session step time on PostgreSQL vs the embedded SQLite file: one 20-step tool loop each.

Both stores drive the same graph against one instantly answering fake Ollama server (in its own
process), so the difference is the checkpoint store: SQLite (WAL, synchronous=normal) in the data
directory, or LangGraph's PostgresSaver on a local server from Debian's postgresql package (a
throw-away initdb cluster on loopback, fsync on as a real server has it). Rounds are interleaved;
the loop itself is bench/tool_loop.py, shared with bench/agent_overhead.py.

    .venv/bin/python bench/session_store.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from postgres_server import PostgresServer
from tool_loop import STEPS, Timed, fake_server, session_loop, workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sqlite, pg = Timed(), Timed()
    postgres = PostgresServer(fsync=True).start()
    try:
        with fake_server() as url, workspace(url) as folder:
            session_loop(folder, Timed(), postgres.url)  # set-up (migrations) is not a step
            for _ in range(args.rounds):
                session_loop(folder, sqlite)
                session_loop(folder, pg, postgres.url)
    finally:
        postgres.stop()
    sqlite_ms = statistics.median(sqlite.wall) * 1000 / STEPS
    pg_ms = statistics.median(pg.wall) * 1000 / STEPS
    print(f"{STEPS}-step tool loop, median of {args.rounds} rounds, per step (wall)")
    print(f"  SQLite file (WAL)      : {sqlite_ms:6.2f} ms/step")
    print(f"  PostgreSQL (loopback)  : {pg_ms:6.2f} ms/step")
    print(f"  ratio PostgreSQL/SQLite: {pg_ms / sqlite_ms:.2f}x")


if __name__ == "__main__":
    main()
