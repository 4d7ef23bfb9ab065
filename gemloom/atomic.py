"""The one atomic write: a whole file or nothing, safe against other writers and planted links.

Each writer gets its own temporary file beside the target, created exclusively (`O_EXCL`, and
`O_NOFOLLOW` through `tempfile.mkstemp`), so two processes writing the same file never share a
temporary name and a symlink planted under a predictable name is never followed. The data is
flushed to disk before `os.replace` swaps it in, so a reader sees the old file or the new one,
never half of either, and a crash leaves at worst a stray temporary file, never a torn target.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".gemloom-tmp"
_umask_lock = threading.Lock()
_umask: int | None = None


def _current_umask() -> int:
    """The process umask, read once (setting it back at once is the only portable way)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            _umask = os.umask(0o022)
            os.umask(_umask)
        return _umask


def _mode_for(path: Path, mode: int | None) -> int:
    """The mode the new file gets: `mode`, else the replaced file's, else 0o666 minus umask."""
    if mode is not None:
        return mode
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_current_umask()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot open folders, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def replacing(
    path: str | Path, *, mode: int | None = None, durable: bool = True
) -> Iterator[BinaryIO]:
    """A binary file to write `path` anew in pieces; it replaces `path` only if the block ends.

    `durable=False` skips the fsyncs, for caches whose loss only costs time.
    """
    target = Path(path)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), _mode_for(target, mode))
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        _sync_folder(target.parent)


def write_atomic(
    path: str | Path, data: str | bytes, *, mode: int | None = None, durable: bool = True
) -> Path:
    """Replace `path` with `data` (text is UTF-8) atomically; OSError if it cannot be written.

    `durable=False` skips the fsyncs, for caches whose loss only costs time.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(path, mode=mode, durable=durable) as handle:
        handle.write(payload)
    return Path(path)
