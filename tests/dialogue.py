"""Spoken dialogues with known speakers: espeak-ng voices, pitch and formants moved with sox.

Each voice is a different espeak-ng voice and variant; sox then shifts its pitch and (through a
`speed` change undone by `tempo`) its formants, so the voices differ the way people do, in both
pitch and vocal-tract length. The ground truth is each turn's span in the joined recording.
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
GAP_SECONDS = 0.4


@dataclass(frozen=True)
class Voice:
    """One speaker: an espeak-ng voice, a pitch shift in cents and a formant scale."""

    name: str
    espeak: str
    cents: int = 0
    formant: float = 1.0


VOICES = (
    Voice("Priya", "en-gb-x-rp+f4", cents=-100, formant=1.18),
    Voice("Tom", "en-us+m3", cents=-300, formant=0.92),
    Voice("Ana", "en+klatt2", cents=300, formant=0.95),
)

LINES = (
    (0, "Good morning. Let us start with the release plan for the spring version."),
    (1, "Thanks. The build is green, but the installer still fails on older laptops."),
    (2, "I can look at the installer. I will send a fix by Thursday."),
    (0, "Good. Then we decided to ship on the twentieth of March."),
    (1, "One open question is who owns the migration guide for customers."),
    (2, "I think marketing wrote the last one, we should ask them tomorrow."),
    (0, "Tom, please write the test plan for the new payment page this week."),
    (1, "Yes, I will write the test plan and share it on Friday morning."),
    (2, "Before we end, the budget for the conference trip is still not approved."),
    (0, "I will talk to finance about the budget today. Thank you all."),
)


@dataclass(frozen=True)
class Turn:
    """Ground truth: who spoke from `start` to `end` seconds, and what."""

    start: float
    end: float
    speaker: str
    text: str


def _say(voice: Voice, text: str, out: Path) -> np.ndarray:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice.espeak, "-s", "165", "-w", str(raw), text], check=True)
    effects = ["pitch", str(voice.cents)]
    if voice.formant != 1.0:  # resampling moves formants; tempo restores the length
        effects += ["speed", f"{voice.formant:.3f}", "tempo", "-s", f"{1 / voice.formant:.3f}"]
    cmd = ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out), *effects]
    subprocess.run(cmd, check=True, capture_output=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def _trim(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def make_dialogue(
    path: Path, voices: int = 3, lines: tuple = LINES, gap: float = GAP_SECONDS
) -> list[Turn]:
    """Write a dialogue of the first `voices` voices to `path` (16 kHz WAV); its ground truth."""
    work = path.parent / f".{path.stem}-parts"
    work.mkdir(exist_ok=True)
    pieces, turns, at = [np.zeros(int(RATE * gap), np.int16)], [], gap
    for n, (who, text) in enumerate(lines):
        voice = VOICES[who % voices]
        speech = _trim(_say(voice, text, work / f"{n}.wav"))
        turns.append(Turn(at, at + len(speech) / RATE, voice.name, text))
        pieces += [speech, np.zeros(int(RATE * gap), np.int16)]
        at += len(speech) / RATE + gap
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.concatenate(pieces).tobytes())
    return turns


def labelled_fraction(truth: list[Turn], found: list[tuple[float, float, str]]) -> float:
    """Share of true speech time whose found label maps to the true speaker (best 1:1 mapping)."""
    step = 0.01
    names = sorted({t.speaker for t in truth})
    labels = sorted({s for _, _, s in found})
    overlap = np.zeros((len(names), max(len(labels), 1)))
    total = 0.0
    for t in truth:
        total += t.end - t.start
        for a, b, s in found:
            overlap[names.index(t.speaker), labels.index(s)] += max(
                0.0, min(b, t.end) - max(a, t.start)
            )
    best = _best_mapping(overlap)
    return best / total if total > step else 0.0


def _best_mapping(overlap: np.ndarray) -> float:
    """The largest total overlap of a one-to-one mapping of true to found speakers."""
    from itertools import permutations

    rows, cols = overlap.shape
    if cols < rows:
        overlap = np.pad(overlap, ((0, 0), (0, rows - cols)))
        cols = rows
    return max(
        sum(overlap[r, c] for r, c in zip(range(rows), perm, strict=False))
        for perm in permutations(range(cols), rows)
    )
