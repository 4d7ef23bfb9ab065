"""Advisory locks that name their holder: a non-blocking flock on a small JSON file.

The kernel drops a flock when its process dies (even by SIGKILL), so a lock is never stale;
the file's content only says who holds it, for the one-line refusal.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gemloom.errors import ExitCode, GemloomError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

MODE = "flock" if fcntl is not None else "none"
"""How gemloom keeps two processes off one session ("flock", or "none" without fcntl)."""


class Busy(GemloomError):
    """Another process holds the lock."""

    exit_code = ExitCode.BUSY


def holder_text(raw: bytes) -> str:
    """'pid 123 on host, `gemloom run ...`, since 12:00:03' from a lock file's content."""
    try:
        who = json.loads(raw.decode())
        since = time.strftime("%H:%M:%S", time.localtime(float(who["started"])))
        return f"pid {who['pid']} on {who['host']} (`{who['command']}`, since {since})"
    except (ValueError, KeyError, TypeError):
        return "another process"


def _me() -> bytes:
    command = " ".join(["gemloom", *sys.argv[1:]])[:200]
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command}
    return json.dumps({**me, "started": time.time()}).encode()


@contextmanager
def hold(path: Path, what: str) -> Iterator[None]:
    """Hold the lock at `path` for the block, or raise Busy at once naming the holder."""
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        why = exc.strerror or exc
        raise GemloomError(f"Cannot create the lock {path}: {why}; check GEMLOOM_HOME.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_text(os.pread(fd, 4096, 0))
            raise Busy(f"{what} is in use by {holder}: wait for it to finish.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _me(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the flock
