"""One recording to notes: hash, decode, transcribe chunk by chunk with checkpoints, summarise."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gemloom.atomic import write_atomic
from gemloom.errors import GemloomError
from gemloom.secrets import redact
from gemloom.tools.audio.citations import check_citations, nearly_empty
from gemloom.tools.audio.decode import AudioError, Chunk, decode, split
from gemloom.tools.audio.notes import NoteItem, note_items, to_markdown
from gemloom.tools.audio.speakers import label_segments, speaker_turns, speakers_enabled
from gemloom.tools.audio.summary import STRICT, SYSTEM, summarise
from gemloom.tools.audio.templates import DEFAULT, Template, load_template
from gemloom.tools.audio.transcribe import Transcriber, make_transcriber
from gemloom.tools.audio.transcript import Segment, clock, stitch, to_srt, to_vtt
from gemloom.workflows.meetings.complete import truncation
from gemloom.workflows.meetings.ledger import Ledger, content_hash
from gemloom.workflows.meetings.slides import Slide, markdown_section, merge, video_slides

if TYPE_CHECKING:
    from pydantic import BaseModel

    from gemloom.llm import LLM

Progress = Callable[[str, int | None, int | None], None]


EMPTY = "the notes came back empty twice although the recording has speech"


class OutputNotWritable(GemloomError):
    """The output folder cannot be created or written."""


class Stopped(Exception):
    """A stop was requested; the finished chunks are checkpointed."""


@dataclass
class Outcome:
    """What became of one recording."""

    status: str  # done, duplicate, empty, quarantined, stopped or failed
    path: Path
    message: str
    outputs: list[Path] = field(default_factory=list)


@dataclass
class Job:
    """Everything processing needs besides the recording itself."""

    llm: LLM
    ledger: Ledger
    out: Path
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Progress = lambda text, done=None, total=None: None
    remember: Callable[[NoteItem], None] | None = None
    forget: Callable[[str], None] | None = None  # drops what `remember` stored for a digest
    transcriber: Transcriber | None = None
    quarantine_bad: bool = True  # the watcher moves bad files aside; `ingest` reports them
    speakers: int | None = None  # how many people speak; None detects it
    template: str | None = None  # notes template chosen for every file (ingest --template)
    folders: dict[Path, str] = field(default_factory=dict)  # template per watched folder
    default_template: str = DEFAULT

    def hear(self) -> Transcriber:
        """The transcriber, made on first use (loading Whisper takes a moment)."""
        if self.transcriber is None:
            self.transcriber = make_transcriber(self.llm, words=speakers_enabled())
        return self.transcriber


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


def _transcribe(job: Job, digest: str, chunks: list[Chunk]) -> list[Segment]:
    finished = job.ledger.chunks(digest)
    parts = []
    for chunk in chunks:
        if chunk.index not in finished:
            if job.stop.is_set():
                raise Stopped(f"stopped before chunk {chunk.index + 1}/{len(chunks)}")
            job.progress(
                f"transcribe chunk {chunk.index + 1}/{len(chunks)}", chunk.index, len(chunks)
            )
            found = job.hear().transcribe(chunk)
            job.ledger.save_chunk(digest, chunk.index, chunk.start, chunk.end, found)
            finished[chunk.index] = (chunk.start, chunk.end, found)
        parts.append(finished[chunk.index])
    return stitch(parts)


def _stem(out: Path, path: Path, digest: str, earlier: list[str]) -> str:
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


def _transcript_files(
    job: Job, path: Path, digest: str, segments: list[Segment], earlier: list[str],
    record: bool = False,
) -> None:  # fmt: skip
    """The .srt and .vtt (and with `record` a notes-less .json), so no summary failure loses them.

    The .json is written early only when summarising fails: its presence means "finished".
    """
    stem = _stem(job.out.resolve(), path, digest, [str(Path(p).resolve()) for p in earlier])
    texts = {".srt": to_srt(segments), ".vtt": to_vtt(segments)}
    if record:
        data = {"source": path.name, "sha256": digest, "notes": None}
        data["transcript"] = [s.to_dict() for s in segments]
        texts[".json"] = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        for ext, text in texts.items():
            write_atomic(job.out / f"{stem}{ext}", redact(text, f"{stem}{ext}")[0])
    except OSError as exc:
        raise OutputNotWritable(
            f"Cannot write notes to {job.out}: {exc.strerror or exc}."
        ) from None


def _heard(job: Job, earlier: Sequence[str]) -> str:
    """Who transcribed: this run's transcriber, else (all chunks kept) the earlier notes' one."""
    if job.transcriber is None:
        for old in (p for p in earlier if p.endswith(".json")):
            try:
                return str(json.loads(Path(old).read_text())["transcription"])
            except (OSError, ValueError, KeyError):
                continue
    return job.hear().name


def _write(
    job: Job,
    path: Path,
    digest: str,
    seconds: float,
    notes: BaseModel,
    segments: list[Segment],
    seen: tuple[list[Slide], str] = ([], ""),
    earlier: Sequence[str] = (),
    template: str = DEFAULT,
) -> list[Path]:
    stem = _stem(job.out.resolve(), path, digest, [str(Path(p).resolve()) for p in earlier])
    heard = _heard(job, earlier) if segments else "none (no speech)"
    record = {
        "source": path.name,
        "sha256": digest,
        "seconds": round(seconds, 3),
        "transcription": heard,
        "template": template,
        "notes": notes.model_dump(),
        "transcript": [s.to_dict() for s in segments],
        "slides": [slide.to_dict() for slide in seen[0]],
    }
    slide_section = markdown_section(*seen)
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


def _recorded(earlier: Sequence[str]) -> str | None:
    """The template the earlier notes of this recording were made with."""
    for old in (p for p in earlier if p.endswith(".json")):
        try:
            return str(json.loads(Path(old).read_text())["template"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def choose_template(job: Job, path: Path, earlier: Sequence[str] = ()) -> Template:
    """The template for a recording: the chosen one, its earlier notes', its folder's, default."""
    if job.template:
        return load_template(job.template)
    if recorded := _recorded(earlier):
        return load_template(recorded)
    where = path.absolute()
    folders = [f for f in job.folders if where.is_relative_to(f.absolute())]
    if folders:  # the deepest configured folder holding the file
        return load_template(job.folders[max(folders, key=lambda f: len(f.absolute().parts))])
    return load_template(job.default_template)


def _notes(
    job: Job, path: Path, segments: list[Segment], slides, template: Template
) -> tuple[BaseModel, bool]:
    """Checked notes, retried once with a stricter prompt when empty; and whether still empty."""
    first = SYSTEM + template.instructions
    for system in (first, first + STRICT):
        notes = summarise(
            job.llm, merge(segments, slides), title=path.stem,
            progress=lambda t: job.progress(t, None, None), system=system,
            schema=template.schema,
        )  # fmt: skip
        if not nearly_empty(notes, segments):
            return check_citations(notes, segments), False
        if system == first:
            job.progress("the notes came back empty: asking again, more strictly", None, None)
    notes.notices.append(f"Warning: {EMPTY}.")
    return notes, True


def _done_before(
    path: Path, job: Job, digest: str, force: bool, hashed: os.stat_result
) -> Outcome | None:
    """The outcome for a recording whose notes exist (unless they are to be made again)."""
    record = job.ledger.get(digest)
    if force or not record or record.state != "done":
        return None
    job.ledger.remember_path(path, digest, hashed)
    where = record.outputs[0] if record.outputs else "the ledger"
    return Outcome(
        "duplicate",
        path,
        f"same recording as {record.name}, already done: notes in {where} "
        "(`gemloom ingest --force` makes them again)",
        [Path(p) for p in record.outputs],
    )


def _replaces(path: Path, job: Job, digest: str) -> tuple[str | None, list[str]]:
    """The earlier version of this path (a recording that grew), and the outputs to replace."""
    own = job.ledger.get(digest)
    if own and own.state == "done":  # made again with --force: replace its own notes
        return None, own.outputs
    before = job.ledger.path_digest(path)
    old = job.ledger.get(before) if before and before != digest else None
    if old is None or old.state != "done":
        return None, []
    return before, old.outputs


def process(path: Path, job: Job, force: bool = False) -> Outcome:
    """Turn one complete recording into notes, exactly once per distinct content.

    With `force` the notes are made again (another model, say) from the finished transcript.
    """
    hashed = path.stat()  # before hashing: a file that grows meanwhile counts as changed
    digest = job.ledger.known_digest(path) or content_hash(path)
    if done := _done_before(path, job, digest, force, hashed):
        return done
    replaced, earlier = _replaces(path, job, digest)
    template = choose_template(job, path, earlier)
    job.ledger.set_state(digest, path.name, "working")
    job.progress("decode", None, None)
    try:
        audio = decode(path)
    except AudioError as exc:
        if not job.quarantine_bad:
            raise
        try:
            moved = quarantine(path, job.out, str(exc))
        except OSError as err:
            why = err.strerror or err
            raise OutputNotWritable(f"Cannot quarantine {path.name} in {job.out}: {why}.") from None
        job.ledger.set_state(digest, path.name, "quarantined", str(exc), [str(moved)])
        return Outcome("quarantined", path, str(exc), [moved])
    warning = truncation(path, audio.seconds)
    chunks = split(audio)
    segments = _transcribe(job, digest, chunks)
    job.progress("label speakers", None, None)
    turns, unlabelled = speaker_turns(audio, job.speakers)
    segments = label_segments(segments, turns)
    _transcript_files(job, path, digest, segments, earlier)
    slides, slide_note = video_slides(path, job.llm, lambda t: job.progress(t, None, None))
    job.progress("summarise", len(chunks), len(chunks))
    try:
        notes, empty = _notes(job, path, segments, slides, template)
    except GemloomError:
        _transcript_files(job, path, digest, segments, earlier, record=True)
        raise
    if unlabelled and segments:
        notes.notices.append(unlabelled)
    if warning:
        notes.cut.insert(0, warning)
    seen = (slides, slide_note)
    outputs = _write(
        job, path, digest, audio.seconds, notes, segments, seen, earlier, template.name
    )
    if job.forget and (replaced or earlier):  # one set of memories per recording
        job.forget(replaced or digest)
    if job.remember:
        for item in note_items(notes, path.name, digest):
            job.remember(item)
    if empty:
        job.ledger.set_state(digest, path.name, "empty", EMPTY, [str(p) for p in outputs])
        return Outcome("empty", path, f"{EMPTY}: {outputs[0]}", outputs)
    job.ledger.set_state(digest, path.name, "done", None, [str(p) for p in outputs])
    if replaced:
        job.ledger.set_state(replaced, path.name, "replaced", f"replaced by {digest[:12]}", [])
    job.ledger.remember_path(path, digest, hashed)
    again = " (a new version: the old notes are replaced)" if replaced else ""
    note = f"; warning: {warning}" if warning else ""
    return Outcome("done", path, f"notes in {outputs[0]}{again}{note}", outputs)


def run(path: Path, job: Job) -> Outcome:
    """`process`, with a stop, a vanished file or a gemloom error as an outcome, never a raise."""
    try:
        return process(path, job)
    except Stopped as exc:
        return Outcome("stopped", path, f"{exc}; it resumes there on the next start")
    except FileNotFoundError:
        return Outcome("failed", path, f"{path.name} disappeared before it could be read")
    except GemloomError as exc:
        return Outcome("failed", path, f"{exc} (it is retried on the next start)")
