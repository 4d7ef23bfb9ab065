"""Timed transcript segments: stitching overlapping chunks, and SRT/WebVTT rendering."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_SEAM_WORDS = 5  # the longest run of words a 1 s overlap can repeat


@dataclass(frozen=True)
class Segment:
    """A piece of transcript with its time in the recording, in seconds."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    # (start, end, word) from Whisper's word timestamps, for splitting at speaker changes
    words: tuple[tuple[float, float, str], ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, float | str]:
        """A JSON-ready form (`speaker` only when the recording was diarized)."""
        data: dict[str, float | str] = {"start": self.start, "end": self.end, "text": self.text}
        if self.speaker is not None:
            data["speaker"] = self.speaker
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Segment:
        """The inverse of `to_dict`."""
        speaker = data.get("speaker")
        return cls(
            float(data["start"]), float(data["end"]), str(data["text"]), speaker and str(speaker)
        )

    @property
    def said(self) -> str:
        """The text, led by its speaker when known."""
        return f"{self.speaker}: {self.text}" if self.speaker else self.text


def _words(text: str) -> list[str]:
    return [re.sub(r"[^\w']", "", w).lower() for w in text.split()]


def _seam(previous: str, text: str) -> str:
    """`text` without its leading words that repeat the end of `previous`."""
    before, after = _words(previous), _words(text)
    for size in range(min(MAX_SEAM_WORDS, len(before), len(after)), 0, -1):
        if before[-size:] == after[:size] and any(before[-size:]):
            return " ".join(text.split()[size:])
    return text


def stitch(chunks: Sequence[tuple[float, float, Sequence[Segment]]]) -> list[Segment]:
    """One transcript from per-chunk segments given as (chunk start, chunk end, segments).

    Where two chunks overlap, the overlap is the earlier chunk's: each chunk keeps the segments
    whose part after the cut before it (the previous chunk's end, a quiet point) has its middle
    before its own end. Words the first kept segment of a chunk repeats from the end of the
    previous chunk (within the overlap) are dropped once.
    """
    merged: list[Segment] = []
    for i, (_, end, segments) in enumerate(chunks):
        lo = chunks[i - 1][1] if i else float("-inf")
        hi = end if i + 1 < len(chunks) else float("inf")
        first = True
        for seg in segments:
            if seg.end <= lo or not lo <= (max(seg.start, lo) + seg.end) / 2 < hi:
                continue
            text = seg.text
            if first and merged and i and seg.start < chunks[i - 1][1]:
                text = _seam(merged[-1].text, text)
            first = False
            if text.strip():
                begin = max(seg.start, merged[-1].end) if merged else seg.start
                words = seg.words[len(seg.text.split()) - len(text.split()) :]
                merged.append(Segment(begin, max(seg.end, begin), text.strip(), words=words))
    return merged


def clock(seconds: float, sep: str = ".", hours: bool = True) -> str:
    """HH:MM:SS.mmm (or with a comma for SRT)."""
    millis = round(max(seconds, 0.0) * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}" if hours else f"{m:02d}:{s:02d}{sep}{ms:03d}"


def stamp(seconds: float) -> str:
    """HH:MM:SS, the form notes cite."""
    return clock(seconds)[:8]


def to_srt(segments: Sequence[Segment]) -> str:
    """SubRip subtitles."""
    blocks = [
        f"{n}\n{clock(s.start, ',')} --> {clock(s.end, ',')}\n{s.said}\n"
        for n, s in enumerate(segments, 1)
    ]
    return "\n".join(blocks)


def _voice(s: Segment) -> str:
    """A WebVTT cue's text, with a voice span when the speaker is known."""
    return f"<v {s.speaker}>{s.text}" if s.speaker else s.text


def to_vtt(segments: Sequence[Segment]) -> str:
    """WebVTT subtitles."""
    cues = [f"{clock(s.start)} --> {clock(s.end)}\n{_voice(s)}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_lines(segments: Sequence[Segment]) -> list[str]:
    """'[HH:MM:SS] text' lines, the form the summariser reads."""
    return [f"[{stamp(s.start)}] {s.said}" for s in segments]
