"""Decoding real recordings in many formats, bad files, chunking at quiet points, WAV bytes."""

from __future__ import annotations

import io
import itertools
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.decode import (
    AudioError,
    CorruptRecording,
    EmptyRecording,
    NoAudioStream,
    NotARecording,
)


def make_video(path: Path, samples: np.ndarray | None, vcodec: str = "mpeg4") -> Path:
    """A small real video file with changing frames and, optionally, an audio track."""
    with av.open(str(path), "w") as box:
        video = box.add_stream(vcodec, rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        codec = "libopus" if path.suffix == ".webm" else "aac"
        sound = box.add_stream(codec, rate=48_000) if samples is not None else None
        frames = [np.full((48, 64, 3), 20 * i % 255, np.uint8) for i in range(20)]
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            box.mux(video.encode(frame))
        box.mux(video.encode(None))
        if sound is not None and samples is not None:
            _mux_audio(box, sound, samples)
    return path


def _mux_audio(box: av.container.OutputContainer, stream: av.AudioStream, samples: np.ndarray):
    ctx = stream.codec_context
    resampler = av.AudioResampler(ctx.format, "mono", ctx.rate, frame_size=ctx.frame_size)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.rate = 16_000
    for out in [*resampler.resample(frame), *resampler.resample(None)]:
        box.mux(stream.encode(out))
    box.mux(stream.encode(None))


def test_write_refuses_a_video_codec(tmp_path):
    with pytest.raises(ValueError, match="mpeg4 is not an audio codec"):
        audio.write(tmp_path / "clip.mp4", np.zeros(1600, np.int16), "mpeg4")


@pytest.mark.parametrize(
    ("codec", "suffix"),
    [
        ("pcm_s16le", ".wav"),
        ("mp3", ".mp3"),
        ("aac", ".m4a"),
        ("aac", ".aac"),
        ("libopus", ".ogg"),
        ("libopus", ".opus"),
        ("flac", ".flac"),
    ],
)
def test_audio_formats_decode_to_16k_mono(tmp_path, speech, codec, suffix):
    path = audio.write(tmp_path / f"talk{suffix}", speech.samples, codec)
    decoded = audio.decode(path)
    assert decoded.rate == 16_000 and decoded.samples.dtype == np.int16
    assert decoded.samples.ndim == 1
    assert decoded.seconds == pytest.approx(speech.seconds, abs=0.15)
    assert audio.loudest_dbfs(decoded.samples) > -30  # the speech survived


@pytest.mark.parametrize(
    ("suffix", "vcodec"), [(".mp4", "libx264"), (".mkv", "mpeg4"), (".webm", "libvpx")]
)
def test_audio_track_of_video_decodes(tmp_path, speech, suffix, vcodec):
    decoded = audio.decode(make_video(tmp_path / f"call{suffix}", speech.samples, vcodec))
    assert decoded.seconds == pytest.approx(speech.seconds, abs=0.15)
    assert audio.loudest_dbfs(decoded.samples) > -30


def test_zero_length_file_is_named_empty(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyRecording, match=r"empty.wav is empty \(0 bytes\)"):
        audio.decode(tmp_path / "empty.wav")


def test_text_named_mp3_is_not_a_recording(tmp_path):
    (tmp_path / "notes.mp3").write_text("Minutes of the meeting\n- nothing decided\n")
    with pytest.raises(NotARecording, match=r"notes\.mp3 is a text file"):
        audio.decode(tmp_path / "notes.mp3")


def test_text_with_a_character_cut_at_512_bytes_is_still_text(tmp_path):
    (tmp_path / "notes.wav").write_text("é" * 400)  # byte 512 falls inside a character
    with pytest.raises(NotARecording):
        audio.decode(tmp_path / "notes.wav")


def test_a_recording_with_no_samples_is_corrupt(tmp_path):
    header_only = tmp_path / "nothing.wav"
    header_only.write_bytes(audio.wav_bytes(np.zeros(0, np.int16)))  # a 44-byte WAV header
    with pytest.raises(CorruptRecording, match=r"nothing\.wav holds no decodable audio"):
        audio.decode(header_only)


def test_random_bytes_are_corrupt(tmp_path):
    bad = tmp_path / "garbage.m4a"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptRecording, match=r"garbage\.m4a"):
        audio.decode(bad)


def test_truncated_mp4_is_corrupt(tmp_path, speech):
    whole = audio.write(tmp_path / "whole.m4a", speech.samples, "aac").read_bytes()
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(whole[: len(whole) // 3])  # the index (moov) is written last
    with pytest.raises(CorruptRecording, match=r"cut\.m4a"):
        audio.decode(cut)


def test_video_without_audio_has_no_audio_stream(tmp_path):
    with pytest.raises(NoAudioStream, match=r"screen\.mp4 has no audio track"):
        audio.decode(make_video(tmp_path / "screen.mp4", None))


def test_missing_file_is_an_audio_error(tmp_path):
    with pytest.raises(AudioError, match="Cannot read"):
        audio.decode(tmp_path / "nowhere.wav")


def meeting(speech: audio.Audio, pause: float, repeats: int) -> audio.Audio:
    """Speech and silence alternating, like turns in a meeting."""
    gap = np.zeros(int(pause * 16_000), np.int16)
    return audio.Audio(np.concatenate([speech.samples, gap] * repeats))


def test_chunks_respect_the_limit_and_cut_in_silence(speech):
    long = meeting(speech, 2.5, 12)  # about 130 s
    chunks = audio.split(long)
    assert len(chunks) >= 5
    assert all(len(c.samples) <= 30 * 16_000 for c in chunks)
    naive = [long.samples[int((c.start + 30) * 16_000) - 800 :][:1600] for c in chunks[:-1]]
    assert max(audio.loudest_dbfs(piece) for piece in naive) > -40  # a blind cut hits speech
    for chunk in chunks[:-1]:
        assert chunk.end - chunk.start > 20  # cut near the limit, not early
        around_cut = long.samples[int(chunk.end * 16_000) - 800 :][:1600]  # +- 50 ms
        assert audio.loudest_dbfs(around_cut) < -60
    for before, after in itertools.pairwise(chunks):
        assert before.end - after.start == pytest.approx(1.0, abs=0.03)  # ~1 s overlap
    assert chunks[0].start == 0 and chunks[-1].end == pytest.approx(long.seconds)


def test_chunks_without_pauses_still_stop_at_30_seconds():
    rng = np.random.default_rng(2)
    noise = audio.Audio((rng.standard_normal(16_000 * 75) * 3000).astype(np.int16))
    chunks = audio.split(noise)
    assert [round(c.end - c.start) <= 30 for c in chunks] == [True] * len(chunks)
    assert chunks[-1].end == pytest.approx(75.0)


def test_short_recording_is_one_chunk(speech):
    chunks = audio.split(speech)
    assert len(chunks) == 1 and not chunks[0].silent
    assert chunks[0].end == pytest.approx(speech.seconds)


def test_silence_is_recognised():
    silent = audio.split(audio.Audio(np.zeros(16_000 * 65, np.int16)))
    assert len(silent) == 3 and all(c.silent for c in silent)


def test_wav_bytes_are_16k_mono_16bit(speech):
    chunk = audio.split(speech)[0]
    data = chunk.wav()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    assert np.array_equal(frames, chunk.samples)
