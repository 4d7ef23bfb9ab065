"""What a recording's header states: WAV RIFF and data sizes, MP4 boxes and moov duration."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from gemloom.tools.audio import decode as audio
from gemloom.workflows.meetings.complete import stated, truncation

TONE = (np.sin(np.arange(16_000 * 4) / 9) * 6000).astype(np.int16)


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> bytes:
    return audio.write(tmp_path_factory.mktemp("w") / "a.wav", TONE, "pcm_s16le").read_bytes()


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return audio.write(tmp_path_factory.mktemp("m") / "a.mp4", TONE, "aac").read_bytes()


def put(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_whole_wav_states_its_size_and_seconds(tmp_path, wav) -> None:
    info = stated(put(tmp_path, "a.wav", wav))
    assert info.complete and info.size == len(wav) and info.seconds == pytest.approx(4.0)


@pytest.mark.parametrize("cut", [1, 11, 44, 100, -1])
def test_a_wav_short_of_its_riff_size_is_incomplete(tmp_path, wav, cut) -> None:
    assert not stated(put(tmp_path, "a.wav", wav[:cut])).complete


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_a_streaming_wav_header_states_nothing(tmp_path, wav, size) -> None:
    data = wav[:4] + struct.pack("<I", size) + wav[8:]
    info = stated(put(tmp_path, "a.wav", data))
    assert info.complete and info.size is None


def test_a_whole_mp4_has_its_moov_and_duration(tmp_path, mp4) -> None:
    info = stated(put(tmp_path, "a.mp4", mp4))
    assert info.complete and info.size == len(mp4)
    assert info.seconds == pytest.approx(4.0, abs=0.1)


def test_an_mp4_without_its_moov_or_short_of_a_box_is_incomplete(tmp_path, mp4) -> None:
    moov = mp4.rfind(b"moov") - 4
    assert not stated(put(tmp_path, "a.mp4", mp4[:moov])).complete  # moov not yet written
    assert not stated(put(tmp_path, "b.mp4", mp4[:-10])).complete  # moov cut short


def test_an_mdat_of_size_zero_runs_to_the_end_and_is_incomplete(tmp_path) -> None:
    ftyp = struct.pack(">I4s", 16, b"ftyp") + b"isom\x00\x00\x02\x00"
    mdat = struct.pack(">I4s", 0, b"mdat") + b"\x00" * 64
    assert not stated(put(tmp_path, "a.mov", ftyp + mdat)).complete


def test_a_64_bit_box_size_is_read(tmp_path) -> None:
    ftyp = struct.pack(">I4s", 16, b"ftyp") + b"isom\x00\x00\x02\x00"
    big = struct.pack(">I4sQ", 1, b"mdat", 16 + 8) + b"\x00" * 8
    moov = struct.pack(">I4s", 8, b"moov")
    info = stated(put(tmp_path, "a.m4a", ftyp + big + moov))
    assert info.complete and info.size == 16 + 24 + 8


def test_formats_that_state_nothing_and_noise_count_as_complete(tmp_path) -> None:
    assert stated(put(tmp_path, "a.ogg", b"OggS" + b"\x00" * 100)).complete
    assert stated(put(tmp_path, "a.mp4", b"\xff" * 64)).complete  # decoding will say
    assert truncation(put(tmp_path, "b.ogg", b"OggS"), 1.0) is None


def test_truncation_is_silent_when_the_decoded_length_matches(tmp_path, wav) -> None:
    path = put(tmp_path, "a.wav", wav)
    assert truncation(path, 4.0) is None and truncation(path, 3.9) is None
    assert "only 2.0 s of the 4.0 s" in truncation(path, 2.0)
