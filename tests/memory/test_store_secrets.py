"""Memory records keep no secret: what reaches the store is redacted like a pack."""

from __future__ import annotations

from pathlib import Path

from gemloom.memory.records import Source
from gemloom.memory.store import MemoryStore
from gemloom.secrets import redact

TOKEN = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"


def test_a_record_taken_from_a_file_is_stored_redacted(store: MemoryStore, tmp_path: Path) -> None:
    text = f"Deploys use the bot token {TOKEN} from the CI settings.\nDB_PASSWORD=hunter2-prod\n"
    source = Source(path=".env")
    (added,) = store.add(text, "fact", source=source)
    assert TOKEN not in added.record.text and "hunter2-prod" not in added.record.text
    assert added.record.text == redact(text, ".env")[0].strip()
    assert "[REDACTED:github_token]" in store.get(added.record.id).text
    hits = store.recall("which token do deploys use?")
    assert hits and all(TOKEN not in hit.record.text for hit in hits)
    folder = tmp_path / "memory"
    if folder.exists():  # the embedded store's files on disk
        for path in folder.rglob("*"):
            assert not path.is_file() or TOKEN.encode() not in path.read_bytes()
