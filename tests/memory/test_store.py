"""The store, run against both an embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gemloom.memory.errors import BadMemoryInput, UnknownMemory
from gemloom.memory.records import CHUNK_CHARS, MAX_TEXT_CHARS, Kind, Source
from gemloom.memory.store import HNSW, HNSW_SIDE, MemoryStore

FACTS = [
    ("The production database was migrated from MySQL to PostgreSQL 16 in March.", "decision"),
    ("Alice is the owner of the billing service and reviews its pull requests.", "fact"),
    ("The office coffee machine on the third floor is broken again.", "note"),
    ("Deployments to production happen every Thursday afternoon after the QA sign-off.", "fact"),
    ("Bob will write the onboarding guide for new interns by Friday.", "action_item"),
    ("The login page leaks the user's email address in an error message.", "review_finding"),
    ("We had a team lunch at the Thai restaurant near the station.", "meeting"),
]


def _fill(store: MemoryStore) -> dict[str, str]:
    ids = {}
    for i, (text, kind) in enumerate(FACTS):
        source = Source(path=f"notes/{i}.md", content_hash=f"{i:02d}" * 32, commit="a1b2c3d4e5")
        ids[text] = store.add(text, kind, tags=["team"], source=source)[0].record.id
    return ids


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which SQL engine do we run in prod?", 0),
        ("Who is responsible for invoicing code?", 1),
        ("When do we ship releases?", 3),
        ("What security problem did the review find?", 5),
    ],
)
def test_semantic_recall_finds_the_right_record_among_distractors(
    store: MemoryStore, question: str, expected: int
) -> None:
    ids = _fill(store)
    hits = store.recall(question, k=3)
    top = hits[0].record
    assert top.id == ids[FACTS[expected][0]]
    assert top.source.path == f"notes/{expected}.md"
    assert top.source.commit == "a1b2c3d4e5"
    assert top.kind == Kind(FACTS[expected][1])
    assert hits[0].distance < hits[1].distance


def test_filters_by_kind_since_and_namespace(store: MemoryStore) -> None:
    _fill(store)
    old = datetime.now(UTC) - timedelta(days=30)
    store.add("PostgreSQL backups run nightly at 2am.", "fact", created=old)
    store.add("The user prefers PostgreSQL over SQLite.", "fact", namespace="user")
    assert {h.record.kind for h in store.recall("database", k=10, kind="decision")} == {
        Kind.DECISION
    }
    recent = store.recall("PostgreSQL backups", k=10, since=old + timedelta(days=1))
    assert "PostgreSQL backups run nightly at 2am." not in [h.record.text for h in recent]
    only_user = store.recall("database", k=10, namespaces=["user"])
    assert [h.record.namespace for h in only_user] == ["user"]


def test_exact_duplicate_is_caught_by_hash_before_embedding(store: MemoryStore) -> None:
    first = store.add("Carol maintains the CI runners.", "fact")[0]
    calls = []
    real = store.embedder
    store.embedder = lambda texts: calls.append(texts) or real(texts)  # type: ignore[assignment]
    again = store.add("  Carol maintains   the CI runners. ", "fact")[0]
    store.embedder = real
    assert (again.action, again.record.id, calls) == ("duplicate", first.record.id, [])
    assert store.count() == 1


def test_near_duplicate_updates_the_existing_record(store: MemoryStore) -> None:
    first = store.add("The deploy pipeline runs every Friday at 5 pm.", "fact", tags=["ci"])[0]
    second = store.add("The deploy pipeline runs every Friday at 5pm.", "fact", tags=["ops"])[0]
    assert second.action == "updated"
    assert second.record.id == first.record.id
    stored = store.get(first.record.id)
    assert stored.text == "The deploy pipeline runs every Friday at 5pm."
    assert stored.tags == ["ci", "ops"]
    assert stored.updated is not None and stored.created == first.record.created
    other_kind = store.add("The deploy pipeline runs every Friday at 5 pm!", "note")[0]
    assert other_kind.action == "added"
    assert store.count() == 2


def test_long_text_is_split_into_linked_parts(store: MemoryStore) -> None:
    sentences = [
        f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(90)
    ]
    parts = store.add(" ".join(sentences), "meeting")
    assert len(parts) > 2
    assert len({p.record.group for p in parts}) == 1
    assert [p.record.part for p in parts] == [f"{i}/{len(parts)}" for i in range(1, len(parts) + 1)]
    assert all(len(p.record.text) <= CHUNK_CHARS for p in parts)
    assert " ".join(p.record.text for p in parts) == " ".join(sentences)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_refused(store: MemoryStore, text: str) -> None:
    with pytest.raises(BadMemoryInput, match="empty"):
        store.add(text)
    assert store.count() == 0


def test_huge_text_is_refused_clearly(store: MemoryStore) -> None:
    with pytest.raises(BadMemoryInput, match=r"limit is 100,000"):
        store.add("x" * (MAX_TEXT_CHARS + 1))


def test_bad_kind_query_and_k_are_refused(store: MemoryStore) -> None:
    with pytest.raises(BadMemoryInput, match="Unknown memory kind 'gossip'"):
        store.add("a fact", "gossip")
    with pytest.raises(BadMemoryInput, match="empty query"):
        store.recall("  ")
    with pytest.raises(BadMemoryInput, match="at least 1"):
        store.recall("x", k=0)


def test_unknown_id(store: MemoryStore) -> None:
    with pytest.raises(UnknownMemory, match="No memory has the id 'nope'"):
        store.get("nope")
    with pytest.raises(UnknownMemory):
        store.forget("nope")
    with pytest.raises(BadMemoryInput, match="Give the id"):
        store.get(" ")


def test_forget_is_a_soft_delete(store: MemoryStore) -> None:
    ids = _fill(store)
    target = ids[FACTS[1][0]]
    store.forget(target)
    assert target not in [h.record.id for h in store.recall("billing service owner", k=7)]
    assert store.get(target).deleted
    stats = store.stats()
    assert (stats["live"], stats["deleted"]) == (len(FACTS) - 1, 1)
    fresh = store.add(FACTS[1][0], "fact")[0]  # re-adding a forgotten fact stores it anew
    assert fresh.action == "added" and fresh.record.id != target


def test_namespace_delete_removes_only_that_namespace(store: MemoryStore) -> None:
    store.add("Project Apollo uses Rust.", "fact", namespace="apollo")
    store.add("Project Apollo ships in June.", "fact", namespace="apollo")
    store.add("The user likes dark mode.", "fact", namespace="user")
    assert store.delete_namespace("apollo") == 2
    assert [r.namespace for r in store.records()] == ["user"]


def test_the_graph_is_cheap_only_where_the_side_index_answers(store: MemoryStore) -> None:
    graph = store.collection.configuration_json["hnsw"]
    wanted = HNSW_SIDE if store.exact else HNSW  # embedded: recall never reaches HNSW
    assert (graph["max_neighbors"], graph["ef_construction"]) == (
        wanted["hnsw:M"], wanted["hnsw:construction_ef"],
    )  # fmt: skip
    assert (store.exact is None) == store.where.startswith("http")
