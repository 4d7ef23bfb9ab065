"""`gemloom doctor` as a plain function, so `main()` can answer it before typer is imported."""

from __future__ import annotations

OPTIONAL = (
    "gemloom.tools.audio.transcribe:doctor_check",
    "gemloom.tools.screen.tools:doctor_check",
)
"""The optional checks (speech, display), imported only once Ollama answers."""


def doctor(as_json: bool = False) -> int:
    """Run the checks and print the report; the exit code (an early error raises)."""
    from gemloom.doctor import render, run_checks
    from gemloom.settings import check_host_variable

    check_host_variable()  # a bad OLLAMA_HOST is a setting error, as for every command
    report = run_checks(optional=OPTIONAL)
    if report.error and not as_json:
        raise report.error  # one line; rich is not needed for it
    from rich.console import Console

    render(report, as_json, Console())
    return report.exit_code
