"""`gemloom memory ...`: add, search, list, show, forget, export, import, reembed, stats."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from gemloom.errors import ExitCode
from gemloom.memory.errors import BadMemoryInput

if TYPE_CHECKING:
    from gemloom.memory.records import Record
    from gemloom.memory.store import MemoryStore

app = typer.Typer(
    help="The long-term memory store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True, markup=False)  # ids look like [markup]
KIND_HELP = "fact, meeting, decision, action_item, review_finding or note"


@contextmanager
def _opened() -> Iterator[MemoryStore]:
    from gemloom.memory.store import MemoryStore

    store = MemoryStore.open()
    try:
        yield store
    finally:
        store.close()


def _source(path: Path | None, commit: str | None, session: str | None) -> object:
    from gemloom.memory.records import Source

    digest = None
    if path is not None:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise BadMemoryInput(f"Cannot read the source file {path}: {exc.strerror}.") from None
    return Source(path=str(path) if path else None, content_hash=digest, commit=commit,
                  session_id=session)  # fmt: skip


def _text(text: str) -> str:
    """The memory's text (stdin for `-`); bytes that are not UTF-8 text are refused."""
    import sys

    try:
        raw = sys.stdin.buffer.read() if text == "-" else text.encode("utf-8")
        decoded = raw.decode("utf-8")
    except (UnicodeError, AttributeError, OSError, ValueError):
        decoded = "\x00"
    if "\x00" in decoded:
        raise BadMemoryInput("The memory is not text (binary or not UTF-8): give plain text.")
    return decoded


def _line(record: Record) -> str:
    gone = " (forgotten)" if record.deleted else ""
    preview = " ".join(record.text.split())
    return f"{record.cite()}{gone}\n    {preview[:160]}{'…' if len(preview) > 160 else ''}"


@app.command()
def add(
    text: str = typer.Argument(..., help="The memory, or - to read it from stdin."),
    kind: str = typer.Option("note", "--kind", "-k", help=KIND_HELP),
    tags: str = typer.Option("", "--tags", "-t", help="Comma-separated labels."),
    namespace: str = typer.Option("default", "--namespace", "-n", help="Project or 'user'."),
    source: Annotated[
        Path | None, typer.Option("--source", help="File it came from (hashed).")
    ] = None,
    commit: str | None = typer.Option(None, "--commit", help="Commit it refers to."),
    session: str | None = typer.Option(None, "--session", help="Session it came from."),
) -> None:
    """Store a memory; exact duplicates are skipped, near-duplicates update the old one."""
    text = _text(text)
    provenance = _source(source, commit, session)
    with _opened() as store:
        labels = [t for t in tags.split(",") if t.strip()]
        for result in store.add(text, kind, tags=labels, source=provenance, namespace=namespace):
            out.print(f"{result.action}: {result.record.cite()}")


@app.command()
def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", help="How many results."),
    kind: str | None = typer.Option(None, "--kind", help=KIND_HELP),
    since: str | None = typer.Option(None, "--since", help="ISO date or age such as 7d."),
) -> None:
    """Find memories by meaning, nearest first."""
    from gemloom.memory.records import parse_since

    moment = parse_since(since)
    with _opened() as store:
        hits = store.recall(query, k, kind=kind, since=moment)
    for hit in hits:
        out.print(f"{1 - hit.distance:.2f} {_line(hit.record)}")
    if not hits:
        out.print("No memory matches.")


@app.command("list")
def list_(
    kind: str | None = typer.Option(None, "--kind", help=KIND_HELP),
    namespace: str | None = typer.Option(None, "--namespace", "-n"),
    deleted: bool = typer.Option(False, "--deleted", help="Also show forgotten memories."),
    limit: int = typer.Option(50, "--limit", help="At most this many, newest first."),
) -> None:
    """List memories, newest first."""
    from gemloom.memory.store import _kind

    conditions: dict[str, Any] = {
        "kind": _kind(kind).value if kind else None,
        "namespace": namespace,
    }
    if not deleted:
        conditions["deleted"] = False
    with _opened() as store:
        records = sorted(store.records(**conditions), key=lambda r: r.created, reverse=True)
    for record in records[:limit]:
        out.print(_line(record))
    out.print(f"{min(limit, len(records))} of {len(records)} shown.")


@app.command()
def show(memory_id: str = typer.Argument(..., help="The memory's id.")) -> None:
    """Show one memory whole, with its provenance as JSON."""
    with _opened() as store:
        record = store.get(memory_id)
    out.print(record.cite())
    out.print(record.text)
    out.print(json.dumps(record.model_dump(mode="json", exclude={"text"}), indent=2))


@app.command()
def forget(memory_id: str = typer.Argument(..., help="The memory's id.")) -> None:
    """Forget a memory (soft delete: export still keeps it)."""
    with _opened() as store:
        record = store.forget(memory_id)
    out.print(f"forgotten: {record.cite()}")


@app.command("export")
def export_(path: Annotated[Path, typer.Argument(help="JSON Lines file to write.")]) -> None:
    """Write every memory, forgotten ones included, to a JSON Lines file."""
    from gemloom.memory.transfer import export_file, export_jsonl

    with export_file(path) as handle, _opened() as store:  # a bad place is said first
        count = export_jsonl(store, handle)
    out.print(f"exported {count} memories to {path}")


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="JSON Lines file to read.")]) -> None:
    """Load memories from JSON Lines; bad lines are reported and skipped."""
    from gemloom.memory.transfer import import_jsonl, import_lines

    lines = import_lines(path)  # a wrong path is said before the store opens
    with _opened() as store:
        report = import_jsonl(store, lines)
    for problem in report.problems:
        out.print(f"skipped {problem}")
    out.print(f"imported {report.loaded} memories, skipped {len(report.problems)} lines")
    if report.problems:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def reembed(
    to: str = typer.Option(
        "", "--to", help="minilm-l6-v2-int8 or ollama:<model>; default: the configured choice."
    ),
) -> None:
    """Re-embed every memory with another embedder (after changing the embedding model)."""
    from gemloom.memory.embedders import default_embedder, embedder_for
    from gemloom.settings import load_settings

    settings = load_settings()
    new = embedder_for(to.strip(), settings) if to.strip() else default_embedder(settings)
    with _opened() as store:
        count = store.reembed(new)
    out.print(f"re-embedded {count} memories with {new.key}")


@app.command()
def stats() -> None:
    """Counts by kind and namespace, forgotten memories, and the embedder in use."""
    with _opened() as store:
        figures = store.stats()
    for name, value in figures.items():
        out.print(f"{name}: {value}")
