"""Meeting throughput: 2 `gemloom watch` workers on one PostgreSQL queue against 1, same run.

20 short distinct recordings (espeak-ng speech with pauses, one or two chunks each) land in a
shared folder whose workers are already watching. Each worker is a process with its own data
dir and its own fake Ollama (tests/fake_ollama.py) that takes --model-seconds per transcribed
chunk, as each machine of a team has its own model server. The baselines: one worker with
the local SQLite ledger (no queue), and one worker on the queue. The figure is recordings per
minute from the copy of the first file to the notes of the last. The model time is simulated;
the workers' own work (decoding, speaker labels, writing notes) is real and shares this
machine's cores, which two machines would not.

Run: .venv/bin/python bench/shared_queue.py [--recordings 20] [--model-seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_ollama import FakeOllama, Turn
from postgres_server import PostgresServer
from reference import SPEECH

from gemloom.tools.audio import decode as audio

CHILD = (
    "import sys; from pathlib import Path; "
    "from gemloom.cli.meetings import watch_command; "
    "watch_command(Path(sys.argv[1]), Path(sys.argv[2]), False)"
)


def answer(seconds: float):
    """The fake model: a transcript line after `seconds` for audio, minimal notes at once."""

    def respond(body: dict) -> Turn:
        if body["messages"][-1].get("images"):
            turn = Turn("we decided to move the launch to March", chunk_chars=1 << 20)
            turn.delay = seconds
            return turn
        notes = {"title": "Sync", "summary": "Launch moved.", "decisions": []}
        return Turn(json.dumps(notes), chunk_chars=1 << 20)

    return respond


def recordings(folder: Path, count: int) -> list[Path]:
    """`count` distinct short recordings: the speech, with a different pause after each turn."""
    speech = audio.decode(SPEECH).samples
    made = []
    for n in range(count):
        gap = np.zeros(int((0.5 + 0.1 * n) * audio.RATE), np.int16)
        samples = np.concatenate([speech, gap] * (1 + n % 3))
        made.append(
            audio.write(folder / f"meeting-{n:02}.ogg", samples, "libopus", bit_rate=24_000)
        )
    return made


def run(files: list[Path], workers: int, queue: str | None, seconds: float, root: Path) -> float:
    """Seconds from the first copy to the last notes, with `workers` watchers already up."""
    inbox, out = root / "inbox", root / "inbox" / "notes"
    inbox.mkdir(parents=True)
    fakes = [FakeOllama().start() for _ in range(workers)]
    procs = []
    for i, fake in enumerate(fakes):
        fake.default = answer(seconds)
        home = root / f"machine-{i}"
        home.mkdir()
        env = {**os.environ, "GEMLOOM_HOME": str(home), "OLLAMA_HOST": fake.url,
               "GEMLOOM_WATCH_SETTLE_SECONDS": "0.3"}  # fmt: skip
        if queue:
            env["GEMLOOM_QUEUE_URL"] = queue
        log = (home / "watch.log").open("wb")
        command = [sys.executable, "-c", CHILD, str(inbox), str(out)]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((proc, log, home))
    try:
        for _, _, home in procs:
            while b"watching" not in (home / "watch.log").read_bytes():
                time.sleep(0.1)
        time.sleep(1.0)  # past start-up: the observers run
        started = time.perf_counter()
        for path in files:
            shutil.copy(path, inbox / f".{path.name}.part")
            os.replace(inbox / f".{path.name}.part", inbox / path.name)
        wanted = {f"{p.stem}.json" for p in files}
        while not wanted <= {p.name for p in out.glob("*.json")}:
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        for proc, log, _ in procs:
            proc.terminate()
            proc.wait(30)
            log.close()
        for fake in fakes:
            fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=20)
    parser.add_argument("--model-seconds", type=float, default=1.0)
    args = parser.parse_args()
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            files = recordings(folder, args.recordings)
            chunks = sum(len(audio.split(audio.decode(p))) for p in files)
            model = args.model_seconds
            print(f"{len(files)} recordings, {chunks} chunks, {model} s model time per chunk")
            results = {
                "1 worker, local ledger": run(files, 1, None, model, folder / "local"),
                "1 worker, queue": run(files, 1, server.database("one"), model, folder / "one"),
                "2 workers, queue": run(files, 2, server.database("two"), model, folder / "two"),
            }
    finally:
        server.stop()
    base = results["1 worker, queue"]
    for label, wall in results.items():
        rate = len(files) / wall * 60
        ratio = base / wall
        print(f"{label:24} {wall:6.1f} s   {rate:5.1f} recordings/min   throughput x{ratio:4.2f}")


if __name__ == "__main__":
    main()
