"""A meetings queue on PostgreSQL: several watchers of one shared folder, each recording once.

Every watcher offers the recordings it sees (one job per content hash) and claims the oldest
open job with `SELECT ... FOR UPDATE SKIP LOCKED`. A claim is a lease that a heartbeat thread
renews; a watcher that dies stops renewing, its lease runs out and another watcher claims the
job, finishing the recording from the chunks already in the shared ledger.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gemloom.workflows.meetings.ledger import Ledger, LedgerError, content_hash
from gemloom.workflows.meetings.shared_ledger import connect, failed

if TYPE_CHECKING:
    from gemloom.workflows.meetings.pipeline import Outcome

log = logging.getLogger(__name__)
POLL = 1.0  # seconds between claims while no job is open
NOT_HERE = 5.0  # seconds before a job whose file this machine lacks (not synced yet) is retried

LEASE = "now() + make_interval(secs => %(lease)s)"
CLAIM = f"""
UPDATE meeting_jobs SET state='claimed', worker=%(worker)s, claims=claims+1,
    lease_until={LEASE}
WHERE digest = (
    SELECT digest FROM meeting_jobs
    WHERE not_before <= now() AND (state='queued' OR (state='claimed' AND lease_until < now()))
    ORDER BY created LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING digest, path, name
"""
OFFER = """
INSERT INTO meeting_jobs (digest, path, name) VALUES (%s, %s, %s)
ON CONFLICT (digest) DO UPDATE SET state='queued', path=excluded.path, outcome=NULL,
    worker=NULL, not_before=now()
WHERE meeting_jobs.state='failed'
"""
MINE = "digest=%(digest)s AND worker=%(worker)s AND state='claimed'"


@dataclass(frozen=True)
class Claim:
    """A job this watcher holds: a recording's content hash and its path in the folder."""

    digest: str
    path: str  # relative to the watched folder: machines mount a synced folder in many places
    name: str


class Queue:
    """This watcher's view of the shared jobs table."""

    def __init__(self, url: str, root: Path, lease: float, worker: str | None = None):
        self.url, self.root, self.lease = url, root.resolve(), lease
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.conn = connect(url)
        self._lock = threading.Lock()
        self._next = 0.0

    def _run(self, sql: str, args: dict | tuple) -> list[tuple] | int:
        import psycopg

        with self._lock:
            try:
                cur = self.conn.execute(sql, args)
            except psycopg.Error as exc:
                raise failed(self.url, exc) from None
            return cur.fetchall() if cur.description else cur.rowcount

    def offer(self, path: Path, digest: str) -> None:
        """Add a recording as a job, once per content; a failed one is queued again."""
        relative = path.resolve().relative_to(self.root).as_posix()
        self._run(OFFER, (digest, relative, path.name))
        self._next = 0.0  # claim at once: it may be this very job

    def claim(self) -> Claim | None:
        """The oldest open job (or one whose lease ran out), now held by this watcher."""
        if time.monotonic() < self._next:
            return None
        rows = self._run(CLAIM, {"worker": self.worker, "lease": self.lease})
        if not rows:
            self._next = time.monotonic() + POLL
            return None
        return Claim(*rows[0])  # type: ignore[index]

    def renew(self, digest: str) -> bool:
        """Extend the lease; False when the claim was lost (it ran out and was taken)."""
        sql = f"UPDATE meeting_jobs SET lease_until={LEASE} WHERE {MINE}"
        return self._run(sql, {"lease": self.lease, "digest": digest, "worker": self.worker}) == 1

    def finish(self, digest: str, outcome: str) -> bool:
        """Close the job with the recording's outcome; a failed one waits to be offered again."""
        state = "failed" if outcome == "failed" else "finished"
        sql = f"UPDATE meeting_jobs SET state=%(state)s, outcome=%(outcome)s WHERE {MINE}"
        args = {"state": state, "outcome": outcome, "digest": digest, "worker": self.worker}
        return self._run(sql, args) == 1

    def release(self, digest: str, delay: float = 0.0) -> None:
        """Give a job back (stopped, or its file is not here yet), claimable after `delay` s."""
        sql = (
            "UPDATE meeting_jobs SET state='queued', worker=NULL, lease_until=NULL, "
            f"not_before=now() + make_interval(secs => %(delay)s) WHERE {MINE}"
        )
        self._run(sql, {"delay": delay, "digest": digest, "worker": self.worker})
        self._next = 0.0

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()


@contextlib.contextmanager
def heartbeat(queue: Queue, digest: str) -> Iterator[threading.Event]:
    """Renew the claim every third of the lease while the block runs; the event says it was lost."""
    done, lost = threading.Event(), threading.Event()

    def beat() -> None:
        while not done.wait(queue.lease / 3):
            try:
                if not queue.renew(digest):
                    lost.set()
                    return
            except LedgerError as exc:  # the server is away: the lease may run out meanwhile
                log.warning("%s", exc)

    thread = threading.Thread(target=beat, name=f"lease-{digest[:8]}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(timeout=10)


def _digest(ledger: Ledger, path: Path) -> str | None:
    try:
        return ledger.known_digest(path) or content_hash(path)
    except OSError:  # gone meanwhile (moved, deleted, quarantined by another watcher)
        return None


def work(
    queue: Queue, ledger: Ledger, ready: list[Path], handle: Callable[[Path], Outcome]
) -> list[Outcome]:
    """Offer the recordings that became ready, then process at most one claimed job."""
    for path in ready:
        if digest := _digest(ledger, path):
            queue.offer(path, digest)
    claim = queue.claim()
    if claim is None:
        return []
    path = queue.root / claim.path
    if _digest(ledger, path) != claim.digest:  # not (yet) synced to this machine
        queue.release(claim.digest, NOT_HERE)
        return []
    with heartbeat(queue, claim.digest) as lost:
        outcome = handle(path)
    if outcome.status == "stopped":
        queue.release(claim.digest)
    elif not queue.finish(claim.digest, outcome.status) or lost.is_set():
        log.warning("the claim on %s ran out while it was processed", claim.name)
    return [outcome]
