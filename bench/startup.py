"""Start-up time of `gemloom --version`, `--help` and `doctor` beside their floors, in one run.

Every command runs as a whole process, interleaved with the floors `python -c pass` (the
interpreter) and `python -c "import typer"` (the CLI library), so a load that other work puts on
the machine falls on all of them alike. Each figure is printed as the median wall time and the
median CPU time (user + sys of the child process, which the machine's load inflates far less),
then the median of the pairwise ratios against each floor. `doctor` runs against a loopback
port nothing listens on, so its network check fails at once (connection refused): what is left
is its start-up before the network. It reads the settings (one pydantic model) first, and a
plain `gemloom doctor` does not load typer, so it also runs beside `python -c "import pydantic"`
with one small model validated.

Run: .venv/bin/python bench/startup.py [--runs 11] [--before OTHER/.venv/bin/gemloom]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gemloom.errors import ExitCode

GOALS = {"--version": 0.3, "--help": 0.3, "doctor": 0.5}
FLOORS = {"pass": "pass", "typer": "import typer"}
OWN_FLOORS = {
    "doctor": {"pydantic": "import pydantic\nclass M(pydantic.BaseModel):\n    x: int = 0\nM()"}
}
"""What a command cannot do without: doctor reads the settings, one pydantic model."""


@dataclass
class Runs:
    """Wall and CPU seconds of each run of one command."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def _dead_host() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(argv: list[str], env: dict[str, str], runs: Runs | None = None) -> int:
    """Run once, add its wall and CPU time to `runs`; the exit code."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if runs is not None:
        runs.wall.append(time.perf_counter() - start)
        runs.cpu.append(_children_cpu() - cpu)
    return done.returncode


def _ratio(ours: list[float], floor: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(ours, floor, strict=True))


def _measure(cmd: list[str], floors: dict[str, list[str]], env: dict, n: int) -> dict[str, Runs]:
    """`n` rounds of the command and every floor, interleaved, after one warm-up each."""
    times = {"gemloom": Runs(), **{name: Runs() for name in floors}}
    for argv in (cmd, *floors.values()):
        _run(argv, env)
    for _ in range(n):
        _run(cmd, env, times["gemloom"])
        for name, argv in floors.items():
            _run(argv, env, times[name])
    return times


def _report(name: str, goal: float, times: dict[str, Runs]) -> None:
    ours = times["gemloom"]
    for kind in ("wall", "cpu"):
        mine = getattr(ours, kind)
        cells = [
            f"{floor} {statistics.median(getattr(runs, kind)):5.3f} s "
            f"{_ratio(mine, getattr(runs, kind)):5.2f}x"
            for floor, runs in times.items()
            if floor != "gemloom"
        ]
        print(
            f"gemloom {name:10} {kind:4} {statistics.median(mine):6.3f} s   "
            + "   ".join(cells)
            + f"   goal < {goal} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument(
        "--before", metavar="SCRIPT", help="another install's gemloom script, timed alongside"
    )
    args = parser.parse_args()
    gemloom = str(Path(sys.executable).with_name("gemloom"))
    env = {**os.environ, "OLLAMA_HOST": _dead_host(), "GEMLOOM_OLLAMA_HOST": ""}
    floors = {name: [sys.executable, "-c", code] for name, code in FLOORS.items()}
    shown = ", ".join(f"python -c {code!r}" for code in FLOORS.values())
    load = os.getloadavg()[0]
    print(f"floors: {shown}; {args.runs} interleaved runs each after a warm-up; load {load:.2f}")
    for name, goal in GOALS.items():
        cmd = [gemloom, name]
        code = _run(cmd, env)
        if code != (ExitCode.OK if name.startswith("--") else ExitCode.OLLAMA_UNREACHABLE):
            sys.exit(f"gemloom {name} exited {code}: the benchmark needs a working install")
        own = {key: [sys.executable, "-c", code] for key, code in OWN_FLOORS.get(name, {}).items()}
        if args.before:  # e.g. main's, for a before/after figure measured in the same rounds
            own["before"] = [args.before, name]
        _report(name, goal, _measure(cmd, {**floors, **own}, env, args.runs))


if __name__ == "__main__":
    main()
