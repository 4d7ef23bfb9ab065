"""remember, recall and forget as the agent calls them, on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.store import MemoryStore
from gemloom.tools.memory.tools import TOOLS, forget, recall, remember
from gemloom.tools.registry import Risk, ToolContext, ToolError


@pytest.fixture(scope="module")
def offline() -> OfflineEmbedder:
    return OfflineEmbedder()


@pytest.fixture
def ctx(tmp_path: Path, offline: OfflineEmbedder) -> Iterator[ToolContext]:
    store = MemoryStore.open(tmp_path / "memory", embedder=offline)
    workspace = tmp_path / "shop"
    workspace.mkdir()
    yield ToolContext(workspace, session_id="sess-7", memory=store)
    store.close()


def call(t, ctx: ToolContext, **arguments) -> str:
    return t.run(t.validate(arguments), ctx).text


def test_schemas_and_risks() -> None:
    assert [(t.name, t.risk) for t in TOOLS] == [
        ("remember", Risk.WRITE), ("recall", Risk.READ), ("forget", Risk.WRITE),
    ]  # fmt: skip
    params = remember.schema["function"]["parameters"]
    assert params["required"] == ["text"]
    assert params["properties"]["kind"]["enum"] == [
        "fact", "meeting", "decision", "action_item", "review_finding", "note",
    ]  # fmt: skip
    assert params["properties"]["tags"]["type"] == "array"
    assert set(recall.schema["function"]["parameters"]["properties"]) == {
        "query",
        "k",
        "kind",
        "since",
    }
    assert forget.schema["function"]["parameters"]["required"] == ["id"]


def test_remember_then_recall_cites_provenance(ctx: ToolContext) -> None:
    said = call(remember, ctx, text="The shop's payment provider is Stripe.", kind="fact",
                tags='["payments"]')  # fmt: skip
    assert said.startswith("remembered: [")
    call(remember, ctx, text="Frank wants the invoices page to load faster.", kind="action_item")
    answer = call(recall, ctx, query="Which company processes our payments?", k="1")
    record = ctx.memory.records(kind="fact").__next__()
    assert f"[{record.id}] fact" in answer
    assert "session sess-7" in answer and "tags=payments" in answer
    assert "Stripe" in answer and "invoices" not in answer
    assert record.namespace == "shop"


def test_recall_filters_and_bad_since(ctx: ToolContext) -> None:
    call(remember, ctx, text="Use Black for formatting.", kind="decision")
    assert call(recall, ctx, query="formatting", kind="note") == "No stored memory matches."
    assert "Black" in call(recall, ctx, query="formatting", since="7d")
    assert "Black" in call(recall, ctx, query="formatting", since="2020-01-01")
    with pytest.raises(ToolError, match="ISO date"):
        call(recall, ctx, query="formatting", since="last tuesday")


def test_forget_and_errors(ctx: ToolContext) -> None:
    said = call(remember, ctx, text="The staging password rotates monthly.", kind="fact")
    memory_id = said.split("[")[1].split("]")[0]
    assert call(forget, ctx, id=f"[{memory_id}]").startswith(f"forgotten: [{memory_id}]")
    assert call(recall, ctx, query="staging password") == "No stored memory matches."
    with pytest.raises(ToolError, match="No memory has the id 'zzz'"):
        call(forget, ctx, id="zzz")
    with pytest.raises(ToolError, match="empty"):
        call(remember, ctx, text="  ")


def test_store_opens_lazily_from_settings(
    tmp_path: Path, dead_host: str, gemloom_home: Path
) -> None:
    ctx = ToolContext(tmp_path)
    call(remember, ctx, text="Lazily opened stores still remember.", kind="note")
    store = ctx.memory
    try:
        assert store.where == str(gemloom_home / "memory")
        assert store.embedder.key == "minilm-l6-v2-int8"  # Ollama is down: the offline fallback
    finally:
        store.close()


def test_recall_works_while_another_handle_idles_on_the_store(
    tmp_path: Path, dead_host: str, gemloom_home: Path, offline: OfflineEmbedder
) -> None:
    with MemoryStore.open(gemloom_home / "memory", embedder=offline) as idle:
        idle.add("The watcher keeps this store open.", "fact", namespace="user")
        ctx = ToolContext(tmp_path)
        try:
            assert "watcher keeps this store open" in call(recall, ctx, query="store open")
        finally:
            ctx.memory.close()


def test_lazy_open_of_a_busy_store_is_a_tool_error(
    tmp_path: Path, dead_host: str, gemloom_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gemloom.memory import lock

    holder = lock.StoreLock(gemloom_home / "memory").open()
    monkeypatch.setattr(lock, "WAIT", 0.2)
    try:
        with (
            holder.hold(write=True),
            pytest.raises(ToolError, match=r"memory is unavailable: .* stayed busy for 0.2 s"),
        ):
            call(recall, ToolContext(tmp_path), query="anything")
    finally:
        holder.close()
