from gemloom.tools.audio.notes import NoteItem
from gemloom.workflows.remember import (
    OpeningMemory,
    finding_hook,
    meeting_forget_hook,
    meeting_hook,
    memory_beside,
    memory_or_none,
)
from gemloom.workflows.review.findings import CodeLocation, Evidence, Finding

FINDING = Finding(
    id="f1",
    severity="high",
    category="accessibility",
    title="Low contrast label",
    evidence=Evidence(screenshot="shot.png", sha256="cd" * 32, bbox=[1, 2, 3, 4]),
    location=CodeLocation(path="src/Button.tsx", line=7),
    suggested_fix="Darken it",
)


def test_meeting_items_and_findings_keep_their_provenance(fake_ollama) -> None:
    with memory_or_none() as store:
        meeting_hook(store)(
            NoteItem("decision", "Ship on Friday", "00:12:05", "standup.wav", "ab" * 32)
        )
        finding_hook(store)(FINDING)
        records = {r.kind.value: r for r in store.records(deleted=False)}
    decision, review = records["decision"], records["review_finding"]
    assert decision.source.content_hash == "ab" * 32 and "at:00:12:05" in decision.tags
    assert decision.namespace == "meetings" and "Ship on Friday" in decision.text
    assert review.source.screenshot_hash == "cd" * 32
    assert review.source.path == "src/Button.tsx" and "src/Button.tsx:7" in review.text


def test_a_locked_store_is_a_warning_not_a_failure(fake_ollama, monkeypatch) -> None:
    import fcntl
    import os

    from gemloom.memory import lock
    from gemloom.settings import load_settings

    monkeypatch.setattr(lock, "WAIT", 0.3)  # another process's write outlasts the wait
    folder = load_settings().data_dir / "memory"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / lock.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # its own open file, so it blocks this process too
    warnings: list[str] = []
    try:
        with memory_or_none(warnings.append) as store:
            assert store is None
        with memory_beside(warnings.append) as opening:  # opened in its thread, and locked
            opening.start()
            remember, forget = meeting_hook(opening), meeting_forget_hook(opening)
            found = finding_hook(opening)
            assert remember is not None and forget is not None and found is not None
            remember(NoteItem("decision", "Ship on Friday", "00:12:05", "standup.wav", "ab" * 32))
            forget("ab" * 32)
            found(FINDING)
            assert opening.get() is None
    finally:
        os.close(fd)
    assert meeting_hook(None) is None and finding_hook(None) is None
    assert len(warnings) == 2 and all("not saving to memory" in w for w in warnings)


def test_the_memory_opens_in_a_thread_of_its_own_once_started(fake_ollama, monkeypatch) -> None:
    import threading

    from gemloom.memory.store import MemoryStore

    opened, real = [], MemoryStore.open
    monkeypatch.setattr(
        MemoryStore,
        "open",
        classmethod(lambda cls, *a, **k: opened.append(threading.current_thread().name) or real()),
    )
    opening = OpeningMemory()
    assert not opened  # nothing opens before start (or first use)
    opening.start()
    opening.start()
    item = NoteItem("action_item", "Send the report", "00:01:00", "sync.wav", "ef" * 32)
    meeting_hook(opening)(item)
    store = opening.get()
    assert [r.text for r in store.records(deleted=False)] == [
        "Send the report [at 00:01:00 in sync.wav]"
    ]
    opening.close()
    assert opened == ["gemloom-memory"]  # once, and not in the caller's thread
