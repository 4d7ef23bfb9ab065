"""Meeting ingestion speed: decode+chunk an hour vs a plain PyAV decode, Whisper speed, latency.

One hour of audio is made by repeating espeak-ng speech with pauses and encoded as AAC (.m4a).
The figures, side by side with their baselines and goals:
  1. decode + resample + chunk of the hour vs a plain PyAV decode of the same file (same run);
  2. fallback transcription (faster-whisper tiny.en, int8, 2 threads) real-time factor, measured
     on the first few minutes and extrapolated to the hour;
  3. time from a file's close to its notes, with an instantly answering fake model.

    .venv/bin/python bench/meetings.py [--minutes 60] [--whisper-minutes 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_ollama import FakeOllama, Turn

from gemloom.tools.audio import decode as audio

SENTENCES = (
    "Good morning everyone, let us start with the quarterly budget. "
    "We decided to move the launch to March. Maria will send the report by Friday. "
    "Does anyone know who owns the migration plan? Let us take that offline."
)


def speech_hour(folder: Path, minutes: float) -> Path:
    """espeak-ng speech with pauses, encoded once as 5 min of AAC, then stream-copied to length."""
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), SENTENCES], check=True)
    turn = audio.decode(wav).samples
    gap = np.zeros(audio.RATE * 2, np.int16)
    block = min(minutes, 5.0)
    repeats = int(block * 60 * audio.RATE // (len(turn) + len(gap))) + 1
    samples = np.concatenate([turn, gap] * repeats)[: int(block * 60 * audio.RATE)]
    piece = audio.write(folder / "piece.m4a", samples, "aac", bit_rate=48_000)
    return repeat_packets(piece, folder / "hour.m4a", round(minutes / block))


def repeat_packets(source: Path, target: Path, times: int) -> Path:
    """Concatenate `times` copies of a recording's packets without re-encoding."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        in_stream = src.streams.audio[0]
        out_stream = dst.add_stream_from_template(in_stream)
        packets = [p for p in src.demux(in_stream) if p.dts is not None]
        span = packets[-1].pts + packets[-1].duration - packets[0].pts
        for copy in range(times):
            for packet in packets:
                clone = av.Packet(bytes(packet))
                clone.pts, clone.dts = packet.pts + copy * span, packet.dts + copy * span
                clone.duration, clone.time_base = packet.duration, packet.time_base
                clone.stream = out_stream
                dst.mux(clone)
    return target


def plain_decode(path: Path) -> float:
    """Seconds for PyAV to decode every audio frame, with no resampling or copying."""
    started = time.perf_counter()
    with av.open(str(path)) as container:
        for _ in container.decode(container.streams.audio[0]):
            pass
    return time.perf_counter() - started


def ours(path: Path) -> tuple[float, float, int]:
    """Seconds for decode (to 16 kHz mono), seconds for chunking, number of chunks."""
    started = time.perf_counter()
    decoded = audio.decode(path)
    decoded_at = time.perf_counter()
    chunks = audio.split(decoded)
    return decoded_at - started, time.perf_counter() - decoded_at, len(chunks)


def whisper_rtf(path: Path, minutes: float) -> tuple[float, float]:
    """Audio seconds per wall second for tiny.en on the first `minutes`, and the wall time.

    bench/transcribe.py sets this beside a plain faster-whisper call on the same file.
    """
    from gemloom.tools.audio.transcribe import WhisperTranscriber, transcribe_chunks

    head = audio.Audio(audio.decode(path).samples[: int(minutes * 60 * audio.RATE)])
    transcriber = WhisperTranscriber(words=True)
    chunks = audio.split(head)
    transcriber.transcribe(chunks[0])  # warm up (first call allocates)
    started = time.perf_counter()
    transcribe_chunks(chunks, transcriber)  # as ingest hears them: in batched groups
    wall = time.perf_counter() - started
    return head.seconds / wall, wall


def instant(body: dict) -> Turn:
    """The fake model: a line of transcript for audio, minimal notes for JSON requests."""
    if body["messages"][-1].get("images"):
        return Turn("we decided to move the launch to March", chunk_chars=1 << 20)
    notes = {
        "title": "Sync",
        "summary": "Launch moved.",
        "decisions": [{"decision": "launch in March", "timestamp": "00:00:05"}],
    }
    return Turn(json.dumps(notes), chunk_chars=1 << 20)


def close_to_notes(source: Path, folder: Path, native: bool) -> float:
    """Seconds from the close of a copied recording to its NAME.md, with a watcher running."""
    from rich.console import Console

    from gemloom.llm import LLM
    from gemloom.workflows.meetings.ingest import watch

    fake = FakeOllama().start()
    fake.default = instant
    if not native:
        fake.models["gemma4:12b"].capabilities.remove("audio")
    os.environ.update(OLLAMA_HOST=fake.url, GEMLOOM_HOME=str(folder / "home"))
    inbox, out, stop = folder / "inbox", folder / "out", threading.Event()
    inbox.mkdir()
    thread = threading.Thread(
        target=watch,
        args=(inbox, out),
        kwargs={"llm": LLM(), "stop": stop, "console": Console(file=io.StringIO())},
        daemon=True,
    )
    thread.start()
    time.sleep(0.5)
    target = inbox / source.name
    shutil.copyfile(source, target)  # returns after the close
    closed = time.perf_counter()
    notes = out / f"{source.stem}.md"
    while not notes.exists():
        time.sleep(0.01)
    latency = time.perf_counter() - closed
    stop.set()
    thread.join()
    fake.stop()
    return latency


def minute_clip(source: Path, folder: Path) -> Path:
    """The first minute of the hour, as WAV."""
    samples = audio.decode(source).samples[: 60 * audio.RATE]
    return audio.write(folder / "minute.wav", samples, "pcm_s16le")


def main() -> None:
    """Run every measurement and print the figures beside their baselines and goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--whisper-minutes", type=float, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("load average before the run: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        made = time.perf_counter()
        hour = speech_hour(folder, args.minutes)
        print(
            f"made {args.minutes:g} min of espeak-ng speech as {hour.name} "
            f"({hour.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - made:.1f} s"
        )
        baseline = plain_decode(hour)
        dec, chunk, count = ours(hour)
        print(f"plain PyAV decode (baseline)       {baseline:6.2f} s")
        print(f"gemloom decode to 16 kHz mono      {dec:6.2f} s")
        print(f"gemloom chunking ({count} chunks)      {chunk:6.2f} s")
        print(f"decode + chunk total               {dec + chunk:6.2f} s   goal < 10 s for 60 min")
        print("load average now: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        rtf, wall = whisper_rtf(hour, args.whisper_minutes)
        print(
            f"tiny.en on {args.whisper_minutes:g} min: {wall:.1f} s wall = {rtf:.1f}x real time "
            f"(goal >= 20x); extrapolated: {args.minutes * 60 / rtf:.0f} s for "
            f"{args.minutes:g} min, measured only on the first {args.whisper_minutes:g} min"
        )
        clip = minute_clip(hour, folder)
        for label, source, native in (
            ("1 min WAV, native (instant fake)", clip, True),
            ("1 min WAV, fallback tiny.en", clip, False),
            (f"{args.minutes:g} min m4a, native (instant fake)", hour, True),
        ):
            sub = folder / label.replace(" ", "_").replace(",", "").replace("(", "").replace(
                ")", ""
            )
            sub.mkdir()
            print(f"close -> notes, {label:36s} {close_to_notes(source, sub, native):6.2f} s")


if __name__ == "__main__":
    main()
