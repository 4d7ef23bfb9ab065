"""Speaker diarization: share of speech time labelled with the right speaker, and its cost.

Dialogues of two and three espeak-ng voices (pitch and formants moved with sox) with a known
ground truth are diarized with the numpy GE2E encoder; the share of true speech time whose label
maps to the true speaker (best one-to-one mapping) is printed beside the goal of 0.9, and the
diarization time beside the offline Whisper transcription time of the same recording (and
Whisper's time with word timestamps, which the meeting pipeline asks for when it labels speakers).

    .venv/bin/python bench/diarization.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dialogue import LINES, labelled_fraction, make_dialogue

from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.diarize import diarize
from gemloom.tools.audio.speaker_encoder import SpeakerEncoder
from gemloom.tools.audio.transcribe import WhisperTranscriber, transcribe_chunks

GOAL = 0.9


def _timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run(voices: int, repeat: int, folder: Path, encoder, whisper, worded) -> None:
    """Make a dialogue, diarize and transcribe it, print one line of figures."""
    path = folder / f"dialogue{voices}.wav"
    truth = make_dialogue(path, voices, LINES * repeat)
    decoded = audio.decode(path)
    turns, t_diarize = _timed(lambda: diarize(decoded.samples, encoder))
    _, t_whisper = _timed(lambda: transcribe_chunks(audio.split(decoded), whisper))
    _, t_words = _timed(lambda: transcribe_chunks(audio.split(decoded), worded))
    found = [(t.start, t.end, t.speaker) for t in turns]
    share = labelled_fraction(truth, found)
    print(
        f"{voices} voices, {decoded.seconds:5.1f} s: right speaker {share:.3f} of speech time "
        f"(goal {GOAL}), {len({t.speaker for t in turns})} speakers found; diarization "
        f"{t_diarize:.2f} s vs transcription {t_whisper:.2f} s "
        f"(ratio {t_diarize / t_whisper:.2f}x); with word times (needed to split lines at "
        f"speaker changes) transcription takes {t_words:.2f} s ({t_words / t_whisper:.2f}x)"
    )


def main() -> None:
    """Two and three voices, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="the dialogue script this often")
    args = parser.parse_args()
    encoder, whisper = SpeakerEncoder(), WhisperTranscriber()
    worded = WhisperTranscriber(words=True)
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.wav"  # loads the VAD and Whisper once, outside the timings
        make_dialogue(warm, 2, LINES[:2])
        diarize(audio.decode(warm).samples, encoder)
        transcribe_chunks(audio.split(audio.decode(warm)), whisper)
        for voices in (2, 3):
            run(voices, args.repeat, Path(tmp), encoder, whisper, worded)


if __name__ == "__main__":
    main()
