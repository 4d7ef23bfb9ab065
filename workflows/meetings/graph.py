"""The meeting pipeline as a LangGraph state machine whose checkpoints resume a half-done recording.

decode -> transcribe (looping: a chunk per step, or a batched group of chunks for Whisper) ->
diarize -> notes -> citations -> write. Speakers are worked out in a thread beside the
transcription, from the audio alone; the diarize step takes what it found.
Every step is checkpointed (SQLite beside the ledger, one thread per content hash), so a killed
run goes on at the step it was in. The ledger stays the record of which chunks are done: a
chunk transcribed just before a kill, whose step was not checkpointed yet, is not sent again.
The state holds only what is small and plain; the decoded audio is cached per run.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from gemloom.background import in_background
from gemloom.errors import GemloomError
from gemloom.tools.audio.citations import check_citations, nearly_empty
from gemloom.tools.audio.decode import Audio, AudioError, Chunk, decode, split
from gemloom.tools.audio.diarize import SpeakerTurn
from gemloom.tools.audio.notes import Finished, note_items, notes_model
from gemloom.tools.audio.speakers import label_segments, speaker_turns
from gemloom.tools.audio.summary import STRICT, SYSTEM, summarise
from gemloom.tools.audio.templates import load_template
from gemloom.tools.audio.transcript import Segment, stitch
from gemloom.workflows.meetings.complete import truncation
from gemloom.workflows.meetings.job import MeetingJob, StopRequested
from gemloom.workflows.meetings.outputs import (
    OutputNotWritable,
    quarantine,
    transcript_files,
    write_notes,
)
from gemloom.workflows.meetings.slides import markdown_section, merge, video_slides

EMPTY = "the notes came back empty twice although the recording has speech"
Turns = tuple[list[SpeakerTurn], str]  # who spoke when, and why not if speakers went unlabelled
AGAIN = "the notes came back empty: asking again, more strictly"
STEPS = ("decode", "transcribe", "diarize", "notes", "citations", "write")


class MeetingState(TypedDict, total=False):
    """What one recording's run carries from step to step (all of it JSON-plain)."""

    path: str
    digest: str
    template: str
    earlier: list[str]  # outputs of the notes this run replaces
    replaced: str | None  # digest of the earlier version of this path, if any
    seconds: float
    warning: str | None  # the recording is shorter than its header says
    chunks: int
    transcribed: int
    heard: str | None  # the transcriber that heard this run's chunks
    segments: list[dict[str, Any]]
    unlabelled: str
    slides: list[dict[str, Any]]
    slide_md: str
    notes: dict[str, Any] | None
    empty: bool
    status: str  # quarantined, empty or done once decided
    message: str
    outputs: list[str]


class Steps:
    """The graph's nodes for one job; the decoded audio is cached between them."""

    def __init__(self, job: MeetingJob, path: Path):
        self.job, self.path = job, path  # the path it has now (a resumed run may have moved)
        self._audio: tuple[Audio, list[Chunk]] | None = None
        self._turns: Future[Turns] | None = None

    def _decoded(self) -> tuple[Audio, list[Chunk]]:
        if self._audio is None:
            audio = decode(self.path)
            self._audio = (audio, split(audio))
        return self._audio

    def _speakers(self) -> Future[Turns]:
        """Who spoke when, worked out beside the transcription: it needs the audio alone, and
        Whisper (or the model) leaves a core free much of the time. A run stopped meanwhile
        does not wait for it; a run resumed after the transcription starts it at the diarize
        step and waits."""
        if self._turns is None:
            audio, _ = self._decoded()
            speakers = self.job.speakers
            self._turns = in_background(lambda: speaker_turns(audio, speakers), "gemloom-speakers")
        return self._turns

    def _segments(self, state: MeetingState) -> list[Segment]:
        return [Segment.from_dict(s) for s in state.get("segments") or []]

    def _notes(self, state: MeetingState) -> Finished:
        schema = load_template(state["template"]).schema
        return notes_model(schema).model_validate(state["notes"])

    def decode(self, state: MeetingState) -> dict[str, Any]:
        """Decode the recording, or quarantine it (the watcher) or raise (ingest)."""
        job, path = self.job, self.path
        job.progress("decode", None, None)
        try:
            audio, chunks = self._decoded()
        except AudioError as exc:
            if not job.quarantine_bad:
                raise
            try:
                moved = quarantine(path, job.out, str(exc))
            except OSError as err:
                why = err.strerror or err
                raise OutputNotWritable(
                    f"Cannot quarantine {path.name} in {job.out}: {why}."
                ) from None
            job.ledger.set_state(state["digest"], path.name, "quarantined", str(exc), [str(moved)])
            return {"status": "quarantined", "message": str(exc), "outputs": [str(moved)]}
        warning = truncation(path, audio.seconds)
        return {"seconds": audio.seconds, "warning": warning, "chunks": len(chunks)}

    def transcribe(self, state: MeetingState) -> dict[str, Any]:
        """Transcribe the next chunks the ledger lacks: as many as the transcriber hears at once."""
        job, digest = self.job, state["digest"]
        _, chunks = self._decoded()
        finished = job.ledger.chunks(digest)
        todo = [c for c in chunks if c.index not in finished]
        if not todo:
            return {"transcribed": len(chunks)}
        chunk = todo[0]
        if job.stop.is_set():
            raise StopRequested(f"stopped before chunk {chunk.index + 1}/{len(chunks)}")
        job.progress(f"transcribe chunk {chunk.index + 1}/{len(chunks)}", chunk.index, len(chunks))
        group = todo[: max(1, job.hear().group)]
        if self._turns is None and job.beside is not None:
            job.beside()  # once, as the first group starts (the CLI's memory opens then)
        self._speakers()
        for done, found in zip(group, job.hear().transcribe_many(group), strict=True):
            job.ledger.save_chunk(digest, done.index, done.start, done.end, found)
        return {"transcribed": len(finished) + len(group), "heard": job.hear().name}

    def diarize(self, state: MeetingState) -> dict[str, Any]:
        """Stitch the chunks, label speakers, and write the transcript files at once."""
        job, path = self.job, self.path
        parts = job.ledger.chunks(state["digest"])
        segments = stitch([parts[i] for i in sorted(parts)])
        job.progress("label speakers", None, None)
        turns, unlabelled = self._speakers().result()
        segments = label_segments(segments, turns)
        transcript_files(job, path, state["digest"], segments, state.get("earlier") or [])
        return {"segments": [s.to_dict() for s in segments], "unlabelled": unlabelled}

    def notes(self, state: MeetingState) -> dict[str, Any]:
        """Slides, then notes in the template; asked again more strictly when empty."""
        job, path, segments = self.job, self.path, self._segments(state)
        slides, slide_note = video_slides(path, job.llm, lambda t: job.progress(t, None, None))
        job.progress("summarise", state["chunks"], state["chunks"])
        template = load_template(state["template"])
        first = SYSTEM + template.instructions
        try:
            for system in (first, first + STRICT):
                notes = summarise(
                    job.llm, merge(segments, slides), title=path.stem,
                    progress=lambda t: job.progress(t, None, None), system=system,
                    schema=template.schema,
                )  # fmt: skip
                if not (empty := nearly_empty(notes, segments)):
                    break
                if system == first:
                    job.progress(
                        "the notes came back empty: asking again, more strictly", None, None
                    )
        except GemloomError:
            earlier = state.get("earlier") or []
            transcript_files(job, path, state["digest"], segments, earlier, record=True)
            raise
        seen = {
            "slides": [s.to_dict() for s in slides],
            "slide_md": markdown_section(slides, slide_note),
        }
        return {"notes": notes.model_dump(), "empty": empty, **seen}

    def citations(self, state: MeetingState) -> dict[str, Any]:
        """Every citation checked against the transcript; what the reader must know added."""
        notes, segments = self._notes(state), self._segments(state)
        if state.get("empty"):
            notes.notices.append(f"Warning: {EMPTY}.")
        else:
            notes = check_citations(notes, segments)
        if state.get("unlabelled") and segments:
            notes.notices.append(state["unlabelled"])
        if warning := state.get("warning"):
            notes.cut.insert(0, warning)
        return {"notes": notes.model_dump()}

    def write(self, state: MeetingState) -> dict[str, Any]:
        """Write the files, swap the memories, and record the outcome in the ledger."""
        job, path, digest = self.job, self.path, state["digest"]
        notes, earlier, replaced = (
            self._notes(state),
            state.get("earlier") or [],
            state.get("replaced"),
        )
        seen = (state.get("slides") or [], state.get("slide_md") or "")
        outputs = write_notes(
            job, path, digest, state["seconds"], notes, self._segments(state), seen, earlier,
            state["template"], state.get("heard"),
        )  # fmt: skip
        if job.forget and (replaced or earlier):  # one set of memories per recording
            job.forget(replaced or digest)
        if job.remember:
            for item in note_items(notes, path.name, digest):
                job.remember(item)
        written = [str(p) for p in outputs]
        if state.get("empty"):
            job.ledger.set_state(digest, path.name, "empty", EMPTY, written)
            return {"status": "empty", "message": f"{EMPTY}: {outputs[0]}", "outputs": written}
        job.ledger.set_state(digest, path.name, "done", None, written)
        if replaced:
            job.ledger.set_state(replaced, path.name, "replaced", f"replaced by {digest[:12]}", [])
        return {"status": "done", "outputs": written}


def after_decode(state: MeetingState) -> str:
    """Quarantined recordings end here."""
    return END if state.get("status") == "quarantined" else "transcribe"


def after_transcribe(state: MeetingState) -> str:
    """Loop until every chunk is transcribed."""
    return "transcribe" if state.get("transcribed", 0) < state.get("chunks", 0) else "diarize"


def build(job: MeetingJob, path: Path) -> StateGraph:
    """The pipeline graph for one recording (compile it with the job's checkpointer)."""
    steps = Steps(job, path)
    graph = StateGraph(MeetingState)
    for name in STEPS:
        graph.add_node(name, getattr(steps, name))
    graph.add_edge(START, "decode")
    graph.add_conditional_edges("decode", after_decode, ["transcribe", END])
    graph.add_conditional_edges("transcribe", after_transcribe, ["transcribe", "diarize"])
    for a, b in itertools.pairwise(STEPS[2:]):
        graph.add_edge(a, b)
    graph.add_edge("write", END)
    return graph


def config(digest: str) -> RunnableConfig:
    """The run config of a recording: its thread, and room for one step per chunk."""
    return {"configurable": {"thread_id": digest}, "recursion_limit": 1_000_000}


def resume_point(job: MeetingJob, digest: str) -> tuple[str, ...]:
    """The steps a half-done recording resumes at (empty when none is pending)."""
    graph = build(job, Path()).compile(checkpointer=job.saver())
    return tuple(graph.get_state(config(digest)).next)


def run_graph(job: MeetingJob, start: MeetingState) -> MeetingState:
    """Run (or resume, when a checkpoint is pending) the pipeline for one recording.

    Checkpoints are written before the next step starts (`durability="sync"`): LangGraph's
    default writes them in a background thread beside the next step, so a kill could land
    with several chunks in the ledger and no checkpoint saved yet (seen once in CI). A step
    takes seconds of transcription; writing its small state is nothing beside that.
    """
    graph = build(job, Path(start["path"])).compile(checkpointer=job.saver())
    cfg = config(start["digest"])
    pending = graph.get_state(cfg)
    if pending.next:  # killed or stopped part-way: go on at the step it was in
        job.progress(f"resume at {pending.next[0]}", None, None)
        final = graph.invoke(None, cfg, durability="sync")
    else:
        if pending.values:  # a finished run whose clean-up was cut short
            job.saver().delete_thread(start["digest"])
        final = graph.invoke(start, cfg, durability="sync")
    job.saver().delete_thread(start["digest"])  # done: nothing left to resume
    return cast(MeetingState, final)
