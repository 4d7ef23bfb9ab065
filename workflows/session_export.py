"""Writing a session export to a file or standard output (the CLI and the TUI share this)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from gemloom.agents.export import FORMATS, ExportFormatError, render
from gemloom.atomic import write_atomic
from gemloom.errors import GemloomError


def export_text(sessions: Any, session_id: str, fmt: str) -> str:
    """The session rendered as `fmt` (SessionNotFound / ExportFormatError on bad input)."""
    if fmt not in FORMATS:
        raise ExportFormatError(fmt)
    info = sessions.get(session_id)
    return render(info, sessions.messages(session_id), fmt)


def write_export(text: str, output: Path | None) -> Path | None:
    """Write to `output`, or to standard output when it is None."""
    if output is None:
        sys.stdout.write(text)
        return None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, text)
    except OSError as exc:
        raise GemloomError(f"Cannot write the export to {output}: {exc.strerror}.") from None
    return output


def default_name(info: Any, fmt: str) -> str:
    """`session-<id>.<fmt>`: ids are unique and safe as file names, titles are not."""
    return f"session-{info.id}.{fmt}"
