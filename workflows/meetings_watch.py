"""The boundary to the file system watcher: which files are complete and ready to process."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from gemloom.errors import GemloomError
from gemloom.tools.audio import EXTENSIONS

PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download")


class WatchError(GemloomError):
    """The folder cannot be watched."""


def has_close_events() -> bool:
    """Whether the platform reports close-after-write (Linux inotify)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # pragma: no cover - not Linux
        return False
    return isinstance(Observer, type) and issubclass(Observer, InotifyObserver)


class Candidates:
    """Files that may be recordings, each waiting until its size and mtime hold still."""

    def __init__(self, root: Path, out: Path, recursive: bool):
        self.root, self.out, self.recursive = root.resolve(), out.resolve(), recursive
        self._due: dict[Path, tuple[float, tuple[int, int]]] = {}
        self._lock = threading.Lock()

    def wanted(self, path: Path) -> bool:
        """A recording's name, inside the watched folder, outside the outputs, not partial."""
        name = path.name
        if name.startswith(("~$", ".")) or name.lower().endswith(PARTIAL_SUFFIXES):
            return False
        if path.suffix.lower() not in EXTENSIONS or path.is_relative_to(self.out):
            return False
        return path.parent == self.root or (self.recursive and path.is_relative_to(self.root))

    def offer(self, raw: str | bytes, wait: float) -> None:
        """Consider a path ready once it has not changed for `wait` seconds."""
        path = Path(os.fsdecode(raw)).absolute()
        if not self.wanted(path):
            return
        with self._lock:
            self._due[path] = (time.monotonic() + wait, _signature(path))

    def forget(self, raw: str | bytes) -> None:
        """Drop a path that was deleted or moved away."""
        with self._lock:
            self._due.pop(Path(os.fsdecode(raw)).absolute(), None)

    def ready(self, quiet: float) -> list[Path]:
        """Paths whose wait is over and whose size and mtime did not change meanwhile."""
        now, done = time.monotonic(), []
        with self._lock:
            for path, (due, sig) in list(self._due.items()):
                if due > now:
                    continue
                current = _signature(path)
                if current == (-1, -1):
                    del self._due[path]
                elif current != sig:  # still growing: wait for another quiet period
                    self._due[path] = (now + quiet, current)
                else:
                    del self._due[path]
                    done.append(path)
        return sorted(done)

    def pending(self) -> int:
        """How many paths are waiting."""
        with self._lock:
            return len(self._due)


def _signature(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


class _Handler(FileSystemEventHandler):
    """Close-write and rename events make a file ready soon; plain writes only without them."""

    def __init__(self, candidates: Candidates, closes: bool, quiet: float, settle: float):
        self.candidates, self.closes, self.quiet, self.settle = candidates, closes, quiet, settle

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.candidates.offer(event.src_path, self.settle)

    def on_moved(self, event: FileSystemEvent) -> None:
        self.candidates.forget(event.src_path)
        if not event.is_directory:
            self.candidates.offer(event.dest_path, self.settle)

    def on_created(self, event: FileSystemEvent) -> None:
        if not self.closes and not event.is_directory:
            self.candidates.offer(event.src_path, self.quiet)

    on_modified = on_created

    def on_deleted(self, event: FileSystemEvent) -> None:
        self.candidates.forget(event.src_path)


def start_observer(
    candidates: Candidates, closes: bool, quiet: float, settle: float
) -> BaseObserver:
    """A running watchdog observer feeding `candidates`."""
    observer = Observer()
    handler = _Handler(candidates, closes, quiet, settle)
    try:
        observer.schedule(handler, str(candidates.root), recursive=candidates.recursive)
        observer.start()
    except OSError as exc:
        raise WatchError(f"Cannot watch {candidates.root}: {exc.strerror or exc}.") from None
    return observer


def existing(candidates: Candidates) -> list[Path]:
    """Recordings already in the folder (they arrived while the watcher was down)."""
    found = candidates.root.rglob("*") if candidates.recursive else candidates.root.iterdir()
    return sorted(p for p in found if p.is_file() and candidates.wanted(p.absolute()))
