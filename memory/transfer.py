"""Export and import of memories as JSON Lines: one record per line, lossless."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pydantic import ValidationError

from gemloom.atomic import replacing
from gemloom.memory.errors import BadMemoryInput
from gemloom.memory.records import Record

if TYPE_CHECKING:
    from gemloom.memory.store import MemoryStore


@dataclass
class ImportReport:
    """How an import went: records loaded, and one message per line that was not."""

    loaded: int = 0
    problems: list[str] = field(default_factory=list)


@contextmanager
def export_file(path: Path) -> Iterator[BinaryIO]:
    """The export's file: written beside `path` and put in its place only once whole, so a
    failed export leaves an earlier file of that name as it was, and a place that cannot be
    written is said at once (before the store opens, in `gemloom memory export`)."""
    try:
        with replacing(path) as handle:
            yield handle
    except OSError as exc:
        raise BadMemoryInput(f"Cannot write the export to {path}: {exc.strerror}.") from None


def export_jsonl(store: MemoryStore, target: Path | BinaryIO, include_deleted: bool = True) -> int:
    """Write every record (soft-deleted ones too unless told) as JSON Lines to a file
    (`export_file`'s) or to a binary handle."""
    if isinstance(target, str | Path):
        with export_file(Path(target)) as handle:
            return export_jsonl(store, handle, include_deleted)
    conditions = {} if include_deleted else {"deleted": False}
    records = sorted(store.records(**conditions), key=lambda r: (r.created, r.id))
    for record in records:
        target.write(record.model_dump_json().encode("utf-8") + b"\n")
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
