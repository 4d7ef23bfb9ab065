"""Slides and screen shares of a recorded video: stills at scene changes, described by the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gemloom import messages as msg
from gemloom.errors import GemloomError
from gemloom.tools.audio.decode import Frame, scene_frames
from gemloom.tools.audio.transcript import Segment, stamp

if TYPE_CHECKING:
    from pathlib import Path

    from gemloom.llm import LLM

PROMPT = (
    "This is a still from a recorded meeting (a slide or a shared screen). Describe in two or "
    "three sentences what it shows: its title, the key text and numbers. Only what is visible."
)


@dataclass(frozen=True)
class Slide:
    """A described still, at its time in the recording."""

    seconds: float
    description: str

    @property
    def timestamp(self) -> str:
        """HH:MM:SS."""
        return stamp(self.seconds)

    def to_dict(self) -> dict[str, object]:
        """For the JSON notes."""
        return {
            "timestamp": self.timestamp,
            "seconds": round(self.seconds, 3),
            "description": self.description,
        }


def describe(
    llm: LLM | None, frames: Sequence[Frame], progress: Callable[[str], None] = lambda _: None
) -> tuple[list[Slide], str]:
    """The frames described by a vision model, or none with the reason why not."""
    if not frames:
        return [], ""
    if llm is None:
        return [], f"{len(frames)} slide(s) seen but not described: no model"
    try:
        if not llm.model_info().has("vision"):
            return [], f"{len(frames)} slide(s) seen but not described: the model has no vision"
    except GemloomError as exc:
        return [], f"{len(frames)} slide(s) seen but not described: {exc}"
    slides = []
    for number, frame in enumerate(frames, 1):
        progress(f"describe slide {number}/{len(frames)}")
        answer = llm.chat(
            [msg.user(PROMPT, images=[frame.png])], think=False, options={"temperature": 0}
        )
        slides.append(Slide(frame.seconds, " ".join(answer.content.split())))
    return slides, ""


def video_slides(
    path: Path, llm: LLM | None, progress: Callable[[str], None] = lambda _: None
) -> tuple[list[Slide], str]:
    """Slides of a video file (nothing for audio files)."""
    return describe(llm, scene_frames(path), progress)


def as_segments(slides: Sequence[Slide]) -> list[Segment]:
    """Slides as transcript lines, so the summary aligns them with what was said."""
    return [Segment(s.seconds, s.seconds, f"(slide shown) {s.description}") for s in slides]


def merge(segments: Sequence[Segment], slides: Sequence[Slide]) -> list[Segment]:
    """Speech and slides in time order (slides first at equal times)."""
    return sorted([*as_segments(slides), *segments], key=lambda s: s.start)


def markdown_section(slides: Sequence[Slide], note: str) -> str:
    """A Markdown section listing the slides with their times."""
    if not slides and not note:
        return ""
    lines = ["## Slides and screen shares", ""]
    lines += [f"- [{s.timestamp}] {s.description}" for s in slides]
    if note:
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"
