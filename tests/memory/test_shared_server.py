"""A shared Chroma server with token auth, tenants and databases; several writers at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gemloom.cli import main
from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.errors import StoreUnavailable
from gemloom.memory.store import MemoryStore
from gemloom.settings import load_settings
from tests.memory.conftest import CHROMA_TOKEN


def _open(url: str, offline: OfflineEmbedder, **settings: object) -> MemoryStore:
    name = f"team-{uuid.uuid4().hex[:10]}"
    settings_ = load_settings(**settings)
    return MemoryStore.open(url=url, embedder=offline, settings=settings_, name=name)


def test_the_right_token_stores_and_recalls(
    chroma_token_server: str, offline: OfflineEmbedder
) -> None:
    with _open(chroma_token_server, offline, chroma_token=CHROMA_TOKEN) as store:
        store.add("The team standup moved to ten o'clock.", "fact")
        hits = store.recall("when is the standup?", k=1)
    assert hits[0].record.text == "The team standup moved to ten o'clock."


def test_a_missing_token_names_the_setting(
    chroma_token_server: str, offline: OfflineEmbedder
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        _open(chroma_token_server, offline)
    message = str(caught.value)
    assert "wants credentials" in message and "GEMLOOM_CHROMA_TOKEN" in message
    assert "\n" not in message


def test_a_wrong_token_is_refused_with_the_setting_to_fix(
    chroma_token_server: str, offline: OfflineEmbedder
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        _open(chroma_token_server, offline, chroma_token="not-the-token")
    message = str(caught.value)
    assert "refused the credentials" in message and "GEMLOOM_CHROMA_TOKEN" in message
    assert "not-the-token" not in message and "\n" not in message


def test_the_command_line_reports_a_wrong_token_in_one_line(
    chroma_token_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GEMLOOM_CHROMA_URL", chroma_token_server)
    monkeypatch.setenv("GEMLOOM_CHROMA_TOKEN", "stale")
    code = main(["memory", "list"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert "GEMLOOM_CHROMA_TOKEN" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_a_database_keeps_its_memories_apart(
    chroma_token_server: str, offline: OfflineEmbedder
) -> None:
    import chromadb

    from gemloom.memory.server import headers

    token = load_settings(chroma_token=CHROMA_TOKEN)
    admin = chromadb.AdminClient(
        chromadb.config.Settings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host="127.0.0.1",
            chroma_server_http_port=int(chroma_token_server.rsplit(":", 1)[1]),
            chroma_server_headers=headers(token),
            anonymized_telemetry=False,
        )
    )
    admin.create_database("team-b")
    name = f"team-{uuid.uuid4().hex[:10]}"
    for database, text in (("team-b", "Only team B knows this."), ("default_database", "A")):
        settings = load_settings(chroma_token=CHROMA_TOKEN, chroma_database=database)
        with MemoryStore.open(url=chroma_token_server, embedder=offline, settings=settings,
                              name=name) as store:  # fmt: skip
            store.add(text, "fact")
    settings = load_settings(chroma_token=CHROMA_TOKEN, chroma_database="team-b")
    with MemoryStore.open(
        url=chroma_token_server, embedder=offline, settings=settings, name=name
    ) as store:
        assert [r.text for r in store.records()] == ["Only team B knows this."]


def test_an_unknown_database_names_the_setting(
    chroma_token_server: str, offline: OfflineEmbedder
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        _open(chroma_token_server, offline, chroma_token=CHROMA_TOKEN, chroma_database="nope")
    message = str(caught.value)
    assert "GEMLOOM_CHROMA_DATABASE" in message and "nope" in message and "\n" not in message


TOPICS = {  # far apart in meaning: near-duplicate texts would update each other, by design
    "A": ["the database moves to PostgreSQL", "lunch is at noon on Fridays",
          "the logo turns green", "we hire two designers", "the office gets standing desks",
          "release notes go out on Mondays", "the cat stays in the lobby",
          "passwords rotate every quarter", "the bike shed is painted red",
          "interns start in June"],
    "B": ["the mobile app drops Android 9", "coffee beans come from Kenya",
          "the server room gets a second air conditioner", "holidays are booked in a shared sheet",
          "the parking lot is closed in August", "invoices are paid within ten days",
          "the wiki moves to a new host", "the team offsite is in Lisbon",
          "printers are replaced by scanners", "the choir rehearses on Thursdays"],
}  # fmt: skip
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gemloom.memory.embedders import OfflineEmbedder
    from gemloom.memory.store import MemoryStore
    url, name, who, go = sys.argv[1:5]
    TOPICS = {TOPICS!r}
    store = MemoryStore.open(url=url, name=name, embedder=OfflineEmbedder())
    while not Path(go).exists():
        time.sleep(0.01)
    for topic in TOPICS[who]:
        store.add(f"Writer {who} decided: {topic}.", "decision")
        store.recall(f"what did writer {who} decide about {topic}?", k=3)
    """
).replace("{TOPICS!r}", repr(TOPICS))


def test_two_processes_write_at_once_and_both_land(
    chroma_token_server: str, offline: OfflineEmbedder, tmp_path: Path
) -> None:
    name = f"team-{uuid.uuid4().hex[:10]}"
    go = tmp_path / "go"
    env = {**os.environ, "GEMLOOM_CHROMA_TOKEN": CHROMA_TOKEN, "GEMLOOM_HOME": str(tmp_path)}
    command = [sys.executable, "-c", WRITER, chroma_token_server, name]
    writers = [
        subprocess.Popen([*command, who, str(go)], env=env, stderr=subprocess.PIPE, text=True)
        for who in ("A", "B")
    ]
    time.sleep(0.5)  # both are connecting; the file starts them together
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err[-2000:]
    settings = load_settings(chroma_token=CHROMA_TOKEN)
    with MemoryStore.open(
        url=chroma_token_server, embedder=offline, settings=settings, name=name
    ) as store:
        texts = {r.text for r in store.records()}
    expected = {f"Writer {w} decided: {t}." for w, topics in TOPICS.items() for t in topics}
    assert texts == expected
