"""The per-file pack cache under the data directory, sharded so a small edit rewrites little.

Shards are MessagePack data (never pickle): a crafted or corrupt cache file can at worst be
ignored and rebuilt, it cannot run code. Records hold redacted text only, and only where it
differs from the file: a clean file's text is read from the file again, checked by its hash.
A record made without a scan for secrets says so (`scanned`), keeps no text and no outline,
and is scanned when it is read back for showing (`files.load`); every scanned record was
scanned under the rules named in VERSION.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import ormsgpack

from gemloom.atomic import write_atomic
from gemloom.secrets import VERSION as SECRET_RULES
from gemloom.secrets import Redaction
from gemloom.tokens import CLASS_WEIGHTS
from gemloom.tools.codebase.files import FileRecord

SHARDS = 32
SUFFIX = ".msgpack"
# Records depend on the estimator's weights, the secret rules and the record layout: a change
# to any of them empties the cache, so text redacted under older rules is redacted again.
VERSION = (
    "7:"
    + hashlib.sha256(repr(sorted(CLASS_WEIGHTS.items())).encode()).hexdigest()[:12]
    + ":"
    + SECRET_RULES
)


def _shard(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % SHARDS


def _pack_record(r: FileRecord) -> list[Any]:
    found = [[x.kind, x.line] for x in r.redactions]
    if not (r.scanned or (r.own and r.outline is None and not r.redactions)):
        raise ValueError("an unscanned record keeps no text, outline or redactions")
    body = None if r.own else r.body  # the file itself holds it: read and checked on use
    return [r.size, r.mtime_ns, r.digest, body, r.tokens, found, r.kind, r.outline, r.tagged,
            r.own, r.scanned]  # fmt: skip


def _unpack_record(row: list[Any]) -> FileRecord:
    size, mtime_ns, digest, body, tokens, found, kind, outline, tagged, own, scanned = row
    if not (type(size) is int and type(mtime_ns) is int and type(digest) is str):
        raise ValueError("bad record")
    if scanned is not True and not (own is True and body is None and outline is None):
        raise ValueError("bad record")  # an unscanned record holds no text of its own
    if not (body is None or type(body) is bytes) or type(tokens) not in (int, float):
        raise ValueError("bad record")
    if type(kind) is not str or not (outline is None or type(outline) is str):
        raise ValueError("bad record")
    redactions = tuple(Redaction(str(k), int(n)) for k, n in found) if found else ()
    return FileRecord(
        size,
        mtime_ns,
        digest,
        body,
        tokens,
        redactions,
        kind,
        outline,
        tagged is True,
        own is True,
        scanned is True,
    )


def decode(data: bytes) -> dict[str, FileRecord]:
    """The records of one shard file, or {} when it is from another version or not ours."""
    try:
        version, rows = ormsgpack.unpackb(data)
        if version != VERSION or not isinstance(rows, dict):
            return {}
        return {str(path): _unpack_record(row) for path, row in rows.items()}
    except (ormsgpack.MsgpackDecodeError, ValueError, TypeError, KeyError):
        return {}  # corrupt, truncated or crafted: rebuilt from the files


def encode(records: dict[str, FileRecord]) -> bytes:
    """One shard file's bytes."""
    return ormsgpack.packb([VERSION, {p: _pack_record(r) for p, r in records.items()}])


class FileCache:
    """Records by relative path for one root; a shard is read when a path in it is first asked
    for, and only shards that changed are written back."""

    def __init__(self, data_dir: Path | None, root: Path):
        key = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        self.folder = data_dir / "codebase-cache" / key if data_dir else None
        self._shards: dict[int, dict[str, FileRecord]] = {}
        self._dirty: set[int] = set()

    def _file(self, index: int) -> Path:
        assert self.folder is not None
        return self.folder / f"{index:02x}{SUFFIX}"

    def _shard_of(self, path: str) -> tuple[int, dict[str, FileRecord]]:
        index = _shard(path)
        if index not in self._shards:
            self._shards[index] = self._read(index)
        return index, self._shards[index]

    def _read(self, index: int) -> dict[str, FileRecord]:
        if self.folder is None:
            return {}
        try:
            return decode(self._file(index).read_bytes())
        except OSError:
            return {}  # no cache yet: it is built

    def get(self, path: str) -> FileRecord | None:
        """The cached record for `path`, if any."""
        return self._shard_of(path)[1].get(path)

    def put(self, path: str, record: FileRecord) -> None:
        """Remember `record` for `path` (also call after changing a cached record in place).

        An unscanned record (`scanned` False) keeps no text: the file holds it, and whatever
        reads the record back scans it before showing it (`files.load`).
        """
        index, shard = self._shard_of(path)
        shard[path] = record
        self._dirty.add(index)

    def forget(self, paths: set[str]) -> None:
        """Forget the records of these files (gone from the tree), reading only their shards."""
        for path in paths:
            index, shard = self._shard_of(path)
            if shard.pop(path, None) is not None:
                self._dirty.add(index)

    def keep_only(self, paths: set[str]) -> None:
        """Forget files that are no longer part of the tree (reads every shard)."""
        for index in range(SHARDS):
            if index not in self._shards:
                self._shards[index] = self._read(index)
            shard = self._shards[index]
            gone = [p for p in shard if p not in paths]
            for path in gone:
                del shard[path]
            if gone:
                self._dirty.add(index)

    def save(self) -> None:
        """Write the shards that changed; a failure to write only costs speed next time."""
        if self.folder is None:
            return
        try:
            for old in self.folder.glob("*.pickle"):  # left by versions that pickled: never read
                old.unlink(missing_ok=True)
            if not self._dirty:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            for index in sorted(self._dirty):
                write_atomic(self._file(index), encode(self._shards[index]), durable=False)
        except OSError:
            return
        self._dirty.clear()
