"""Session checkpoints as a conversation grows: a step's time and the database's size.

A gemloom session saves each step before the next (so a killed session resumes), and LangGraph
saves a step as a checkpoint of the whole state, the conversation included: two checkpoints a
step (the model's, the tool's). Stored as they come, the database grows with the square of the
conversation; gemloom's SQLite saver (agents/session_saver.py) stores each message once and
lets checkpoints name them. This prints, for turns of N tool steps whose results are about S
bytes each, the wall time of a step for the raw ollama client in a plain loop (the floor: it too
sends the whole conversation every step) and for a gemloom session, side by side, and the
session database's size beside the conversation's own.

    .venv/bin/python bench/session_growth.py [--steps 25 50 100 200] [--result-bytes 3000]

The fake Ollama server (tests/fake_ollama.py) runs in a process of its own and asks for one
`read_file` call a step, each of other lines of one file; results stay far below the model's
context, so no compaction shortens the conversation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from agent_overhead import raw_loop  # the floor: the loop on the raw ollama client
from fake_ollama import FakeOllama, Turn, call
from tool_loop import Timed, fake_server

LINE = "x" * 96  # with its number and newline a line of the result is about 100 bytes


def serve(steps: int, lines: int) -> None:
    """Ask for `steps` read_file calls of `lines` lines each, then answer."""

    def responder(body: dict) -> Turn:
        done = sum(1 for m in body["messages"] if m["role"] == "tool")
        if done >= steps:
            return Turn("finished")
        return Turn(tool_calls=[call("read_file", path="big.txt", start_line=done + 1,
                                     end_line=done + lines)])  # fmt: skip

    server = FakeOllama().start()
    server.default = responder
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def session_loop(folder: Path, steps: int) -> tuple[float, int, int]:
    """Seconds of one turn of a fresh gemloom session, its database's bytes and the
    conversation's (its messages' text)."""
    from gemloom.agents.graph import AgentConfig
    from gemloom.agents.sessions import Sessions
    from gemloom.llm import LLM
    from gemloom.settings import load_settings
    from gemloom.tools.files.tools import read_file
    from gemloom.tools.registry import Registry

    settings = load_settings()
    sessions = Sessions(
        settings, llm=LLM(settings), registry=Registry([read_file]), workspace=folder,
        config=AgentConfig(max_steps=steps + 5),
    )  # fmt: skip
    sessions.llm.model_info()
    sid = sessions.create()
    start = time.perf_counter()
    for _ in sessions.send(sid, "go"):
        pass
    seconds = time.perf_counter() - start
    messages = sessions.messages(sid)
    assert sum(m["role"] == "tool" for m in messages) == steps, "the turn ended early"
    text = sum(len(str(m.get("content") or "")) for m in messages)
    sessions.store.close()
    database = settings.data_dir / "sessions.sqlite"
    size = sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
    database.unlink()  # the next size is of its own session alone
    for extra in database.parent.glob(database.name + "-*"):
        extra.unlink()
    return seconds, size, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--result-bytes", type=int, default=3000)
    args = parser.parse_args()
    lines = max(1, args.result_bytes // (len(LINE) + 4))
    print(f"tool results of about {lines * (len(LINE) + 4):,} bytes; load "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'steps':>6} {'raw ms/step':>12} {'gemloom ms/step':>16} {'ratio':>6} "
          f"{'database MB':>12} {'conversation MB':>16} {'db/conv':>8}")  # fmt: skip
    for steps in args.steps:
        serving = fake_server(__file__, "--serve", str(steps), str(lines))
        with serving as url, tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ws"
            folder.mkdir()
            numbered = "".join(f"{LINE}\n" for _ in range(steps + lines))
            (folder / "big.txt").write_text(numbered)
            os.environ.update(OLLAMA_HOST=url, GEMLOOM_HOME=str(Path(tmp) / "home"))
            if steps == args.steps[0]:  # warm-up: imports, first-use caches
                raw_loop(url, folder, Timed())
                session_loop(folder, steps)
            raw_loop(url, folder, timed := Timed())
            raw = timed.wall[0] / steps * 1000
            ours, size, text = session_loop(folder, steps)
            ours = ours / steps * 1000
            print(f"{steps:>6} {raw:>12.2f} {ours:>16.2f} {ours / raw:>6.2f} "
                  f"{size / 1e6:>12.1f} {text / 1e6:>16.2f} {size / text:>8.0f}")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
