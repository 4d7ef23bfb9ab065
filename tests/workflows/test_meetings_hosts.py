"""Meeting jobs on several Ollama servers: each recording goes to the least busy one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_ollama import FakeOllama

from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.workflows.meetings.ingest import ingest


@pytest.fixture
def two(instant_model: FakeOllama) -> Iterator[tuple[FakeOllama, FakeOllama]]:
    """Two instantly answering fake Ollama servers of this test's own."""
    servers = FakeOllama().start(), FakeOllama().start()
    for server in servers:
        server.default = instant_model.default  # the meeting fixtures' answers
    yield servers
    for server in servers:
        server.stop()


def transcriptions(fake: FakeOllama) -> int:
    return sum(1 for b in fake.chat_bodies() if b["messages"][-1].get("images"))


def test_each_recording_goes_to_the_least_busy_server(two, tmp_path, make_meeting) -> None:
    a, b = two
    llm = LLM(load_settings(ollama_hosts=[a.url, b.url]), retries=0)  # one job for both files
    first = ingest(make_meeting(tmp_path / "one.ogg"), tmp_path / "notes", llm=llm)
    assert first.status == "done"
    assert transcriptions(a) > 0 and not b.chat_bodies()  # both idle: the first listed

    second = ingest(make_meeting(tmp_path / "two.ogg", repeats=2), tmp_path / "notes", llm=llm)
    assert second.status == "done"
    assert transcriptions(b) > 0  # a now holds the model in memory: b was less busy
    assert {m for m in b.runners} <= {"gemma4:12b"}
