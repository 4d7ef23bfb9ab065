"""Whether a recording is whole, from the length its own header states.

A WAV file says its size in the RIFF header and its duration in the data chunk; an MP4 (or
MOV, M4A) is a list of boxes, each saying its size, and is playable only once its `moov` box
has been written (usually last). Other formats say nothing, and only a quiet period tells.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

WAV = frozenset({".wav"})
MP4 = frozenset({".mp4", ".m4a", ".m4v", ".mov", ".3gp"})
UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave these until they close the file
MAX_MOOV = 64 << 20  # a moov box larger than this is not read for its duration


@dataclass(frozen=True)
class Stated:
    """What a recording's header says about it; None where the format does not say."""

    size: int | None = None  # bytes the whole file must have
    seconds: float | None = None
    complete: bool = True  # False while the stated length is not reached


def stated(path: Path) -> Stated:
    """What the header of `path` states; a format that states nothing counts as complete."""
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if suffix in WAV:
                return _wav(handle, size)
            if suffix in MP4:
                return _mp4(handle, size)
    except (OSError, struct.error):
        return Stated(complete=False)
    return Stated()


def _wav(handle: BinaryIO, size: int) -> Stated:
    head = handle.read(12)
    if len(head) < 12:
        return Stated(complete=False)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return Stated()  # RF64 or not a WAV at all: decoding will say
    riff = struct.unpack("<I", head[4:8])[0]
    total = None if riff in UNKNOWN_SIZES else riff + 8
    seconds = _wav_seconds(handle, size)
    return Stated(total, seconds, total is None or size >= total)


def _wav_seconds(handle: BinaryIO, size: int) -> float | None:
    byte_rate, offset = 0, 12
    while offset + 8 <= size:
        handle.seek(offset)
        kind, length = struct.unpack("<4sI", handle.read(8))
        if kind == b"fmt ":
            byte_rate = struct.unpack("<I", handle.read(12)[8:12])[0]
        elif kind == b"data":
            if length in UNKNOWN_SIZES or not byte_rate:
                return None
            return length / byte_rate
        offset += 8 + length + (length & 1)
    return None


def _mp4(handle: BinaryIO, size: int) -> Stated:
    offset, moov = 0, None
    while offset < size:
        handle.seek(offset)
        head = handle.read(16)
        if len(head) < 8:
            return Stated(offset, None, False)
        length, kind = struct.unpack(">I4s", head[:8])
        if length == 1:
            length = struct.unpack(">Q", head[8:16])[0]
        elif length == 0:  # "to the end of the file": an mdat still being written
            length = size - offset
        if length < 8 or not kind.isalnum():
            return Stated() if offset == 0 else Stated(complete=False)
        if kind == b"moov":
            moov = (offset, length)
        offset += length
    seconds = _mp4_seconds(handle, *moov) if moov else None
    return Stated(offset, seconds, moov is not None and offset <= size)


def _mp4_seconds(handle: BinaryIO, start: int, length: int) -> float | None:
    if length > MAX_MOOV:
        return None
    handle.seek(start + 8)
    body = handle.read(length - 8)
    at = body.find(b"mvhd")
    if at < 4:
        return None
    version = body[at + 4]
    if version == 1:
        scale, duration = struct.unpack(">IQ", body[at + 24 : at + 36])
    else:
        scale, duration = struct.unpack(">II", body[at + 16 : at + 24])
    return duration / scale if scale else None


def truncation(path: Path, decoded: float) -> str | None:
    """A warning when less was decoded than the header states, else None."""
    seconds = stated(path).seconds
    if not seconds or decoded >= seconds - max(0.5, 0.02 * seconds):
        return None
    share = 100 * decoded / seconds
    return (
        f"{path.name} looks truncated: only {decoded:.1f} s of the {seconds:.1f} s its header "
        f"states could be decoded ({share:.0f}%); the notes cover that part only"
    )
