"""Exact search beside the store: live vectors in a memory-mapped file, filters done in numpy.

Every recall of an embedded store is answered here, not by Chroma's HNSW: a filter on a rare
kind there either over-fetches or falls back to Chroma's metadata filter (45-130 ms at 100k),
and HNSW good enough to agree with exact search costs most of the time of a write. Every live
record's unit vector is appended to `exact/vectors.f32` and its id, kind, namespace, time and
record JSON to `exact/rows.jsonl` (`-` lines drop an id), so a recall is one matrix product
over the matching rows (past EXACT_ROWS a first pass on projected rows, memory/projection.py,
then an exact re-rank) and k reads of their records, with no round trip to Chroma.

The files are only trusted when `exact/stamp` names the store's current write generation: a
writer marks them dirty before it appends and stamps the new generation after the write, so a
crash, a write by another program or an older gemloom leaves them out of date, and the next
search rebuilds them from Chroma.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gemloom.atomic import replacing, write_atomic
from gemloom.memory import projection
from gemloom.memory.chroma import _chroma

log = logging.getLogger(__name__)
FOLDER = "exact"
REBUILD_PAGE = 5000
DIRTY = "dirty"
SUBSETS = 8  # filtered matrices kept in memory, one per (kind, namespaces)
EXACT_ROWS = 20_000  # up to this many rows every one is scored on its full vector (1-2 ms)


class ExactIndex:
    """The live records' vectors and filter fields, kept in step with one Chroma collection."""

    def __init__(self, directory: Path):
        self.folder = directory / FOLDER
        self._vectors_path = self.folder / "vectors.f32"
        self._rows_path = self.folder / "rows.jsonl"
        self._stamp_path = self.folder / "stamp"
        self._appending = False  # this write may append: the files matched the store before it
        self._clear()

    def _clear(self) -> None:
        self._inode, self._offset, self.version = 0, 0, 0
        self._ids: list[str] = []
        self._row: dict[str, int] = {}  # id -> its live row
        self._kinds: list[str] = []
        self._spaces: list[str] = []
        self._created: list[float] = []
        self._alive: list[bool] = []
        self._spans: list[tuple[int, int]] = []  # where each row's record JSON is in rows.jsonl
        self._matrix: np.ndarray | None = None
        self._subsets: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._projection: projection.Projection | None = None  # built once the rows are many

    # -- writing (under the store's exclusive hold) -----------------------------------------

    def begin(self, generation: int, collection: Any) -> None:
        """A write starts (exclusive hold): bring the files up to the store, then append to them."""
        self.fresh(generation, collection)
        self._write_stamp(DIRTY)
        self._appending = True

    def carry(self, before: int, after: int) -> None:
        """A write that changed no record (opening the store) moved the generation on."""
        if self._stamp() == str(before):
            self._write_stamp(str(after))

    def settle(self, generation: int) -> None:
        """The write is done and numbered: stamp the files if every change went into them."""
        if self._appending:
            self._write_stamp(str(generation))
        self._appending = False

    def add(self, ids: Sequence[str], vectors: np.ndarray, metas: Sequence[dict[str, Any]]) -> None:
        """Record live rows (an id seen before is replaced)."""
        if not self._appending or not ids:
            return
        unit = _unit(np.asarray(vectors, dtype=np.float32))
        lines = [_line("+", i, m) for i, m in zip(ids, metas, strict=True)]
        try:
            with open(self._vectors_path, "ab") as out:
                out.write(unit.tobytes())
            self._append(lines)
        except OSError as exc:
            self._failed(exc)

    def drop(self, ids: Iterable[str]) -> None:
        """Record that these ids are no longer live (forgotten or deleted)."""
        if self._appending:
            try:
                self._append([json.dumps(["-", i]) for i in ids])
            except OSError as exc:
                self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        """The store took the write; only the side files did not: leave them stale."""
        log.warning("Filtered-recall index not updated (%s); it is rebuilt on next use.", exc)
        self._appending = False

    def reset(self) -> None:
        """Stop trusting the files (the vectors change meaning, as in a re-embedding)."""
        self._write_stamp(DIRTY)
        self._appending = False

    def _append(self, lines: list[str]) -> None:
        with open(self._rows_path, "a", encoding="utf-8") as out:
            out.write("".join(f"{line}\n" for line in lines))

    def _stamp(self) -> str:
        try:
            return self._stamp_path.read_text().strip()
        except OSError:
            return ""

    def _write_stamp(self, text: str) -> None:
        self.folder.mkdir(exist_ok=True)
        write_atomic(self._stamp_path, text, durable=False)  # a lost stamp only costs a rebuild

    # -- reading (under at least the shared hold) -------------------------------------------

    def fresh(self, generation: int, collection: Any) -> None:
        """Bring the in-memory view up to the files, rebuilding them from Chroma if stale."""
        if not self._appending and self._stamp() != str(generation):
            self._rebuild(collection)
            self._write_stamp(str(generation))
        try:
            self._refresh()
        except (ValueError, IndexError, KeyError, OSError):  # torn or foreign files: start over
            self._rebuild(collection)
            self._refresh()

    def nearest(
        self,
        query: np.ndarray,
        k: int,
        kind: str | None,
        spaces: Sequence[str],
        after: float | None,
    ) -> list[tuple[str, float]]:
        """The ids of the k live rows nearest the query that pass the filter, nearest first."""
        rows, matrix, created, reduced = self._subset(kind, spaces)
        usable = None if after is None else created >= after
        unit = _unit(np.asarray(query, dtype=np.float32).reshape(1, -1)).ravel()
        if reduced and self._projection is not None:
            picked = self._projection.candidates(unit, matrix, usable)  # a few hundred rows
            rows, matrix, usable = rows[picked], self._vectors()[rows[picked]], None
        # einsum runs on this thread; BLAS's threads cost 5-20 ms a call on a busy machine
        scores = np.einsum("ij,j->i", matrix, unit)
        if usable is not None:
            scores[~usable] = -np.inf
        count = min(k, len(scores) if usable is None else int(usable.sum()))
        if count <= 0:
            return []
        top = (
            np.argpartition(-scores, count - 1)[:count] if len(scores) > count else np.arange(count)
        )
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[rows[i]], float(1.0 - scores[i])) for i in top]

    def _subset(self, kind: str | None, spaces: Sequence[str]) -> tuple[Any, ...]:
        """The live rows of a kind and namespaces: row numbers, vectors, creation times, reduced.

        A subset of up to EXACT_ROWS rows keeps its full vectors; a larger one keeps only their
        projections (memory/projection.py), and its best rows are re-ranked on the full ones.
        """
        key = (kind, tuple(sorted(spaces)), self.version)
        if key not in self._subsets:
            alive = np.asarray(self._alive, dtype=bool)
            if kind is not None:
                alive &= np.asarray(self._kinds) == kind
            if spaces:
                alive &= np.isin(np.asarray(self._spaces), list(spaces))
            rows = np.flatnonzero(alive)
            kept = [k for k in self._subsets if k[2] == self.version][-(SUBSETS - 1) :]
            self._subsets = {k: self._subsets[k] for k in kept}
            created = np.asarray(self._created)[rows]
            first = self._projection
            trusted = first is not None and first.agreement >= projection.AGREEMENT
            reduced = trusted and len(rows) > EXACT_ROWS
            if reduced and first is not None:
                whole = len(rows) == first.count  # no row dropped: no copy
                matrix = first.rows if whole else first.rows[rows]
            else:
                matrix = np.ascontiguousarray(self._vectors()[rows])
            self._subsets[key] = (rows, matrix, created, reduced)
        return self._subsets[key]

    def records(self, ids: Sequence[str]) -> list[bytes] | None:
        """The stored record JSON of these live ids, or None if one is not here."""
        rows = [self._row.get(i) for i in ids]
        if any(r is None or not self._spans[r][1] for r in rows):
            return None
        with open(self._rows_path, "rb") as source:
            found = []
            for row in rows:
                start, length = self._spans[row]  # type: ignore[index]
                source.seek(start)
                found.append(source.read(length))
        return found

    def live(self) -> int:
        """How many live rows the index holds."""
        return len(self._row)

    def _vectors(self) -> np.ndarray:
        if not self._ids:
            return np.zeros((0, 1), dtype=np.float32)
        if self._matrix is None or len(self._matrix) != len(self._ids):
            dims = _dims(self._vectors_path, len(self._ids))
            shape = (len(self._ids), dims)
            self._matrix = np.memmap(self._vectors_path, dtype=np.float32, mode="r", shape=shape)
        return self._matrix

    def _refresh(self) -> None:
        """Read the rows appended since the last look (all of them after a rebuild)."""
        try:
            stat = self._rows_path.stat()
        except FileNotFoundError:
            self._clear()
            return
        if stat.st_ino != self._inode or stat.st_size < self._offset:
            self._clear()
            self._inode = stat.st_ino
        if stat.st_size == self._offset:
            return
        with open(self._rows_path, "rb") as rows:
            rows.seek(self._offset)
            tail = rows.read()
        lines = tail[: tail.rfind(b"\n") + 1].splitlines(keepends=True)
        parts = [line.rstrip(b"\n").partition(b"\t") for line in lines]
        heads = json.loads(b"[" + b",".join(head for head, _, _ in parts) + b"]")  # one parse
        at = self._offset
        for line, fields, (head, _, record) in zip(lines, heads, parts, strict=True):
            self._apply(fields, (at + len(head) + 1, len(record)))
            at += len(line)
        self._offset = at
        self.version += 1
        self._project(self._vectors())  # the vectors file must hold one row per '+' line

    def _project(self, vectors: np.ndarray) -> None:
        """Keep the first pass in step: fitted past EXACT_ROWS rows, refitted as they double."""
        if len(vectors) <= EXACT_ROWS:
            self._projection = None
        elif self._projection is None or len(vectors) >= 2 * self._projection.fitted_on:
            self._projection = projection.Projection(vectors)
        else:
            self._projection.extend(vectors)

    def _apply(self, fields: list[Any], span: tuple[int, int]) -> None:
        if (old := self._row.pop(fields[1], None)) is not None:
            self._alive[old] = False
        if fields[0] == "+":
            self._row[fields[1]] = len(self._ids)
            self._spans.append(span)
            self._ids.append(fields[1])
            self._kinds.append(fields[2])
            self._spaces.append(fields[3])
            self._created.append(fields[4])
            self._alive.append(True)

    def _rebuild(self, collection: Any) -> None:
        """Write the files afresh from every live record in Chroma, then swap them in."""
        self.folder.mkdir(exist_ok=True)
        with (
            replacing(self._vectors_path, durable=False) as vec_out,
            replacing(self._rows_path, durable=False) as row_out,
        ):
            offset = 0
            while True:
                with _chroma("index memories for filtered recall"):
                    got = collection.get(
                        limit=REBUILD_PAGE, offset=offset,
                        include=["embeddings", "metadatas", "documents"],
                    )  # fmt: skip
                if len(got["ids"]):
                    vec_out.write(_unit(np.asarray(got["embeddings"], np.float32)).tobytes())
                    rows_of = zip(got["ids"], got["metadatas"], got["documents"], strict=True)
                    row_out.writelines(
                        f"{_line('+', i, _with_text(m, d))}\n".encode() for i, m, d in rows_of
                    )
                if len(got["ids"]) < REBUILD_PAGE:
                    break
                offset += REBUILD_PAGE
        self._clear()


def _line(op: str, memory_id: str, meta: dict[str, Any]) -> str:
    """The filter fields as JSON, a tab, then the record's own JSON (read only when recalled)."""
    head = json.dumps([op, memory_id, meta["kind"], meta["namespace"], meta["created_ts"]])
    return f"{head}\t{meta['record']}"  # JSON escapes tabs and newlines inside it


def _with_text(meta: dict[str, Any], document: str | None) -> dict[str, Any]:
    """An older store's metadata, its record JSON given the text Chroma kept as the document."""
    if document is None or '"text":' in meta["record"]:
        return meta
    return meta | {"record": json.dumps({**json.loads(meta["record"]), "text": document})}


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)


def _dims(path: Path, rows: int) -> int:
    size = path.stat().st_size
    if size % (rows * 4):
        raise ValueError(f"{path} holds {size} bytes, not whole rows for {rows} records")
    return size // (rows * 4)
