"""Export/import as JSON Lines, and re-embedding with another embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gemloom.memory.embedders import OfflineEmbedder, OllamaEmbedder
from gemloom.memory.errors import BadMemoryInput, EmbedderMismatch
from gemloom.memory.records import Source
from gemloom.memory.store import MemoryStore
from gemloom.memory.transfer import export_jsonl, import_jsonl


def _sample(store: MemoryStore) -> None:
    store.add("Erin prefers async code reviews over meetings.", "fact", tags=["people", "review"],
              source=Source(session_id="sess-1"), namespace="user")  # fmt: skip
    store.add("Ship the v2 API before the conference.", "action_item",
              source=Source(path="notes/plan.md", content_hash="cd" * 32))  # fmt: skip
    gone = store.add("The old wiki is the source of truth.", "fact")[0].record
    store.forget(gone.id)
    store.add("Paragraph about the design. " * 56, "meeting")  # two parts


def test_export_import_round_trip_is_lossless(
    store: MemoryStore, tmp_path: Path, offline: OfflineEmbedder
) -> None:
    _sample(store)
    first = tmp_path / "first.jsonl"
    count = export_jsonl(store, first)
    assert count == store.count() > 4
    with MemoryStore.open(tmp_path / "copy", embedder=offline) as copy:
        report = import_jsonl(copy, first)
        assert (report.loaded, report.problems) == (count, [])
        export_jsonl(copy, tmp_path / "second.jsonl")
        hit = copy.recall("how does Erin like reviews?", k=1)[0].record
    assert (tmp_path / "second.jsonl").read_text() == first.read_text()
    assert (hit.namespace, hit.source.session_id, hit.tags) == (
        "user",
        "sess-1",
        ["people", "review"],
    )


def test_corrupted_lines_are_reported_and_the_rest_loaded(
    store: MemoryStore, tmp_path: Path
) -> None:
    _sample(store)
    good = tmp_path / "good.jsonl"
    export_jsonl(store, good)
    lines = good.read_text().splitlines()
    broken = json.loads(lines[1]) | {"kind": "gossip"}
    lines[0] = lines[0][: len(lines[0]) // 2]  # cut mid-record
    lines[1] = json.dumps(broken)
    lines.insert(2, json.dumps(json.loads(lines[2]) | {"text": "   "}))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    store.delete_namespace("default")
    store.delete_namespace("user")
    report = import_jsonl(store, bad)
    assert report.loaded == len(lines) - 3 == store.count()
    assert [p.split(":")[0] for p in report.problems] == ["line 1", "line 2", "line 3"]
    assert "kind" in report.problems[1] and "empty" in report.problems[2]


def test_import_of_a_missing_file(store: MemoryStore, tmp_path: Path) -> None:
    with pytest.raises(BadMemoryInput, match="Cannot read the import file"):
        import_jsonl(store, tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("import", "Cannot read the import file {path}: No such file or directory."),
        ("export", "Cannot write the export to {path}: No such file or directory."),
    ],
)
def test_a_bad_file_or_place_is_said_before_the_store_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    command: str, said: str,
) -> None:  # fmt: skip
    from gemloom.cli import main
    from gemloom.memory.store import MemoryStore

    def opened(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store was opened before the path was checked")

    monkeypatch.setattr(MemoryStore, "open", opened)
    path = tmp_path / "no such folder" / "memories.jsonl"
    assert main(["memory", command, str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {said.format(path=path)}"]


def test_an_export_that_fails_leaves_the_earlier_file_as_it_was(
    store: MemoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from gemloom.memory.records import Record

    _sample(store)
    (tmp_path / "exports").mkdir()
    earlier = tmp_path / "exports" / "memories.jsonl"
    earlier.write_text("the export of last week\n")
    written = Record.model_dump_json

    def full_disk(record: Record, **kwargs: object) -> str:
        if "Erin" in record.text:
            raise OSError(errno.ENOSPC, "No space left on device")
        return written(record, **kwargs)

    monkeypatch.setattr(Record, "model_dump_json", full_disk)
    with pytest.raises(BadMemoryInput, match="No space left on device"):
        export_jsonl(store, earlier)
    assert earlier.read_text() == "the export of last week\n"
    assert [p.name for p in earlier.parent.iterdir()] == ["memories.jsonl"]  # no half file


def test_other_embedder_is_refused_then_reembed_migrates(
    tmp_path: Path, offline: OfflineEmbedder, fake_ollama
) -> None:
    path = tmp_path / "memory"
    with MemoryStore.open(path, embedder=offline) as store:
        _sample(store)
        before = sorted((r.id, r.text, r.deleted) for r in store.records())
    ollama = OllamaEmbedder()
    with pytest.raises(
        EmbedderMismatch, match=r"embedded with 'minilm-l6-v2-int8'.*'ollama:embeddinggemma'"
    ):
        MemoryStore.open(path, embedder=ollama)
    with MemoryStore.open(path) as store:  # no embedder given: the recorded one is used
        assert store.embedder.key == "minilm-l6-v2-int8"
        assert store.reembed(ollama) == len(before)
    with MemoryStore.open(path, embedder=ollama) as store:
        assert sorted((r.id, r.text, r.deleted) for r in store.records()) == before
        assert store.stats()["dims"] == 768
        assert store.recall("Ship the v2 API before the conference.", k=1)[0].distance < 1e-4
    with pytest.raises(EmbedderMismatch):
        MemoryStore.open(path, embedder=offline)
