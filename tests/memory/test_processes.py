"""The embedded store across processes: one writer, a kill, and a recall from the next process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.errors import MemoryStoreError, StoreLocked, StoreUnavailable
from gemloom.memory.store import MemoryStore

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from gemloom.memory.embedders import OfflineEmbedder
    from gemloom.memory.records import Source
    from gemloom.memory.store import MemoryStore

    store = MemoryStore.open(Path(sys.argv[1]), embedder=OfflineEmbedder())
    store.add("The staging cluster runs in the Frankfurt region.", "fact", tags=["infra"],
              source=Source(path="docs/infra.md", content_hash="ab" * 32, session_id="s-42"))
    store.add("Dana decided to drop support for Python 3.9.", "decision",
              source=Source(commit="deadbeefcafe"))
    print("stored", flush=True)
    for line in sys.stdin:  # idle, store open, like a watcher waiting for files
        print(store.recall(line.strip(), k=1)[0].record.text, flush=True)
    """
)
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gemloom.memory.lock import StoreLock

    lock = StoreLock(Path(sys.argv[1])).open()
    with lock.hold(write=True):
        lock.bump()
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


@pytest.fixture
def idle_writer(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A process that stored two memories and keeps the store open, idle."""
    proc = _start(WRITER, str(tmp_path / "memory"))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "stored"
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def test_an_idle_writer_locks_nobody_out_and_sees_others_writes(
    idle_writer: subprocess.Popen, tmp_path: Path, offline: OfflineEmbedder, dead_host: str
) -> None:
    searched = subprocess.run(
        [sys.executable, "-m", "gemloom", "memory", "search", "Where is staging?", "-k", "1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "GEMLOOM_HOME": str(tmp_path), "OLLAMA_HOST": dead_host},
    )  # fmt: skip
    assert searched.returncode == 0, searched.stderr
    assert "Frankfurt" in searched.stdout
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        store.add("The release train leaves every second Thursday.", "fact")
        assert store.count() == 3
    assert idle_writer.stdin is not None and idle_writer.stdout is not None
    idle_writer.stdin.write("When do releases happen?\n")
    idle_writer.stdin.flush()
    assert (
        idle_writer.stdout.readline().strip() == "The release train leaves every second Thursday."
    )


def test_memories_survive_a_kill_of_the_idle_writer(
    idle_writer: subprocess.Popen, tmp_path: Path, offline: OfflineEmbedder
) -> None:
    os.kill(idle_writer.pid, signal.SIGKILL)
    idle_writer.wait(10)
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        hit = store.recall("Where is the staging environment hosted?", k=1)[0].record
        decision = store.recall("Which Python versions do we support?", k=1)[0].record
    assert hit.text == "The staging cluster runs in the Frankfurt region."
    assert (hit.source.path, hit.source.content_hash, hit.source.session_id) == (
        "docs/infra.md", "ab" * 32, "s-42",
    )  # fmt: skip
    assert hit.tags == ["infra"]
    assert (decision.kind.value, decision.source.commit) == ("decision", "deadbeefcafe")


def test_a_write_in_progress_is_waited_for(tmp_path: Path, offline: OfflineEmbedder) -> None:
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        store.add("Stored before the other process wrote.", "fact")
    holder = _start(HOLDER, str(tmp_path / "memory"), "1.5")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
            assert holder.poll() is not None  # the open waited for the holder to finish
            assert store.count() == 1
    finally:
        holder.kill()
        holder.wait(10)


def test_a_write_that_outlasts_the_wait_gives_one_clear_line(
    tmp_path: Path, offline: OfflineEmbedder
) -> None:
    holder = _start(HOLDER, str(tmp_path / "memory"), "600")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreLocked) as caught:
            MemoryStore.open(tmp_path / "memory", embedder=offline, lock_wait=0.5)
        assert f"stayed busy for 0.5 s (last writer: pid {holder.pid})" in str(caught.value)
        assert "\n" not in str(caught.value)
    finally:
        holder.kill()
        holder.wait(10)
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:  # a kill frees it
        assert store.count() == 0


def test_two_stores_on_one_directory_in_one_process(
    tmp_path: Path, offline: OfflineEmbedder
) -> None:
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        with MemoryStore.open(tmp_path / "memory", embedder=offline) as other:
            other.add("Written through the second handle.", "fact")
        store.add("A fact kept across opens.", "fact")
        assert store.count() == 2
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as again:
        assert again.count() == 2


def test_store_path_that_cannot_be_a_directory(tmp_path: Path, offline: OfflineEmbedder) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="Cannot use the memory store directory"):
        MemoryStore.open(blocker / "memory", embedder=offline)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a directory read-only even for root (chattr +i), else by permission bits."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
    elif not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)]).returncode:
        pytest.skip("running as root on a file system without chattr +i")
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_read_only_new_store_directory(tmp_path: Path, offline: OfflineEmbedder) -> None:
    folder = tmp_path / "memory"
    folder.mkdir()
    with read_only(folder), pytest.raises(StoreUnavailable, match="writable directory"):
        MemoryStore.open(folder, embedder=offline)


def test_read_only_existing_store(tmp_path: Path, offline: OfflineEmbedder) -> None:
    folder = tmp_path / "memory"
    with MemoryStore.open(folder, embedder=offline) as store:
        store.add("Stored before the directory became read-only.", "fact")
    with (
        read_only(folder),
        pytest.raises(MemoryStoreError) as caught,
        MemoryStore.open(folder, embedder=offline) as store,
    ):
        store.add("Cannot be stored.", "fact")
    assert "writable" in str(caught.value) and "\n" not in str(caught.value)
    with MemoryStore.open(folder, embedder=offline) as store:
        assert [r.text for r in store.records()] == [
            "Stored before the directory became read-only."
        ]


def test_unreachable_server_gives_a_clear_error(dead_host: str, offline: OfflineEmbedder) -> None:
    with pytest.raises(StoreUnavailable, match="Cannot reach the Chroma server"):
        MemoryStore.open(url=dead_host, embedder=offline)


def test_server_url_comes_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, dead_host: str, offline: OfflineEmbedder
) -> None:
    monkeypatch.setenv("GEMLOOM_CHROMA_URL", dead_host)
    with pytest.raises(StoreUnavailable, match=f"Chroma server at {dead_host}"):
        MemoryStore.open(embedder=offline)
