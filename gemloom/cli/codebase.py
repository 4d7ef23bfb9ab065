"""`gemloom pack`: pack a codebase for long context, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gemloom.atomic import replacing
from gemloom.errors import ExitCode, GemloomError, OllamaUnreachable

if TYPE_CHECKING:
    from gemloom.settings import Settings

FALLBACK_CONTEXT = 262_144  # Gemma 4 12B's trained context, when Ollama cannot be asked


class PackOutputError(GemloomError):
    """The pack could not be written where asked."""

    exit_code = ExitCode.USAGE


def patterns(values: list[str] | None) -> list[str]:
    """Glob options given several times or comma-separated, as one list."""
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


Globs = Annotated[
    list[str] | None,
    typer.Option("--include", "-i", help="Only files matching these gitignore-style globs."),
]
Excludes = Annotated[
    list[str] | None,
    typer.Option("--exclude", "-x", help="Leave out files matching these globs."),
]


def default_budget(settings: Settings) -> int:
    """The model's context minus the answer reserve; Gemma 4's 256K when Ollama is unreachable.

    A closed port is seen at once, without loading the Ollama client and its TLS set-up.
    """
    from gemloom.doctor import refuses

    try:
        if refuses(settings.ollama_host):
            raise OllamaUnreachable(settings.ollama_host)
        from gemloom.llm import LLM

        context = LLM(settings, retries=0).model_info().context_length
    except GemloomError as exc:
        context = FALLBACK_CONTEXT
        typer.echo(f"note: {exc} Using a {context:,}-token context.", err=True)
    return max(context - settings.answer_reserve, 1)


def pack_command(
    path: Annotated[Path, typer.Argument(help="Folder to pack.")],
    budget: Annotated[
        int | None,
        typer.Option("--budget", "-b", help="Token budget (default: model context minus reserve)."),
    ] = None,
    question: Annotated[
        str, typer.Option("--question", "-q", help="Rank files by relevance to this.")
    ] = "",
    format: Annotated[str, typer.Option("--format", "-f", help="xml or markdown.")] = "xml",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the pack to this file.")
    ] = None,
    json_stats: Annotated[
        bool, typer.Option("--json-stats", help="Print the figures as JSON.")
    ] = False,
    include: Globs = None,
    exclude: Excludes = None,
) -> None:
    """Pack a codebase into one context block (tree, then files) that fits the token budget."""
    from gemloom.settings import load_settings
    from gemloom.tools.codebase.pack import pack, require_files

    if not path.is_dir():  # say what is wrong with the path before asking Ollama anything
        pack(path)
    settings = load_settings()
    packed = pack(
        path, budget=budget or default_budget(settings), question=question, fmt=format,
        include=patterns(include), exclude=patterns(exclude), settings=settings,
    )  # fmt: skip
    require_files(packed, path)
    if output is None:
        sys.stdout.flush()
        packed.write(sys.stdout.buffer)  # the bytes as packed: nothing joined, decoded, encoded
        sys.stdout.buffer.flush()
    else:
        try:
            with replacing(output) as handle:
                packed.write(handle)
        except OSError as exc:
            raise PackOutputError(f"Cannot write the pack to {output}: {exc.strerror}.") from None
    s = packed.stats
    if json_stats:
        typer.echo(json.dumps(s.as_dict(), indent=1), err=output is None)
    elif output is not None:
        typer.echo(
            f"{output}: {s.files} files ({s.full} full, {s.outlined} outlined, {s.omitted} "
            f"omitted, {s.skipped} skipped, {s.redacted} redacted), about {s.tokens:,} tokens."
        )
