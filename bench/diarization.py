"""Speaker diarization: share of speech time labelled with the right speaker, and its cost.

Dialogues of two and three espeak-ng voices (pitch and formants moved with sox) with a known
ground truth are diarized with the numpy GE2E encoder; the share of true speech time whose label
maps to the true speaker (best one-to-one mapping) is printed beside the goal of 0.9, and the
diarization time beside the offline Whisper transcription time of the same recording (and
Whisper's time with word timestamps, which the meeting pipeline asks for when it labels speakers).
When Resemblyzer 0.1.4's original `pretrained.pt` is at hand (`--pt PATH`, or an installed
resemblyzer wheel), the same dialogues are also diarized with it, so the float16 `.npz` that
gemloom ships is compared with the float32 original in the same run.

    .venv/bin/python bench/diarization.py [--repeat 1] [--gap 0.4] [--pt PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dialogue import GAP_SECONDS, LINES, labelled_fraction, make_dialogue

from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.diarize import diarize
from gemloom.tools.audio.speaker_convert import installed_pretrained
from gemloom.tools.audio.speaker_encoder import SpeakerEncoder
from gemloom.tools.audio.speaker_weights import VENDORED, load_weights
from gemloom.tools.audio.transcribe import WhisperTranscriber, transcribe_chunks

GOAL = 0.9


def _timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def original(path: Path | None, samples, truth) -> str:
    """The share the original float32 weights reach on the same dialogue, or why not measured."""
    if path is None:
        return "(no pretrained.pt to compare with: --pt PATH)"
    turns = diarize(samples, SpeakerEncoder(load_weights(path)))
    share = labelled_fraction(truth, [(t.start, t.end, t.speaker) for t in turns])
    return f"(original pretrained.pt: {share:.3f}, {len({t.speaker for t in turns})} speakers)"


def run(voices: int, args: argparse.Namespace, folder: Path, encoder, whisper, worded) -> None:
    """Make a dialogue, diarize and transcribe it, print one line of figures."""
    path = folder / f"dialogue{voices}.wav"
    truth = make_dialogue(path, voices, LINES * args.repeat, gap=args.gap)
    decoded = audio.decode(path)
    turns, t_diarize = _timed(lambda: diarize(decoded.samples, encoder))
    compared = original(args.pt, decoded.samples, truth)
    _, t_whisper = _timed(lambda: transcribe_chunks(audio.split(decoded), whisper))
    _, t_words = _timed(lambda: transcribe_chunks(audio.split(decoded), worded))
    found = [(t.start, t.end, t.speaker) for t in turns]
    share = labelled_fraction(truth, found)
    print(
        f"{voices} voices, {decoded.seconds:5.1f} s: right speaker {share:.3f} of speech time "
        f"(goal {GOAL}) {compared}, {len({t.speaker for t in turns})} speakers found; diarization "
        f"{t_diarize:.2f} s vs transcription {t_whisper:.2f} s "
        f"(ratio {t_diarize / t_whisper:.2f}x); with word times (needed to split lines at "
        f"speaker changes) transcription takes {t_words:.2f} s ({t_words / t_whisper:.2f}x)"
    )


def main() -> None:
    """Two and three voices, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="the dialogue script this often")
    parser.add_argument("--gap", type=float, default=GAP_SECONDS, help="seconds between turns")
    parser.add_argument("--pt", type=Path, default=installed_pretrained(), help="original weights")
    args = parser.parse_args()
    encoder, whisper = SpeakerEncoder(), WhisperTranscriber()
    print(f"shipped weights: {VENDORED.name}, {VENDORED.stat().st_size / 1e6:.2f} MB (float16)")
    worded = WhisperTranscriber(words=True)
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.wav"  # loads the VAD and Whisper once, outside the timings
        make_dialogue(warm, 2, LINES[:2])
        diarize(audio.decode(warm).samples, encoder)
        transcribe_chunks(audio.split(audio.decode(warm)), whisper)
        for voices in (2, 3):
            run(voices, args, Path(tmp), encoder, whisper, worded)


if __name__ == "__main__":
    main()
