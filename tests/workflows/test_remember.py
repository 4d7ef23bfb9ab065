from gemloom.tools.audio.notes import NoteItem
from gemloom.workflows.remember import finding_hook, meeting_hook, memory_or_none
from gemloom.workflows.review.findings import CodeLocation, Evidence, Finding


def test_meeting_items_and_findings_keep_their_provenance(fake_ollama) -> None:
    with memory_or_none() as store:
        meeting_hook(store)(
            NoteItem("decision", "Ship on Friday", "00:12:05", "standup.wav", "ab" * 32)
        )
        finding = Finding(
            id="f1",
            severity="high",
            category="accessibility",
            title="Low contrast label",
            evidence=Evidence(screenshot="shot.png", sha256="cd" * 32, bbox=[1, 2, 3, 4]),
            location=CodeLocation(path="src/Button.tsx", line=7),
            suggested_fix="Darken it",
        )
        finding_hook(store)(finding)
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
    finally:
        os.close(fd)
    assert meeting_hook(None) is None and finding_hook(None) is None
    assert "not saving to memory" in warnings[0]
