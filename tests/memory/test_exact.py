"""Filtered recall through the side index: exact, in step with writes, rebuilt when stale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.lock import StoreLock
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import COLLECTION, MemoryStore

DIMS = 384


def _vectors(count: int, seed: int = 5) -> np.ndarray:
    raw = np.random.default_rng(seed).standard_normal((count, DIMS)).astype(np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def _records(count: int) -> list[Record]:
    kinds = [Kind.DECISION if i % 10 == 0 else Kind.NOTE for i in range(count)]
    return [Record(text=f"memory number {i}", kind=k) for i, k in enumerate(kinds)]


def _truth(records: list[Record], vectors: np.ndarray, query: np.ndarray, kind: Kind) -> list[str]:
    rows = [i for i, r in enumerate(records) if r.kind == kind]
    order = np.argsort(-(vectors[rows] @ query))[:5]
    return [records[rows[i]].id for i in order]


@pytest.fixture
def filled(tmp_path: Path, offline: OfflineEmbedder) -> tuple[Path, list[Record], np.ndarray]:
    records, vectors = _records(300), _vectors(300)
    with MemoryStore.open(tmp_path / "m", embedder=offline) as store:
        store.put(records, vectors)
    return tmp_path / "m", records, vectors


def test_filtered_recall_is_the_exact_top_5(filled, offline: OfflineEmbedder) -> None:
    path, records, vectors = filled
    query = _vectors(1, seed=9)[0]
    with MemoryStore.open(path, embedder=offline) as store:
        hits = store.recall_vector(query, 5, Kind.DECISION)
        assert [h.record for h in hits] == [store.get(h.record.id) for h in hits]  # read whole
    assert [h.record.id for h in hits] == _truth(records, vectors, query, Kind.DECISION)
    assert all(h.record.kind == Kind.DECISION for h in hits)
    top = next(i for i, r in enumerate(records) if r.id == hits[0].record.id)
    assert hits[0].distance == pytest.approx(1 - float(vectors[top] @ query), abs=1e-5)
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)


def test_forget_and_delete_leave_the_index(filled, offline: OfflineEmbedder) -> None:
    path, records, vectors = filled
    query = vectors[10]  # the vector of a decision itself
    with MemoryStore.open(path, embedder=offline) as store:
        assert store.recall_vector(query, 1, Kind.DECISION)[0].record.id == records[10].id
        store.forget(records[10].id)
        assert records[10].id not in {
            h.record.id for h in store.recall_vector(query, 5, "decision")
        }
        assert store.delete_namespace("default") == 300
        assert store.recall_vector(query, 5, Kind.DECISION) == []


def test_a_write_the_index_missed_is_caught_by_its_stamp(filled, offline) -> None:
    path, _, _ = filled
    extra = Record(text="written behind the index's back", kind=Kind.DECISION)
    with MemoryStore.open(path, embedder=offline) as store:
        store.exact = None  # as a gemloom without the side index would write
        store.put([extra], _vectors(1, seed=11))
    with MemoryStore.open(path, embedder=offline) as store:
        hits = store.recall_vector(_vectors(1, seed=11)[0], 1, Kind.DECISION)
    assert hits[0].record.id == extra.id and hits[0].distance == pytest.approx(0, abs=1e-5)


def test_torn_side_files_are_rebuilt(filled, offline: OfflineEmbedder) -> None:
    path, records, vectors = filled
    vectors_file = path / "exact" / "vectors.f32"
    with open(vectors_file, "ab") as out:
        out.write(b"\0\1\2")  # a crash in the middle of an append, with the stamp still good
    with MemoryStore.open(path, embedder=offline) as store:
        hits = store.recall_vector(vectors[20], 1, Kind.DECISION)
    assert hits[0].record.id == records[20].id
    assert vectors_file.stat().st_size == 300 * DIMS * 4


def test_an_interrupted_write_leaves_the_index_dirty(filled, offline) -> None:
    path, records, vectors = filled
    with MemoryStore.open(path, embedder=offline) as store:
        store.exact.begin(store._generation, store.collection)  # a write that never settles
    assert (path / "exact" / "stamp").read_text() == "dirty"
    with MemoryStore.open(path, embedder=offline) as store:
        assert store.recall_vector(vectors[30], 1, Kind.DECISION)[0].record.id == records[30].id
    assert (path / "exact" / "stamp").read_text() != "dirty"


def test_text_lives_in_the_record_and_old_documents_still_read(tmp_path, offline) -> None:
    path = tmp_path / "m"
    with MemoryStore.open(path, embedder=offline) as store:
        added = store.add("The build server moved to the basement.", Kind.FACT)[0].record
        got = store.collection.get(ids=[added.id], include=["documents", "metadatas"])
    assert got["documents"] == [None]
    assert json.loads(got["metadatas"][0]["record"])["text"] == added.text
    old = Record(text="An older gemloom kept this text as the document.", kind=Kind.FACT)
    _older_gemloom_adds(path, old, offline)
    with MemoryStore.open(path, embedder=offline) as store:
        assert store.get(old.id).text == old.text
        updated = store.add("An older gemloom kept this text as the document!", Kind.FACT)[0]
        assert updated.action == "updated" and updated.record.id == old.id
        assert store.get(old.id).text.endswith("document!")  # the new text, not the stale document


def _older_gemloom_adds(path: Path, record: Record, offline: OfflineEmbedder) -> None:
    """A write as the previous release made it: text as the document, the lock bumped."""
    import chromadb

    lock = StoreLock(path).open()
    with lock.hold(write=True):
        client = chromadb.PersistentClient(str(path))
        meta = record.metadata() | {"record": record.model_dump_json(exclude={"text"})}
        client.get_collection(COLLECTION).add(
            ids=[record.id], documents=[record.text], metadatas=[meta],
            embeddings=offline([record.text]),
        )  # fmt: skip
        lock.bump()
    client.close()
    lock.close()


@pytest.mark.parametrize("overfetch", [10, 1])  # 1: too few neighbours pass, exact over all
def test_a_common_kind_goes_through_hnsw_and_the_index(
    filled, offline: OfflineEmbedder, monkeypatch: pytest.MonkeyPatch, overfetch: int
) -> None:
    from gemloom.memory import search

    monkeypatch.setattr(search, "EXACT_ROWS", 50)  # 270 notes are "many" here
    monkeypatch.setattr(search, "OVERFETCH", overfetch)
    path, records, vectors = filled
    query = _vectors(1, seed=13)[0]
    with MemoryStore.open(path, embedder=offline) as store:
        hits = store.recall_vector(query, 5, Kind.NOTE)
    assert [h.record.id for h in hits] == _truth(records, vectors, query, Kind.NOTE)


def test_opening_the_store_again_keeps_the_side_index(filled, offline) -> None:
    path, records, vectors = filled
    rows = path / "exact" / "rows.jsonl"
    with MemoryStore.open(path, embedder=offline) as store:
        store.recall_vector(vectors[40], 1, Kind.DECISION)
    made = rows.stat().st_ino
    with MemoryStore.open(path, embedder=offline) as store:  # opening bumps the generation
        assert store.recall_vector(vectors[40], 1, Kind.DECISION)[0].record.id == records[40].id
    assert rows.stat().st_ino == made  # not rebuilt
