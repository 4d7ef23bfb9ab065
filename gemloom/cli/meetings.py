"""`gemloom ingest`, `watch` and `speakers`: thin commands over workflows/meetings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gemloom.errors import ExitCode


def ingest_command(
    file: Annotated[Path, typer.Argument(help="A recording: audio or video.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the notes.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Make the notes again, keeping the transcript.")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Chat model for the notes.")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option("--template", "-t", help="Notes template: general, standup, retro, ..."),
    ] = None,
) -> None:
    """Transcribe and summarise one recording into NAME.md, .json, .srt and .vtt."""
    from gemloom.workflows.meetings.ingest import recording

    recording(file)  # a missing or unfit file is refused before the model and memory load
    from rich.console import Console

    from gemloom.llm import LLM
    from gemloom.settings import load_settings
    from gemloom.workflows.meetings.ingest import ingest, say, stop_on_signals
    from gemloom.workflows.remember import meeting_forget_hook, meeting_hook, memory_beside

    llm, console = LLM(load_settings(**({"chat_model": model} if model else {}))), Console()
    with stop_on_signals() as stop, memory_beside() as memory:  # it opens beside Whisper
        remember, forget = meeting_hook(memory), meeting_forget_hook(memory)
        outcome = ingest(
            file, out, llm=llm, stop=stop, console=console, force=force, template=template,
            remember=remember, forget=forget, beside=memory.start,
        )  # fmt: skip
    say(outcome, console)
    if outcome.status == "empty":  # notes written, but nothing in them: not a quiet success
        raise typer.Exit(ExitCode.FAILED)


def watch_command(
    directory: Annotated[Path, typer.Argument(help="Folder to watch for recordings.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the notes.")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", help="Watch subfolders too.")] = False,
    template: Annotated[
        str | None,
        typer.Option("--template", "-t", help="Notes template for every file (else per folder)."),
    ] = None,
) -> None:
    """Watch a folder and turn each complete recording into notes, exactly once."""
    from rich.console import Console

    from gemloom.workflows.meetings.ingest import stop_on_signals, watch
    from gemloom.workflows.meetings.watch import folder_to_watch
    from gemloom.workflows.remember import meeting_forget_hook, meeting_hook, memory_or_none

    folder_to_watch(directory)  # before the memory opens and the line says it is watching
    console = Console()

    with stop_on_signals() as stop, memory_or_none() as store:
        # One line however long the path, and a folder named like [markup] shown as it is.
        console.print(
            f"watching {directory} (Ctrl-C to stop)", markup=False, highlight=False,
            soft_wrap=True,
        )  # fmt: skip
        remember, forget = meeting_hook(store), meeting_forget_hook(store)
        watch(
            directory, out, recursive, stop=stop, console=console, template=template,
            remember=remember, forget=forget,
        )  # fmt: skip
    console.print("stopped cleanly", highlight=False)


def speakers_command(
    notes: Annotated[Path, typer.Argument(help="The NAME.json that ingest or watch wrote.")],
    renames: Annotated[list[str], typer.Argument(help='Renames such as "Speaker 1=Priya".')],
) -> None:
    """Rename speakers in a meeting's notes, transcript and subtitles."""
    from gemloom.tools.audio.speakers import parse_renames
    from gemloom.workflows.meetings.speakers import rename_speakers

    written = rename_speakers(notes, parse_renames(renames))
    typer.echo(f"renamed in {', '.join(p.name for p in written)}")
