"""One recording to notes: hash, skip what is done, then run the pipeline graph (graph.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from gemloom.errors import GemloomError
from gemloom.tools.audio.templates import Template, load_template
from gemloom.workflows.meetings.graph import EMPTY, MeetingState, run_graph
from gemloom.workflows.meetings.job import MeetingJob, Outcome, StopRequested
from gemloom.workflows.meetings.ledger import content_hash
from gemloom.workflows.meetings.outputs import OutputNotWritable, ensure_writable

__all__ = [
    "EMPTY",
    "MeetingJob",
    "Outcome",
    "OutputNotWritable",
    "StopRequested",
    "ensure_writable",
]


def _recorded(earlier: Sequence[str]) -> str | None:
    """The template the earlier notes of this recording were made with."""
    for old in (p for p in earlier if p.endswith(".json")):
        try:
            return str(json.loads(Path(old).read_text())["template"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def choose_template(job: MeetingJob, path: Path, earlier: Sequence[str] = ()) -> Template:
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


def _done_before(
    path: Path, job: MeetingJob, digest: str, force: bool, hashed: os.stat_result
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


def _replaces(path: Path, job: MeetingJob, digest: str) -> tuple[str | None, list[str]]:
    """The earlier version of this path (a recording that grew), and the outputs to replace."""
    own = job.ledger.get(digest)
    if own and own.state == "done":  # made again with --force: replace its own notes
        return None, own.outputs
    before = job.ledger.path_digest(path)
    old = job.ledger.get(before) if before and before != digest else None
    if old is None or old.state != "done":
        return None, []
    return before, old.outputs


def process(path: Path, job: MeetingJob, force: bool = False) -> Outcome:
    """Turn one complete recording into notes, exactly once per distinct content.

    With `force` the notes are made again (another model, say) from the finished transcript.
    A recording whose run was killed or stopped goes on from its last checkpoint.
    """
    hashed = path.stat()  # before hashing: a file that grows meanwhile counts as changed
    digest = job.ledger.known_digest(path) or content_hash(path)
    if done := _done_before(path, job, digest, force, hashed):
        return done
    replaced, earlier = _replaces(path, job, digest)
    job.llm.rebalance()  # each recording goes to the least busy Ollama server (ollama_hosts)
    template = choose_template(job, path, earlier)
    job.ledger.set_state(digest, path.name, "working")
    start: MeetingState = {
        "path": str(path), "digest": digest, "template": template.name,
        "earlier": list(earlier), "replaced": replaced,
    }  # fmt: skip
    final = run_graph(job, start)
    outputs = [Path(p) for p in final.get("outputs") or []]
    status = final.get("status", "failed")
    if status != "done":  # quarantined or empty
        return Outcome(status, path, final.get("message", ""), outputs)
    job.ledger.remember_path(path, digest, hashed)
    again = " (a new version: the old notes are replaced)" if final.get("replaced") else ""
    note = f"; warning: {final['warning']}" if final.get("warning") else ""
    return Outcome("done", path, f"notes in {outputs[0]}{again}{note}", outputs)


def run(path: Path, job: MeetingJob) -> Outcome:
    """`process`, with a stop, a vanished file or a gemloom error as an outcome, never a raise."""
    try:
        return process(path, job)
    except StopRequested as exc:
        return Outcome("stopped", path, f"{exc}; it resumes there on the next start")
    except FileNotFoundError:
        return Outcome("failed", path, f"{path.name} disappeared before it could be read")
    except GemloomError as exc:
        return Outcome("failed", path, f"{exc} (it is retried on the next start)")
