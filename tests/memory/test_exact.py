"""Filtered recall through the side index: exact, in step with writes, rebuilt when stale."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.lock import StoreLock
from gemloom.memory.records import Kind, Record, Source
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


def test_unset_fields_are_not_stored_and_read_back_as_unset(tmp_path, offline) -> None:
    bare = Record(text="Only the text and the kind are set.", kind=Kind.FACT)
    full = Record(
        text="Everything is set.", source=Source(path="a.md", commit="abc"), part="1/2",
        group="g1", updated=datetime(2026, 2, 1, tzinfo=UTC), tags=["x"],
    )  # fmt: skip
    with MemoryStore.open(tmp_path / "m", embedder=offline) as store:
        store.put([bare, full], _vectors(2))
        stored = store.collection.get(ids=[bare.id], include=["metadatas"])["metadatas"][0]
        assert {"updated", "part", "group", "path"}.isdisjoint(json.loads(stored["record"]))
        assert store.get(bare.id) == bare and store.get(full.id) == full
        assert [h.record for h in store.recall_vector(_vectors(2)[1], 1)] == [full]


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


def _clustered(count: int, seed: int) -> np.ndarray:
    """Unit vectors with most variance in a few directions, as sentence embeddings have."""
    mixing = np.random.default_rng(1).standard_normal((24, DIMS))  # the same for every call
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((count, 24)) @ mixing + 0.5 * rng.standard_normal((count, DIMS))
    return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def projected(tmp_path: Path, offline, monkeypatch: pytest.MonkeyPatch):
    """A store past EXACT_ROWS (lowered to 50), with 40 rows re-ranked after the first pass."""
    from gemloom.memory import exact, projection

    monkeypatch.setattr(exact, "EXACT_ROWS", 50)
    monkeypatch.setattr(projection, "CANDIDATES", 40)
    records, vectors = _records(300), _clustered(300, seed=3)
    for i, record in enumerate(records):
        record.created = datetime(2026, 1, 1 + i % 28, tzinfo=UTC)
    with MemoryStore.open(tmp_path / "m", embedder=offline) as store:
        store.put(records, vectors)
    return tmp_path / "m", records, vectors


def _exact_ids(records: list[Record], vectors: np.ndarray, query: np.ndarray, keep) -> list[str]:
    rows = [i for i, r in enumerate(records) if keep(r)]
    return [records[rows[i]].id for i in np.argsort(-(vectors[rows] @ query))[:5]]


def test_many_rows_go_through_the_first_pass_and_agree_with_exact(projected, offline) -> None:
    path, records, vectors = projected
    since = datetime(2026, 1, 20, tzinfo=UTC)
    with MemoryStore.open(path, embedder=offline) as store:
        for query in _clustered(10, seed=17):
            unit = query / np.linalg.norm(query)
            assert [h.record.id for h in store.recall_vector(query, 5)] == _exact_ids(
                records, vectors, unit, lambda r: True
            )
            assert [h.record.id for h in store.recall_vector(query, 5, Kind.NOTE)] == _exact_ids(
                records, vectors, unit, lambda r: r.kind == Kind.NOTE
            )
            recent = store._search(query.reshape(1, -1), 5, Kind.NOTE, since)
            assert [h.record.id for h in recent] == _exact_ids(
                records, vectors, unit, lambda r: r.kind == Kind.NOTE and r.created >= since
            )
        assert store.exact._projection.agreement >= 0.95  # the first pass was what answered
        assert store.exact._projection.basis.shape == (DIMS, 96)


def test_rows_written_after_the_fit_are_projected_and_refitted(projected, offline) -> None:
    path, _, _ = projected
    later = _records(300)
    with MemoryStore.open(path, embedder=offline) as store:
        store.recall_vector(_clustered(1, seed=4)[0], 5)
        fitted = store.exact._projection
        store.put(later[:1], _clustered(1, seed=21))
        hits = store.recall_vector(_clustered(1, seed=21)[0], 1)
        assert hits[0].record.id == later[0].id and hits[0].distance == pytest.approx(0, abs=1e-5)
        assert store.exact._projection is fitted and fitted.count == 301  # extended, not refit
        store.put(later[1:], _clustered(299, seed=22))
        store.recall_vector(_clustered(1, seed=4)[0], 5)
        assert store.exact._projection.fitted_on == 600  # the rows doubled: fitted afresh
        assert store.exact._projection is not fitted


def test_vectors_without_structure_skip_the_first_pass(tmp_path, offline, monkeypatch) -> None:
    from gemloom.memory import exact, projection

    monkeypatch.setattr(exact, "EXACT_ROWS", 50)
    monkeypatch.setattr(projection, "CANDIDATES", 20)
    records, vectors = _records(2000), _vectors(2000)  # random: no few directions hold them
    with MemoryStore.open(tmp_path / "m", embedder=offline) as store:
        store.put(records, vectors)
        for query in _vectors(5, seed=23):
            hits = store.recall_vector(query, 5, Kind.NOTE)
            assert [h.record.id for h in hits] == _truth(records, vectors, query, Kind.NOTE)
        assert store.exact._projection.agreement < projection.AGREEMENT  # measured, not used


def test_forgotten_rows_leave_the_first_pass(projected, offline) -> None:
    path, records, vectors = projected
    with MemoryStore.open(path, embedder=offline) as store:
        assert store.recall_vector(vectors[7], 1)[0].record.id == records[7].id
        store.forget(records[7].id)
        hits = store.recall_vector(vectors[7], 5)
    assert records[7].id not in {h.record.id for h in hits}
    assert [h.record.id for h in hits] == _exact_ids(
        records, vectors, vectors[7], lambda r: r.id != records[7].id
    )


def test_opening_the_store_again_keeps_the_side_index(filled, offline) -> None:
    path, records, vectors = filled
    rows = path / "exact" / "rows.jsonl"
    with MemoryStore.open(path, embedder=offline) as store:
        store.recall_vector(vectors[40], 1, Kind.DECISION)
    made = rows.stat().st_ino
    with MemoryStore.open(path, embedder=offline) as store:  # opening bumps the generation
        assert store.recall_vector(vectors[40], 1, Kind.DECISION)[0].record.id == records[40].id
    assert rows.stat().st_ino == made  # not rebuilt
