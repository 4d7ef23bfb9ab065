"""Who may touch an embedded store, and when: flocks held only for one read or one write.

Writers hold an exclusive flock on `writer.lock` while they write, readers a shared one while
they read, so an idle process (a watcher waiting for files) locks nobody out. After each write
the writer bumps a generation number in the lock file; a process that sees another number than
the one its Chroma client was opened at reopens the client first, so it never reads or extends
an index that another process has changed under it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from gemloom.memory.errors import StoreLocked, StoreUnavailable

LOCK_NAME = "writer.lock"
WAIT = 30.0  # seconds one operation waits for another process's write to finish
_POLL = 0.02


class StoreLock:
    """Shared (read) and exclusive (write) holds on one store, reentrant within a process."""

    def __init__(self, directory: Path, wait: float | None = None):
        self.path = directory / LOCK_NAME
        self.wait = WAIT if wait is None else wait
        self._fd: int | None = None
        self._mode = 0  # the flock this process holds now: 0, LOCK_SH or LOCK_EX
        self._depth = 0

    def open(self) -> StoreLock:
        """Create the lock file (and the store directory) or raise StoreUnavailable."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreUnavailable(
                f"Cannot use the memory store directory {self.path.parent}: {exc.strerror}; "
                "point GEMLOOM_HOME at a writable directory."
            ) from None
        return self

    @contextlib.contextmanager
    def hold(self, write: bool) -> Iterator[None]:
        """Hold the store for one operation; a write inside a read is upgraded."""
        want = fcntl.LOCK_EX if write else fcntl.LOCK_SH
        before = self._mode
        if self._mode != fcntl.LOCK_EX and self._mode != want:
            self._flock(want)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._unlock()
            elif before and before != self._mode:
                self._flock(before)  # back to the shared hold of the enclosing read

    def generation(self) -> int:
        """The number of writes recorded in the lock file (read under a hold)."""
        raw = os.pread(self._require(), 64, 0).decode(errors="replace").split()
        return int(raw[0]) if raw and raw[0].isdigit() else 0

    def bump(self) -> int:
        """Record one more write and this process as its writer (under the exclusive hold)."""
        number = self.generation() + 1
        fd = self._require()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{number} {os.getpid()}\n".encode(), 0)
        return number

    def close(self) -> None:
        """Drop any hold and the descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd, self._mode, self._depth = None, 0, 0

    def _flock(self, mode: int) -> None:
        fd = self._require()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                self._mode = mode
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._locked() from None
                time.sleep(_POLL)

    def _unlock(self) -> None:
        if self._fd is not None and self._mode:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._mode = 0

    def _locked(self) -> StoreLocked:
        raw = os.pread(self._require(), 64, 0).decode(errors="replace").split()
        holder = raw[1] if len(raw) > 1 else "unknown"
        return StoreLocked(
            f"The memory store at {self.path.parent} stayed busy for {self.wait:g} s "
            f"(last writer: pid {holder}); try again, or share one store through a Chroma "
            "server (`chroma run --path DIR`, then set GEMLOOM_CHROMA_URL)."
        )

    def _require(self) -> int:
        if self._fd is None:
            raise StoreUnavailable("The memory store was closed; open it again.")
        return self._fd
