"""Meeting tools for the agent: transcribe or summarise a recording, search past meetings.

Transcribing is slow (a minute of speech takes seconds on a CPU, longer through the model), so
both recording tools stream `MeetingProgress` events to the timeline while they work. They only
read the recording and ask the model: nothing is written, so they need no approval (READ).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemloom.errors import GemloomError
from gemloom.tools.files.tools import clip, confine
from gemloom.tools.registry import Risk, ToolContext, ToolError, tool

if TYPE_CHECKING:
    from gemloom.llm import LLM
    from gemloom.tools.audio.transcript import Segment

MAX_NOTE_FILES = 2_000  # notes files looked at by one search, so a huge workspace stays quick
_SKIP_DIRS = {"node_modules", "__pycache__"}  # and every hidden folder (.git, .venv, ...)
_STOP = frozenset("a an the to of and or in on at for is are was be we i you it this that".split())  # noqa: SIM905


@dataclass
class MeetingProgress:
    """How far a meeting tool has got (decode, transcribe chunk k of n, summarise)."""

    tool: str
    text: str
    done: int | None = None
    total: int | None = None


def _emitter(name: str) -> Callable[..., None]:
    """Progress to the run's event stream when inside a run, else nowhere."""
    from gemloom.tools.stream import writer

    write = writer()

    def emit(text: str, done: int | None = None, total: int | None = None) -> None:
        write(MeetingProgress(name, text, done, total))

    return emit


def _llm(ctx: ToolContext) -> LLM:
    """The context's model client, made from its settings on first use."""
    if ctx.llm is None:
        from gemloom.llm import LLM

        ctx.llm = LLM(ctx.settings)
    return ctx.llm


def _hear(path: str, ctx: ToolContext, name: str) -> tuple[str, list[Segment]]:
    """The recording's name and its transcript with speakers, reporting progress as it goes."""
    from gemloom.tools.audio.decode import decode, split
    from gemloom.tools.audio.speakers import label_segments, speaker_turns, speakers_enabled
    from gemloom.tools.audio.transcribe import make_transcriber, transcribe_chunks

    full = confine(ctx.workspace, path)
    if not full.is_file():
        raise ToolError(f"'{path}' is not a file in the workspace")
    progress = _emitter(name)
    try:
        progress("decode")
        audio = decode(full)
        chunks = split(audio)
        hear = make_transcriber(_llm(ctx), words=speakers_enabled())
        segments = transcribe_chunks(
            chunks, hear, lambda i, n: progress(f"transcribe chunk {i + 1}/{n}", i, n)
        )
        progress("label speakers", len(chunks), len(chunks))
        turns, _ = speaker_turns(audio, _llm(ctx).settings.speakers)
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    return full.name, label_segments(segments, turns)


@tool(risk=Risk.READ)
def transcribe_recording(path: str, *, ctx: ToolContext) -> str:
    """Transcribe a recorded meeting (audio or video) into timed lines with speakers.

    Args:
        path: The recording, relative to the workspace (wav, mp3, m4a, ogg, flac, mp4, ...).
    """
    from gemloom.tools.audio.transcript import to_lines

    name, segments = _hear(path, ctx, "transcribe_recording")
    lines = to_lines(segments)
    return clip(f"Transcript of {name}:\n" + "\n".join(lines)) if lines else f"No speech in {name}."


@tool(risk=Risk.READ)
def summarise_recording(path: str, template: str = "general", *, ctx: ToolContext) -> str:
    """Transcribe a recorded meeting and write its notes as Markdown, every item cited.

    Args:
        path: The recording, relative to the workspace (wav, mp3, m4a, ogg, flac, mp4, ...).
        template: The kind of notes: general, standup, one-on-one, retro, interview, lecture, or a
            user template's name.
    """
    from gemloom.tools.audio.citations import check_citations
    from gemloom.tools.audio.notes import to_markdown
    from gemloom.tools.audio.summary import SYSTEM, summarise
    from gemloom.tools.audio.templates import load_template

    try:
        chosen = load_template(template)
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    name, segments = _hear(path, ctx, "summarise_recording")
    progress = _emitter("summarise_recording")
    try:
        notes = summarise(
            _llm(ctx), segments, Path(name).stem, lambda text: progress(text, None, None),
            system=SYSTEM + chosen.instructions, schema=chosen.schema,
        )  # fmt: skip
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    return clip(to_markdown(check_citations(notes, segments), source=name))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w']+", text.lower()) if w not in _STOP}


def _note_files(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Meeting records (NAME.json as ingest and watch write them) under the workspace."""
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(f for f in files if f.endswith(".json")):
            if (seen := seen + 1) > MAX_NOTE_FILES:
                return
            path = Path(folder) / name
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and "sha256" in record and "transcript" in record:
                yield path, record


def _said(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(timestamp, text) of every transcript line and every cited note item of a record."""
    from gemloom.tools.audio.transcript import Segment, stamp

    for raw in record.get("transcript") or []:
        seg = Segment.from_dict(raw)
        yield stamp(seg.start), f"{seg.speaker}: {seg.text}" if seg.speaker else seg.text
    for key, items in (record.get("notes") or {}).items():
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and "timestamp" in item:
                text = "; ".join(str(v) for k, v in item.items() if isinstance(v, str) and
                                 k not in ("timestamp", "quote") and v)  # fmt: skip
                yield str(item["timestamp"]), f"({key.replace('_', ' ')}) {text}"


@tool(risk=Risk.READ)
def search_meetings(query: str, k: int = 5, *, ctx: ToolContext) -> str:
    """Search the notes and transcripts of past meetings in the workspace; each hit cites its time.

    Args:
        query: What to look for, in plain words (a topic, a decision, a person's name).
        k: How many hits to return (1 to 20).
    """
    wanted = _words(query)
    if not wanted:
        raise ToolError("the query has no words to search for")
    root = ctx.workspace.resolve()
    hits: list[tuple[float, str]] = []
    for path, record in _note_files(root):
        title = (record.get("notes") or {}).get("title") or record.get("source", path.stem)
        for at, text in _said(record):
            score = len(wanted & _words(text)) / len(wanted)
            if score > 0:
                where = f"{path.relative_to(root).as_posix()} [{at}] ({title})"
                hits.append((score, f"{where}\n{text}"))
    hits.sort(key=lambda hit: -hit[0])
    top = hits[: max(1, min(int(k), 20))]
    if not top:
        return f"No past meeting in {root} mentions {query!r}."
    return "\n\n".join(f"{text} match={score:.2f}" for score, text in top)


TOOLS = [transcribe_recording, summarise_recording, search_meetings]
