"""The shared meetings queue on a real PostgreSQL server: claims, leases and the shared ledger."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gemloom.cli import main
from gemloom.errors import SettingsError
from gemloom.settings import load_settings
from gemloom.tools.audio.transcript import Segment
from gemloom.workflows.meetings.ledger import Ledger, LedgerError, open_ledger
from gemloom.workflows.meetings.queue import Queue
from gemloom.workflows.meetings.shared_ledger import SharedLedger


def _recording(folder: Path, name: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def test_two_watchers_share_states_and_chunks(postgres_url: str, tmp_path: Path) -> None:
    first = SharedLedger(postgres_url, tmp_path / "a" / "meetings.sqlite3")
    second = SharedLedger(postgres_url, tmp_path / "b" / "meetings.sqlite3")
    said = [Segment(0.0, 2.0, "we ship on Friday")]
    first.set_state("d1", "board.wav", "working")
    first.save_chunk("d1", 0, 0.0, 30.0, said)
    assert second.get("d1").state == "working"
    assert second.chunks("d1") == {0: (0.0, 30.0, said)}
    second.save_chunk("d1", 0, 0.0, 30.0, said)  # transcribed twice: counted, not duplicated
    second.set_state("d1", "board.wav", "done", None, ["/notes/board.md"])
    assert first.runs("d1") == {0: 2}
    assert first.get("d1").outputs == ["/notes/board.md"]
    first.close()
    second.close()


def test_the_local_ledger_stays_the_default(tmp_path: Path) -> None:
    ledger = open_ledger(load_settings(), tmp_path / "meetings.sqlite3")
    assert type(ledger) is Ledger
    ledger.close()


def test_a_job_goes_to_one_watcher_and_its_lease_runs_out(
    postgres_url: str, tmp_path: Path, wait_until
) -> None:
    inbox = tmp_path / "inbox"
    path = _recording(inbox, "board.wav", b"one meeting")
    first = Queue(postgres_url, inbox, lease=1.0, worker="first")
    second = Queue(postgres_url, inbox, lease=1.0, worker="second")
    first.offer(path, "d1")
    second.offer(path, "d1")  # both saw the file: still one job
    claim = first.claim()
    assert claim is not None and (claim.digest, claim.path) == ("d1", "board.wav")
    assert second.claim() is None  # held by the first
    assert first.renew("d1")
    # The first watcher stops renewing (it died): the lease runs out, the second takes over.
    wait_until(lambda: second.claim() is not None, timeout=10, every=0.2)
    assert not first.renew("d1") and not first.finish("d1", "done")
    assert second.finish("d1", "done")
    assert first.claim() is None and second.claim() is None
    first.close()
    second.close()


def test_a_stopped_watcher_gives_its_job_back_at_once(postgres_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = _recording(inbox, "retro.wav", b"another meeting")
    first = Queue(postgres_url, inbox, lease=600.0, worker="first")
    second = Queue(postgres_url, inbox, lease=600.0, worker="second")
    first.offer(path, "d2")
    assert first.claim() is not None
    first.release("d2")
    assert second.claim().digest == "d2"  # no need to wait for the 10-minute lease
    first.close()
    second.close()


def test_a_failed_job_is_queued_again_when_a_watcher_offers_it(
    postgres_url: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    path = _recording(inbox, "sync.wav", b"a third meeting")
    queue = Queue(postgres_url, inbox, lease=60.0)
    queue.offer(path, "d3")
    assert queue.claim() is not None
    assert queue.finish("d3", "failed")
    queue._next = 0.0
    assert queue.claim() is None  # failed: waits for the next offer (a watcher's start)
    queue.offer(path, "d3")
    queue._next = 0.0
    assert queue.claim().digest == "d3"
    assert queue.finish("d3", "done")
    queue.offer(path, "d3")  # done: offering again changes nothing
    queue._next = 0.0
    assert queue.claim() is None
    queue.close()


def test_an_unreachable_queue_is_one_line_naming_the_setting(tmp_path: Path, dead_host: str):
    port = dead_host.rsplit(":", 1)[1]
    with pytest.raises(LedgerError) as caught:
        SharedLedger(f"postgresql://team:secret@127.0.0.1:{port}/x", tmp_path / "m.sqlite3")
    message = str(caught.value)
    assert "GEMLOOM_QUEUE_URL" in message and "\n" not in message
    assert "secret" not in message and "team:***@" in message


def test_watch_with_an_unreachable_queue_exits_with_one_line(
    tmp_path: Path,
    dead_host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    port = dead_host.rsplit(":", 1)[1]
    monkeypatch.setenv("GEMLOOM_QUEUE_URL", f"postgresql://u@127.0.0.1:{port}/x")
    code = main(["watch", str(inbox)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "GEMLOOM_QUEUE_URL" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_a_queue_url_that_is_not_postgresql_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMLOOM_QUEUE_URL", "mysql://team:hunter2@db/gemloom")
    with pytest.raises(SettingsError, match="GEMLOOM_QUEUE_URL") as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)  # a URL may hold a password: not echoed


def test_claims_are_ordered_oldest_first(postgres_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    queue = Queue(postgres_url, inbox.parent / "inbox", lease=60.0)
    for n in range(3):
        queue.offer(_recording(inbox, f"m{n}.wav", bytes([n])), f"d{n}")
        time.sleep(0.01)  # distinct creation times
    taken = []
    while claim := queue.claim():
        taken.append(claim.name)
        queue.finish(claim.digest, "done")
    assert taken == ["m0.wav", "m1.wav", "m2.wav"]
    queue.close()


def _state(url: str, digest: str) -> tuple[str, str | None]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT state, outcome FROM meeting_jobs WHERE digest=%s", (digest,)
        ).fetchone()


def test_work_offers_ready_files_and_closes_their_jobs(postgres_url: str, tmp_path: Path) -> None:
    from gemloom.workflows.meetings.ledger import content_hash
    from gemloom.workflows.meetings.pipeline import Outcome
    from gemloom.workflows.meetings.queue import work

    inbox = tmp_path / "inbox"
    path = _recording(inbox, "board.wav", b"the board meeting")
    ledger = SharedLedger(postgres_url, tmp_path / "m.sqlite3")
    queue = Queue(postgres_url, inbox, lease=60.0)
    handled = []
    outcomes = work(queue, ledger, [path], lambda p: handled.append(p) or Outcome("done", p, ""))
    assert handled == [path.resolve()] and [o.status for o in outcomes] == ["done"]
    assert _state(postgres_url, content_hash(path)) == ("finished", "done")
    assert work(queue, ledger, [path], lambda p: handled.append(p)) == []  # done: not again
    queue.close()
    ledger.close()


def test_work_gives_a_stopped_recording_back(postgres_url: str, tmp_path: Path) -> None:
    from gemloom.workflows.meetings.ledger import content_hash
    from gemloom.workflows.meetings.pipeline import Outcome
    from gemloom.workflows.meetings.queue import work

    inbox = tmp_path / "inbox"
    path = _recording(inbox, "retro.wav", b"the retro")
    ledger = SharedLedger(postgres_url, tmp_path / "m.sqlite3")
    queue = Queue(postgres_url, inbox, lease=600.0)
    work(queue, ledger, [path], lambda p: Outcome("stopped", p, "stopped before chunk 2/4"))
    assert _state(postgres_url, content_hash(path)) == ("queued", None)
    other = Queue(postgres_url, inbox, lease=600.0)
    assert other.claim().name == "retro.wav"  # at once, not after the 10-minute lease
    for q in (queue, other):
        q.close()
    ledger.close()


def test_work_leaves_a_file_not_synced_here_to_others(postgres_url: str, tmp_path: Path) -> None:
    from gemloom.workflows.meetings.ledger import content_hash
    from gemloom.workflows.meetings.queue import work

    here, there = tmp_path / "here", tmp_path / "there"
    path = _recording(here, "sync.wav", b"the sync meeting")
    _recording(there, "sync.wav", b"the sync meet")  # the synced copy is still short
    offering = Queue(postgres_url, here, lease=60.0)
    offering.offer(path, content_hash(path))
    lagging = Queue(postgres_url, there, lease=60.0)
    ledger = SharedLedger(postgres_url, tmp_path / "m.sqlite3")
    assert work(lagging, ledger, [], lambda p: pytest.fail(f"processed {p}")) == []
    assert _state(postgres_url, content_hash(path)) == ("queued", None)
    assert offering.claim() is None  # held back for NOT_HERE seconds, then open to anyone
    for q in (offering, lagging):
        q.close()
    ledger.close()


def test_the_heartbeat_keeps_a_claim_and_says_when_it_was_lost(
    postgres_url: str, tmp_path: Path, wait_until
) -> None:
    from gemloom.workflows.meetings.queue import heartbeat

    inbox = tmp_path / "inbox"
    path = _recording(inbox, "long.wav", b"a long meeting")
    first = Queue(postgres_url, inbox, lease=2.0, worker="first")
    second = Queue(postgres_url, inbox, lease=2.0, worker="second")
    first.offer(path, "d4")
    assert first.claim() is not None
    with heartbeat(first, "d4") as lost:
        for _ in range(2):  # two leases long: renewed all along, so nobody else takes it
            second._next = 0.0
            assert second.claim() is None
            time.sleep(2.0)
        assert not lost.is_set()
        with first._lock:  # the first watcher stalls past its lease (a paused machine)
            time.sleep(2.5)
            second._next = 0.0
            assert second.claim() is not None
        wait_until(lost.is_set, timeout=5)
    assert second.finish("d4", "done") and not first.finish("d4", "done")
    first.close()
    second.close()
