"""Video recordings: stills at scene changes, described by a vision model, aligned with speech."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from fake_ollama import Turn

from gemloom.tools.audio import decode as audio
from gemloom.workflows.meetings.ingest import ingest
from gemloom.workflows.meetings.slides import describe

SLIDE = "A slide titled Q3 Roadmap listing revenue of 42 million."


def make_talk(path: Path, samples: np.ndarray, scenes: list[tuple[int, int, int]]) -> Path:
    """An mp4 of 2-second scenes of solid colours (5 fps, all key frames) over real speech."""
    with av.open(str(path), "w") as box:
        video = box.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        video.codec_context.gop_size = 1
        sound = box.add_stream("aac", rate=48_000)
        index = 0
        for colour in scenes:
            for _ in range(10):
                frame = av.VideoFrame.from_ndarray(
                    np.full((120, 160, 3), colour, np.uint8), format="rgb24"
                )
                frame.pts, frame.time_base = index, Fraction(1, 5)
                box.mux(video.encode(frame))
                index += 1
        box.mux(video.encode(None))
        ctx = sound.codec_context
        resampler = av.AudioResampler(ctx.format, "mono", ctx.rate, frame_size=ctx.frame_size)
        pcm = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        pcm.rate = audio.RATE
        for out in [*resampler.resample(pcm), *resampler.resample(None)]:
            box.mux(sound.encode(out))
        box.mux(sound.encode(None))
    return path


def test_scene_changes_become_stills(tmp_path, speech_samples) -> None:
    talk = make_talk(tmp_path / "talk.mp4", speech_samples, [(200, 20, 20), (20, 20, 200)])
    frames = audio.scene_frames(talk)
    assert [round(f.seconds) for f in frames] == [0, 2]
    assert all(f.png.startswith(b"\x89PNG") for f in frames)
    assert audio.scene_frames(audio.write(tmp_path / "a.ogg", speech_samples, "libopus")) == []


def test_a_model_without_vision_leaves_slides_undescribed(
    fake_ollama, llm, tmp_path, speech_samples
) -> None:
    fake_ollama.models["gemma4:12b"].capabilities.remove("vision")
    talk = make_talk(tmp_path / "talk.mp4", speech_samples, [(200, 20, 20)])
    slides, note = describe(llm, audio.scene_frames(talk))
    assert slides == [] and "has no vision" in note
    assert fake_ollama.chat_bodies() == []


def test_slides_are_described_and_aligned_in_the_notes(
    fallback_model, llm, tmp_path, speech_samples
) -> None:
    base = fallback_model.default

    def answer(body):
        message = body["messages"][-1]
        if message.get("images") and message["content"].startswith("This is a still"):
            return Turn(SLIDE)
        return base(body)

    fallback_model.default = answer
    talk = make_talk(tmp_path / "review.mp4", speech_samples, [(200, 20, 20), (20, 200, 20)])
    assert ingest(talk, tmp_path / "notes", llm=llm).status == "done"
    record = json.loads((tmp_path / "notes" / "review.json").read_text())
    assert [s["timestamp"] for s in record["slides"]] == ["00:00:00", "00:00:02"]
    assert record["slides"][0]["description"] == SLIDE
    markdown = (tmp_path / "notes" / "review.md").read_text()
    assert "## Slides and screen shares" in markdown and f"- [00:00:02] {SLIDE}" in markdown
    summary_requests = [b for b in fallback_model.chat_bodies() if "format" in b]
    assert "(slide shown) " + SLIDE in summary_requests[0]["messages"][-1]["content"]
    assert "slide" not in (tmp_path / "notes" / "review.srt").read_text()
