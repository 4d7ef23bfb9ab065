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
from gemloom.tools.audio.decode import EXTENSIONS
from gemloom.workflows.meetings.complete import stated

PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download")


class WatchError(GemloomError):
    """The folder cannot be watched."""


def folder_to_watch(directory: Path | str) -> Path:
    """The folder as a Path, or WatchError when it is not a folder."""
    folder = Path(directory)
    if not folder.is_dir():
        raise WatchError(f"{folder} is not a folder to watch.")
    return folder


def has_close_events() -> bool:
    """Whether the platform reports close-after-write (Linux inotify)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # pragma: no cover - not Linux
        return False
    return isinstance(Observer, type) and issubclass(Observer, InotifyObserver)


PATIENCE = 10  # settle periods to wait for a stated length that never comes (a truncated file)


class Candidates:
    """Files that may be recordings, each waiting until it holds still and is whole.

    A file is ready once its size and mtime held still for the settle time and, for formats
    that state their length (WAV, MP4), that length is reached. A file that stays short of
    it for PATIENCE settle periods after its last change is let through: decoding then says
    how much of it was there.
    """

    def __init__(self, root: Path, out: Path, recursive: bool):
        self.root, self.out, self.recursive = root.resolve(), out.resolve(), recursive
        self._due: dict[Path, tuple[float, tuple[int, int], float]] = {}
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
        now, sig = time.monotonic(), _signature(path)
        with self._lock:
            _, old, changed = self._due.get(path, (0.0, None, now))
            self._due[path] = (now + wait, sig, now if sig != old else changed)

    def forget(self, raw: str | bytes) -> None:
        """Drop a path that was deleted or moved away."""
        with self._lock:
            self._due.pop(Path(os.fsdecode(raw)).absolute(), None)

    def ready(self, quiet: float) -> list[Path]:
        """Paths whose wait is over, unchanged meanwhile, and as long as they say they are."""
        now, done = time.monotonic(), []
        with self._lock:
            for path, (due, sig, changed) in list(self._due.items()):
                if due > now:
                    continue
                current = _signature(path)
                if current == (-1, -1):
                    del self._due[path]
                elif current != sig:  # still growing: wait for another quiet period
                    self._due[path] = (now + quiet, current, now)
                elif not stated(path).complete and now - changed < PATIENCE * quiet:
                    self._due[path] = (now + quiet, current, changed)  # short of its length
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
    """Close-write and rename events start a file's settle time; plain writes only without them.

    Every event restarts the settle time, so a recorder that appends and closes the file
    every second is taken only once it has been quiet for the whole settle time.
    """

    def __init__(self, candidates: Candidates, closes: bool, settle: float):
        self.candidates, self.closes, self.settle = candidates, closes, settle

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.candidates.offer(event.src_path, self.settle)

    def on_moved(self, event: FileSystemEvent) -> None:
        self.candidates.forget(event.src_path)
        if not event.is_directory:
            self.candidates.offer(event.dest_path, self.settle)

    def on_created(self, event: FileSystemEvent) -> None:
        if not self.closes and not event.is_directory:
            self.candidates.offer(event.src_path, self.settle)

    on_modified = on_created

    def on_deleted(self, event: FileSystemEvent) -> None:
        self.candidates.forget(event.src_path)


def start_observer(candidates: Candidates, closes: bool, settle: float) -> BaseObserver:
    """A running watchdog observer feeding `candidates`."""
    observer = Observer()
    handler = _Handler(candidates, closes, settle)
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
