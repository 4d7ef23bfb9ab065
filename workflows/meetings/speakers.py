"""`gemloom speakers NAME.json "Speaker 1=Priya"`: rename speakers in every file of a meeting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gemloom.atomic import write_atomic
from gemloom.errors import GemloomError
from gemloom.tools.audio.notes import notes_model, to_markdown
from gemloom.tools.audio.speakers import rename
from gemloom.tools.audio.templates import load_template
from gemloom.tools.audio.transcript import Segment, clock, to_srt, to_vtt

SLIDES_HEADING = "## Slides and screen shares"


class NotMeetingNotes(GemloomError):
    """The file is not a gemloom meeting record."""


def _load(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotMeetingNotes(
            f"Cannot read {path}: {exc}; give the NAME.json ingest wrote."
        ) from None
    if not isinstance(record, dict) or "transcript" not in record or "notes" not in record:
        raise NotMeetingNotes(f"{path} is not meeting notes: give the NAME.json ingest wrote.")
    return record


def _renamed_text(value: Any, pattern: re.Pattern, renames: dict[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: renames[m.group(0)], value)
    if isinstance(value, list):
        return [_renamed_text(v, pattern, renames) for v in value]
    if isinstance(value, dict):
        return {k: _renamed_text(v, pattern, renames) for k, v in value.items()}
    return value


def _unknown(segments: list[Segment], renames: dict[str, str]) -> list[str]:
    known = {s.speaker for s in segments if s.speaker}
    return sorted(set(renames) - known)


def _markdown(record: dict[str, Any], old: Path) -> str:
    schema = load_template(record.get("template")).schema
    notes = notes_model(schema).model_validate(record["notes"])
    seconds = clock(float(record.get("seconds", 0)))[:8]
    md = to_markdown(notes, record.get("source", ""), seconds, record.get("transcription", ""))
    if old.exists() and SLIDES_HEADING in (text := old.read_text(encoding="utf-8")):
        md += "\n" + text[text.index(SLIDES_HEADING) :]
    return md


def rename_speakers(path: Path, renames: dict[str, str]) -> list[Path]:
    """Rewrite NAME.json, .md, .srt and .vtt with the speakers renamed; the files written."""
    record = _load(path)
    segments = [Segment.from_dict(s) for s in record["transcript"]]
    if missing := _unknown(segments, renames):
        known = ", ".join(sorted({s.speaker for s in segments if s.speaker})) or "none"
        raise NotMeetingNotes(
            f"No speaker {', '.join(missing)} in {path.name} (speakers: {known})."
        )
    pattern = re.compile("|".join(rf"\b{re.escape(k)}\b" for k in sorted(renames, key=len)[::-1]))
    segments = rename(segments, renames)
    record["transcript"] = [s.to_dict() for s in segments]
    record["notes"] = _renamed_text(record["notes"], pattern, renames)
    texts = {
        ".json": json.dumps(record, indent=2, ensure_ascii=False) + "\n",
        ".srt": to_srt(segments),
        ".vtt": to_vtt(segments),
    }
    if record["notes"] is not None:  # None: summarising failed, only the transcript exists
        texts[".md"] = _markdown(record, path.with_suffix(".md"))
    return [write_atomic(path.with_suffix(ext), text) for ext, text in texts.items()]
