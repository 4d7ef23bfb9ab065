"""Speakers on a transcript: segments split at speaker changes, labels given, labels renamed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from gemloom.errors import GemloomError
from gemloom.tools.audio.decode import Audio
from gemloom.tools.audio.diarize import SpeakerTurn, diarize, speaker_at
from gemloom.tools.audio.speaker_encoder import SpeakerEncoder
from gemloom.tools.audio.speaker_weights import (
    SpeakerWeightsUnavailable,
    load_weights,
    weights_path,
)
from gemloom.tools.audio.transcript import Segment

NOT_LABELLED = "speakers were not labelled: {why}"
_encoders: dict[Path | None, SpeakerEncoder] = {}
_lock = threading.Lock()


class BadRename(GemloomError):
    """A rename is not of the form 'Speaker 1=Name'."""


def speakers_enabled() -> bool:
    """Whether speaker-encoder weights are there to label speakers with."""
    return weights_path() is not None


def encoder() -> SpeakerEncoder:
    """The speaker encoder, loaded once per weights file (raises SpeakerWeightsUnavailable)."""
    path = weights_path()
    with _lock:
        if path not in _encoders:
            _encoders[path] = SpeakerEncoder(load_weights(path))
        return _encoders[path]


def speaker_turns(audio: Audio, speakers: int | None = None) -> tuple[list[SpeakerTurn], str]:
    """Who spoke when, and '' or why speakers could not be labelled."""
    try:
        return diarize(audio.samples, encoder(), speakers), ""
    except SpeakerWeightsUnavailable as exc:
        return [], NOT_LABELLED.format(why=exc)


def _split(seg: Segment, turns: Sequence[SpeakerTurn]) -> list[Segment]:
    """One segment per run of words by one speaker."""
    runs: list[list[tuple[float, float, str]]] = []
    names: list[str | None] = []
    for word in seg.words:
        name = speaker_at(turns, word[0], word[1])
        if runs and names[-1] == name:
            runs[-1].append(word)
        else:
            runs.append([word])
            names.append(name)
    return [
        Segment(run[0][0], run[-1][1], "".join(w[2] for w in run).strip(), name, tuple(run))
        for run, name in zip(runs, names, strict=True)
        if "".join(w[2] for w in run).strip()
    ]


def label_segments(segments: Sequence[Segment], turns: Sequence[SpeakerTurn]) -> list[Segment]:
    """Segments labelled with their speaker, split where the speaker changes mid-segment."""
    if not turns:
        return list(segments)
    out: list[Segment] = []
    for seg in segments:
        if seg.words:
            out += _split(seg, turns)
        else:
            out.append(Segment(seg.start, seg.end, seg.text, speaker_at(turns, seg.start, seg.end)))
    return out


def parse_renames(pairs: Sequence[str]) -> dict[str, str]:
    """'Speaker 1=Priya' pairs as a mapping; a clear error for anything else."""
    renames = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise BadRename(f"'{pair}' is not a rename: write it as \"Speaker 1=Priya\".")
        renames[old.strip()] = new.strip()
    return renames


def rename(segments: Sequence[Segment], renames: dict[str, str]) -> list[Segment]:
    """The segments with speakers renamed."""
    return [
        Segment(s.start, s.end, s.text, renames.get(s.speaker, s.speaker) if s.speaker else None)
        for s in segments
    ]
