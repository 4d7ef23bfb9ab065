"""Several Ollama servers: sessions stick to theirs, new work goes to the least busy, fail-over."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn

from gemloom.agents.graph import AgentConfig
from gemloom.agents.sessions import Sessions
from gemloom.cli import main
from gemloom.errors import OllamaUnreachable
from gemloom.llm import LLM
from gemloom.llm_hosts import least_busy, load
from gemloom.settings import load_settings


def warm(fake: FakeOllama, num_ctx: int = 8192) -> None:
    """Load gemma on a server, as a request from someone else would."""
    fake.script(Turn("busy elsewhere"))
    LLM(load_settings(ollama_host=fake.url), retries=0).chat([{"role": "user", "content": "x"}])
    assert fake.runners["gemma4:12b"].num_ctx >= num_ctx


def chats(fake: FakeOllama) -> int:
    return len(fake.chat_bodies())


def make_sessions(hosts: list[str], workspace: Path) -> Sessions:
    settings = load_settings(ollama_hosts=hosts)
    llm = LLM(settings, retries=1, backoff=0.01)
    return Sessions(settings, llm=llm, workspace=workspace, config=AgentConfig())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def test_ps_answers_in_ollamas_shape(two) -> None:
    a, b = two
    warm(a)
    assert load(b.url).vram == 0 and load(a.url).vram > 0
    answer = LLM(load_settings(ollama_host=a.url)).client.ps().models[0]
    assert answer.model == "gemma4:12b" and answer.expires_at is not None
    assert answer.size_vram and answer.context_length == 8192 and answer.digest


def test_the_least_busy_server_is_chosen_and_a_dead_one_never(two, dead_host) -> None:
    a, b = two
    assert least_busy([a.url, b.url]) == a.url  # both idle: the first listed
    warm(a)
    assert least_busy([a.url, b.url]) == b.url  # a has a model in memory
    warm(b)
    assert least_busy([a.url, b.url]) == a.url  # the same load: a has been idle longer
    assert least_busy([dead_host, b.url]) == b.url
    assert least_busy([dead_host]) is None


def test_a_session_stays_on_its_server_while_new_ones_spread(two, workspace) -> None:
    a, b = two
    warm(a)
    sessions = make_sessions([a.url, b.url], workspace)
    first = sessions.create("first")
    assert sessions.get(first).host == b.url  # a was busy
    b.script(Turn("one"), Turn("two"))
    list(sessions.send(first, "q1"))
    assert (chats(a), chats(b)) == (1, 1)

    warm(b, 8192)
    b.runners["gemma4:12b"].num_ctx = 65536  # now b holds far more memory than a
    second = sessions.create("second")
    assert sessions.get(second).host == a.url  # new work goes to the less busy server
    list(sessions.send(first, "q2"))  # but the first session stays where its cache is
    assert chats(b) == 3 and chats(a) == 1
    a.script(Turn("on a"))
    list(sessions.send(second, "q"))
    assert chats(a) == 2
    assert sessions.get(sessions.fork(first)).host == b.url  # a fork shares its parent's prefix


def test_sessions_list_shows_the_host(two, workspace, monkeypatch, capsys) -> None:
    a, b = two
    monkeypatch.setenv("GEMLOOM_OLLAMA_HOSTS", f"{a.url},{b.url}")
    warm(a)
    session_id = make_sessions([a.url, b.url], workspace).create("where")
    assert main(["sessions", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if session_id in line)
    assert b.url.split("//")[1] in row


def test_a_server_that_goes_away_fails_over_with_one_line(two, workspace, capfd) -> None:
    a, b = two
    sessions = make_sessions([a.url, b.url], workspace)
    session_id = sessions.create("moving")
    assert sessions.get(session_id).host == a.url
    a.script(Turn("from a"))
    list(sessions.send(session_id, "q1"))

    a.stop()
    b.script(Turn("from b"))
    list(sessions.send(session_id, "q2"))
    notes = [line for line in capfd.readouterr().err.splitlines() if "not answering" in line]
    assert notes == [f"gemloom: Ollama at {a.url} is not answering; going on at {b.url}."]
    assert [m["content"] for m in sessions.messages(session_id)][-2:] == ["q2", "from b"]
    assert sessions.get(session_id).host == b.url  # recorded: it stays on b from now on
    assert chats(b) == 1


def test_with_every_server_gone_the_error_names_the_server(two, workspace) -> None:
    a, b = two
    llm = LLM(load_settings(ollama_hosts=[a.url, b.url]), retries=1, backoff=0.01)
    a.stop()
    b.stop()
    with pytest.raises(OllamaUnreachable):
        llm.list_models()


def test_hosts_from_the_environment(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GEMLOOM_OLLAMA_HOSTS", "gpu1, gpu2:11500")
    assert load_settings().ollama_hosts == ["http://gpu1:11434", "http://gpu2:11500"]
    monkeypatch.setenv("GEMLOOM_OLLAMA_HOSTS", '["http://gpu1:1", "http://gpu1:1"]')
    assert load_settings().ollama_hosts == ["http://gpu1:1"]
    monkeypatch.setenv("GEMLOOM_OLLAMA_HOSTS", "ftp://nope")
    assert main(["sessions", "list"]) != 0
    err = capsys.readouterr().err
    assert "ollama_hosts" in err and "Traceback" not in err


def test_one_server_never_probes(fake_ollama: FakeOllama) -> None:
    llm = LLM(load_settings())
    llm.rebalance()
    assert llm.host == fake_ollama.url
    assert not [r for r in fake_ollama.requests if r.path == "/api/ps"]
