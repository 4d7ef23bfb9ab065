"""One context size per model at a time: a num_ctx floor per server and model that only grows.

Ollama reloads a model whenever a request's num_ctx differs from the loaded one (server/sched.go
needsReload). Every gemloom process on a host reads the same floor file in the data directory,
so once one of them needed a larger step, the others ask for that step too instead of making
the server reload back and forth.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from gemloom.atomic import write_atomic

FILE_NAME = "num_ctx.json"
LOCK_WAIT = 5.0  # seconds; a stuck lock must not stop a chat


class ContextFloor:
    """The per-model num_ctx floors kept in `data_dir/num_ctx.json`."""

    def __init__(self, data_dir: Path, host: str):
        self.path = data_dir / FILE_NAME
        self.host = host
        self._seen: tuple[tuple[int, int, int], dict[str, int]] | None = None

    def _key(self, model: str) -> str:
        return f"{self.host} {model}"

    def _read(self) -> dict[str, int]:
        """The floors in the file, read again only when it changed: every request asks, and
        every write replaces the file (a new inode), so its stat tells a change."""
        try:
            st = os.stat(self.path)
        except OSError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._seen is not None and self._seen[0] == stamp:
            return self._seen[1]
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        floors = {k: v for k, v in data.items() if isinstance(v, int)}
        self._seen = (stamp, floors)
        return floors

    def get(self, model: str) -> int:
        """The floor for a model, 0 when none is kept."""
        return self._read().get(self._key(model), 0)

    def raise_to(self, model: str, num_ctx: int) -> int:
        """Store `num_ctx` if it is above the floor; return the floor afterwards."""
        if num_ctx <= (floor := self.get(model)):
            return floor
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.path) + ".lock", timeout=LOCK_WAIT):
                floors = dict(self._read())
                key = self._key(model)
                floors[key] = max(floors.get(key, 0), num_ctx)
                self._write(floors)
                return floors[key]
        except (OSError, Timeout):
            return num_ctx  # an unwritable data dir costs reloads, never a failed chat

    def _write(self, floors: dict[str, int]) -> None:
        text = json.dumps(floors, indent=1, sort_keys=True)
        write_atomic(self.path, text, durable=False)  # a lost floor only costs a reload
