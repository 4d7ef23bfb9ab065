"""The files a recording becomes: notes, transcript and subtitles, written atomically."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemloom.atomic import write_atomic
from gemloom.errors import GemloomError
from gemloom.secrets import redact
from gemloom.tools.audio.notes import Sheet, to_markdown
from gemloom.tools.audio.templates import DEFAULT
from gemloom.tools.audio.transcript import Segment, clock, to_srt, to_vtt

if TYPE_CHECKING:
    from gemloom.workflows.meetings.job import MeetingJob


class OutputNotWritable(GemloomError):
    """The output folder cannot be created or written."""


def ensure_writable(out: Path) -> Path:
    """Create the output folder and prove it takes files, or raise OutputNotWritable."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".probe-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(
            f"Cannot write notes to {out}: {exc.strerror or exc}; choose another folder with --out."
        ) from None
    return out


def quarantine(path: Path, out: Path, reason: str) -> Path:
    """Move a recording we cannot use into out/quarantine, with an error report beside it."""
    folder = out / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    shutil.move(str(path), target)
    write_atomic(target.with_name(target.name + ".error.txt"), f"{path}\n{reason}\n")
    return target


def stem_for(out: Path, path: Path, digest: str, earlier: list[str]) -> str:
    """NAME, or NAME-<hash> when other content already has notes under that name.

    `earlier` are the outputs of the version this file replaces (or of this very recording,
    when its notes are made again): their name is kept, so the new notes replace them.
    """
    for old in earlier:
        if Path(old).parent == out and Path(old).suffix == ".md":
            return Path(old).stem
    existing = out / f"{path.stem}.json"
    if existing.exists():
        try:
            if json.loads(existing.read_text()).get("sha256") != digest:
                return f"{path.stem}-{digest[:8]}"
        except (OSError, ValueError):
            pass
    return path.stem


def transcript_files(
    job: MeetingJob, path: Path, digest: str, segments: list[Segment], earlier: list[str],
    record: bool = False,
) -> None:  # fmt: skip
    """The .srt and .vtt (and with `record` a notes-less .json), so no summary failure loses them.

    The .json is written early only when summarising fails: its presence means "finished".
    """
    stem = stem_for(job.out.resolve(), path, digest, [str(Path(p).resolve()) for p in earlier])
    texts = {".srt": to_srt(segments), ".vtt": to_vtt(segments)}
    if record:
        data: dict[str, Any] = {"source": path.name, "sha256": digest, "notes": None}
        data["transcript"] = [s.to_dict() for s in segments]
        texts[".json"] = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        for ext, text in texts.items():
            write_atomic(job.out / f"{stem}{ext}", redact(text, f"{stem}{ext}")[0])
    except OSError as exc:
        raise OutputNotWritable(
            f"Cannot write notes to {job.out}: {exc.strerror or exc}."
        ) from None


def heard_by(job: MeetingJob, earlier: Sequence[str]) -> str:
    """Who transcribed: this run's transcriber, else (all chunks kept) the earlier notes' one."""
    if job.transcriber is None:
        for old in (p for p in earlier if p.endswith(".json")):
            try:
                return str(json.loads(Path(old).read_text())["transcription"])
            except (OSError, ValueError, KeyError):
                continue
    return job.hear().name


def write_notes(
    job: MeetingJob,
    path: Path,
    digest: str,
    seconds: float,
    notes: Sheet,
    segments: list[Segment],
    seen: tuple[list[dict], str] = ([], ""),
    earlier: Sequence[str] = (),
    template: str = DEFAULT,
    heard: str | None = None,
) -> list[Path]:
    """NAME.md, .json, .srt and .vtt of finished notes; `seen` is (slides, their Markdown).

    `heard` names the transcriber (found from the job or the earlier notes when not given).
    """
    stem = stem_for(job.out.resolve(), path, digest, [str(Path(p).resolve()) for p in earlier])
    heard = (heard or heard_by(job, earlier)) if segments else "none (no speech)"
    record = {
        "source": path.name,
        "sha256": digest,
        "seconds": round(seconds, 3),
        "transcription": heard,
        "template": template,
        "notes": notes.model_dump(),
        "transcript": [s.to_dict() for s in segments],
        "slides": seen[0],
    }
    slide_section = seen[1]
    texts = {
        ".md": to_markdown(notes, path.name, clock(seconds)[:8], heard)
        + (f"\n{slide_section}" if slide_section else ""),
        ".json": json.dumps(record, indent=2, ensure_ascii=False) + "\n",
        ".srt": to_srt(segments),
        ".vtt": to_vtt(segments),
    }
    try:
        return [write_atomic(job.out / f"{stem}{ext}", redact(text, f"{stem}{ext}")[0])
                for ext, text in texts.items()]  # fmt: skip
    except OSError as exc:
        raise OutputNotWritable(
            f"Cannot write notes to {job.out}: {exc.strerror or exc}."
        ) from None
