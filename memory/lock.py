"""One writer per embedded store: a non-blocking flock on a file in the store directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from gemloom.memory.errors import StoreLocked, StoreUnavailable

LOCK_NAME = "writer.lock"


class WriterLock:
    """An exclusive lock held for a store's lifetime; a second holder fails at once."""

    def __init__(self, directory: Path):
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> WriterLock:
        """Take the lock or raise StoreLocked naming the holder; never waits."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreUnavailable(
                f"Cannot use the memory store directory {self.path.parent}: {exc.strerror}; "
                "point GEMLOOM_HOME at a writable directory."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreLocked(
                f"The memory store at {self.path.parent} is in use by another process "
                f"(pid {holder}); close it, or share one store through a Chroma server "
                "(`chroma run --path DIR`, then set GEMLOOM_CHROMA_URL)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the next process in (closing the descriptor drops the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
