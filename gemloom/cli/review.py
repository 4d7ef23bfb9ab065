"""`gemloom review` and `gemloom screenshot`. Heavy imports stay inside the commands.

Exit codes of `gemloom review` (gemloom/errors.py): OK when no finding reached --fail-on (or no
--fail-on was given); FINDINGS when one is at or above it; a gemloom error exits with its own code
(USAGE unusable image, MODEL_MISSING no vision, MODEL_OUTPUT reply off schema, NO_DISPLAY, ...).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    """Report formats."""

    markdown = "markdown"
    json = "json"
    sarif = "sarif"


class Level(StrEnum):
    """Severities for --fail-on."""

    low = "low"
    medium = "medium"
    high = "high"


def _render(review, fmt: Format) -> str:
    from gemloom.workflows.review import report as review_report
    from gemloom.workflows.review import sarif as review_sarif

    if fmt is Format.sarif:
        return review_sarif.to_sarif_text(review)
    if fmt is Format.json:
        return review_report.to_json(review)
    return review_report.to_markdown(review)


def review_command(
    shots: Annotated[list[Path], typer.Argument(help="Screenshot image files (PNG, JPEG, WebP).")],
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Repository to ground findings in.")
    ] = None,
    diff: Annotated[Path | None, typer.Option("--diff", help="Unified diff under review.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = (
        Format.markdown
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    fail_on: Annotated[
        Level | None, typer.Option("--fail-on", help="Exit 1 when a finding is this severe.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Vision model (default: the chat model).")
    ] = None,
) -> None:
    """Review screenshots for visual, accessibility and layout defects; ground them in code."""
    from gemloom.errors import ExitCode, GemloomError
    from gemloom.tools.screen.image import check
    from gemloom.workflows.review.grounding import check_diff, redact_diff, repository

    # bad input is refused before the model, the review graph and the memory load
    for shot in shots:
        check(shot)
    if repo is not None:
        repository(repo)
    diff_text = None
    if diff is not None:
        try:
            diff_text = diff.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise GemloomError(f"Cannot read the diff {diff}: {exc.strerror or exc}.") from None
        diff_text = redact_diff(check_diff(diff_text, f"The --diff file {diff}")) or None
    from gemloom.llm import LLM
    from gemloom.workflows.remember import finding_hook, memory_beside
    from gemloom.workflows.review.findings import meets
    from gemloom.workflows.review.graph import review
    from gemloom.workflows.review.report import write_atomically

    with memory_beside() as memory:
        memory.start()  # Chroma loads while the model looks at the screenshots
        result = review(
            LLM(), shots, repo=repo, diff=diff_text, model=model, remember=finding_hook(memory)
        )
    text = _render(result, format)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        typer.echo(f"{len(result.findings)} findings written to {output}", err=True)
    if fail_on and any(meets(f.severity, fail_on.value) for f in result.findings):
        raise typer.Exit(ExitCode.FINDINGS)


def screenshot_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "screenshot.png"
    ),
    region: Annotated[
        str | None, typer.Option("--region", help="X,Y,WIDTH,HEIGHT to capture.")
    ] = None,
    window: Annotated[str | None, typer.Option("--window", help="X11 window id or name.")] = None,
    monitor: Annotated[int, typer.Option("--monitor", help="Monitor number; 0 = all.")] = 0,
) -> None:
    """Capture the screen (or a region, monitor or window) to a PNG file."""
    from gemloom.tools.screen.tools import capture, parse_region
    from gemloom.workflows.review.report import write_atomically

    shot = capture(parse_region(region) if region else None, monitor=monitor, window=window)
    write_atomically(output, shot.png())
    typer.echo(f"{output}  {shot.size[0]}x{shot.size[1]}  sha256:{shot.sha256}")
