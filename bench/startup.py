"""Start-up time of `gemloom --version`, `--help` and `doctor` beside `python -c "import typer"`.

Each command runs as a whole process, interleaved with the floor (A B A B ...), and the median
wall time and the median of the pairwise ratios are printed. `doctor` runs against a loopback
port nothing listens on, so its network check fails at once (connection refused).

Run: .venv/bin/python bench/startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOALS = {"--version": 0.3, "--help": 0.3, "doctor": 0.5}


def _dead_host() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    gemloom = str(Path(sys.executable).with_name("gemloom"))
    env = {**os.environ, "OLLAMA_HOST": _dead_host(), "GEMLOOM_OLLAMA_HOST": ""}
    floor_cmd = [sys.executable, "-c", "import typer"]
    print(f"floor: {' '.join(floor_cmd)}; {args.runs} runs each after one warm-up")
    for name, goal in GOALS.items():
        cmd = [gemloom, name]
        _wall(cmd, env), _wall(floor_cmd, env)
        ours, floor = [], []
        for _ in range(args.runs):
            ours.append(_wall(cmd, env))
            floor.append(_wall(floor_cmd, env))
        ratio = statistics.median(a / b for a, b in zip(ours, floor, strict=True))
        print(
            f"gemloom {name:10} median {statistics.median(ours):6.3f} s   floor "
            f"{statistics.median(floor):6.3f} s   ratio {ratio:5.2f}x   goal < {goal} s"
        )


if __name__ == "__main__":
    main()
