"""The per-file pack cache under the data directory, sharded so a small edit rewrites little."""

from __future__ import annotations

import hashlib
import os
import pickle
import zlib
from pathlib import Path

from gemloom.tokens import CLASS_WEIGHTS
from gemloom.tools.codebase_files import FileRecord

SHARDS = 32
# Records depend on the estimator's weights and the record layout: either change empties the cache.
VERSION = "1:" + hashlib.sha256(repr(sorted(CLASS_WEIGHTS.items())).encode()).hexdigest()[:12]


def _shard(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % SHARDS


class FileCache:
    """Records by relative path for one root; only shards that changed are written back."""

    def __init__(self, data_dir: Path | None, root: Path):
        key = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        self.folder = data_dir / "codebase-cache" / key if data_dir else None
        self._shards: list[dict[str, FileRecord]] = [self._read(i) for i in range(SHARDS)]
        self._dirty: set[int] = set()

    def _read(self, index: int) -> dict[str, FileRecord]:
        if self.folder is None:
            return {}
        try:
            with open(self.folder / f"{index:02x}.pickle", "rb") as handle:
                version, records = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return {}  # no cache yet, or an unreadable one: it is rebuilt
        return records if version == VERSION else {}

    def get(self, path: str) -> FileRecord | None:
        """The cached record for `path`, if any."""
        return self._shards[_shard(path)].get(path)

    def put(self, path: str, record: FileRecord) -> None:
        """Remember `record` for `path` (also call after changing a cached record in place)."""
        index = _shard(path)
        self._shards[index][path] = record
        self._dirty.add(index)

    def keep_only(self, paths: set[str]) -> None:
        """Forget files that are no longer part of the tree."""
        for index, shard in enumerate(self._shards):
            gone = [p for p in shard if p not in paths]
            for path in gone:
                del shard[path]
            if gone:
                self._dirty.add(index)

    def save(self) -> None:
        """Write the shards that changed; a failure to write only costs speed next time."""
        if self.folder is None or not self._dirty:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for index in sorted(self._dirty):
                target = self.folder / f"{index:02x}.pickle"
                temp = target.with_suffix(f".{os.getpid()}.tmp")
                with open(temp, "wb") as handle:
                    pickle.dump((VERSION, self._shards[index]), handle, protocol=5)
                os.replace(temp, target)
        except OSError:
            return
        self._dirty.clear()
