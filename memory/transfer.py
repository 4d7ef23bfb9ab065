"""Export and import of memories as JSON Lines: one record per line, lossless."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from gemloom.memory.errors import BadMemoryInput
from gemloom.memory.records import Record

if TYPE_CHECKING:
    from gemloom.memory.store import MemoryStore


@dataclass
class ImportReport:
    """How an import went: records loaded, and one message per line that was not."""

    loaded: int = 0
    problems: list[str] = field(default_factory=list)


def export_jsonl(store: MemoryStore, path: Path, include_deleted: bool = True) -> int:
    """Write every record (soft-deleted ones too unless told) to a JSON Lines file."""
    conditions = {} if include_deleted else {"deleted": False}
    records = sorted(store.records(**conditions), key=lambda r: (r.created, r.id))
    try:
        with Path(path).open("w", encoding="utf-8") as out:
            for record in records:
                out.write(record.model_dump_json() + "\n")
    except OSError as exc:
        raise BadMemoryInput(f"Cannot write the export to {path}: {exc.strerror}.") from None
    return len(records)


def import_lines(path: Path) -> list[str]:
    """The import file's lines, or the error when it cannot be read (read before the store
    opens, so a wrong path is said at once)."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise BadMemoryInput(f"Cannot read the import file {path}: {exc.strerror}.") from None


def _parsed(lines: list[str], report: ImportReport) -> Iterator[Record]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield Record.model_validate_json(line)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"])) or "line"
            report.problems.append(f"line {number}: {where}: {err['msg']}")


def import_jsonl(store: MemoryStore, source: Path | list[str]) -> ImportReport:
    """Load records from JSON Lines (a file, or its `import_lines`), keeping their ids and
    provenance; bad lines are reported."""
    report = ImportReport()
    lines = source if isinstance(source, list) else import_lines(source)
    report.loaded = store.put(_parsed(lines, report))
    return report
