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
    import sys, time
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
    time.sleep(600)
    """
)


@pytest.fixture
def killed_writer(tmp_path: Path) -> subprocess.Popen:
    """A process that stored two memories and still holds the store open."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "memory")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "stored"
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def test_second_process_gets_a_clear_lock_error_then_recalls_after_a_kill(
    killed_writer: subprocess.Popen, tmp_path: Path, offline: OfflineEmbedder
) -> None:
    with pytest.raises(
        StoreLocked, match=rf"in use by another process \(pid {killed_writer.pid}\)"
    ):
        MemoryStore.open(tmp_path / "memory", embedder=offline)
    os.kill(killed_writer.pid, signal.SIGKILL)
    killed_writer.wait(10)
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        hit = store.recall("Where is the staging environment hosted?", k=1)[0].record
        decision = store.recall("Which Python versions do we support?", k=1)[0].record
    assert hit.text == "The staging cluster runs in the Frankfurt region."
    assert (hit.source.path, hit.source.content_hash, hit.source.session_id) == (
        "docs/infra.md", "ab" * 32, "s-42",
    )  # fmt: skip
    assert hit.tags == ["infra"]
    assert (decision.kind.value, decision.source.commit) == ("decision", "deadbeefcafe")


def test_lock_is_released_on_close(tmp_path: Path, offline: OfflineEmbedder) -> None:
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as store:
        with pytest.raises(StoreLocked):
            MemoryStore.open(tmp_path / "memory", embedder=offline)
        store.add("A fact kept across opens.", "fact")
    with MemoryStore.open(tmp_path / "memory", embedder=offline) as again:
        assert again.count() == 1


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
