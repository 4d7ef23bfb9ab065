"""Two `gemloom watch` processes on one PostgreSQL queue and one folder: SIGKILL one mid-file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest
from fake_ollama import FakeOllama

from gemloom.tools.audio import decode as audio
from tests.workflows.conftest import audio_bodies, slow_audio

CHILD = (
    "import sys; from pathlib import Path; "
    "from gemloom.cli.meetings import watch_command; "
    "watch_command(Path(sys.argv[1]), Path(sys.argv[2]), False)"
)


def start_worker(inbox: Path, out: Path, home: Path, ollama: str, queue: str) -> subprocess.Popen:
    """A watcher as another machine would run it: its own data dir and Ollama, the shared queue."""
    env = {
        **os.environ, "GEMLOOM_HOME": str(home), "OLLAMA_HOST": ollama,
        "GEMLOOM_QUEUE_URL": queue, "GEMLOOM_QUEUE_LEASE_SECONDS": "2",
        "GEMLOOM_WATCH_SETTLE_SECONDS": "0.5",
    }  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    with (home / "watch.log").open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(inbox), str(out)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def rows(url: str, sql: str) -> list[tuple]:
    """Rows of a query on the shared database (empty while the tables do not exist yet)."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            return conn.execute(sql).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


@pytest.fixture
def second_fake() -> FakeOllama:
    """Another fake Ollama server: the second machine's model."""
    fake = FakeOllama().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, speech_samples) -> dict[str, tuple[Path, int, int]]:
    """Three distinct recordings: name -> (file, chunk count, chunks with speech)."""
    folder = tmp_path_factory.mktemp("recordings")
    made = {}
    for name, repeats, pause in (
        ("board.wav", 10, 1.5),
        ("retro.wav", 2, 1.1),
        ("sync.wav", 3, 0.7),
    ):
        gap = np.zeros(int(pause * audio.RATE), np.int16)
        samples = np.concatenate([speech_samples, gap] * repeats)
        path = audio.write(
            folder / name.replace(".wav", ".ogg"), samples, "libopus", bit_rate=24_000
        )
        chunks = audio.split(audio.decode(path))
        made[name] = (path, len(chunks), sum(not c.silent for c in chunks))
    return made


def test_sigkill_one_of_two_workers_mid_file_processes_every_recording_once(
    instant_model, second_fake, postgres_url, tmp_path, recordings, wait_until
):
    fakes = (instant_model, second_fake)
    for fake in fakes:
        fake.default = slow_audio(0.5)
    inbox, out = tmp_path / "shared", tmp_path / "shared" / "notes"
    inbox.mkdir()
    for name, (path, _, _) in recordings.items():
        shutil.copy(path, inbox / name)
    workers = {
        w.pid: w
        for w in (
            start_worker(inbox, out, tmp_path / f"machine-{i}", fake.url, postgres_url)
            for i, fake in enumerate(fakes)
        )
    }
    board_count = recordings["board.wav"][1]
    busy = (
        "SELECT j.worker, count(c.idx) FROM meeting_jobs j JOIN meeting_chunks c "
        "ON c.digest = j.digest WHERE j.name = 'board.wav' AND j.state = 'claimed' "
        "GROUP BY j.worker"
    )
    wait_until(lambda: any(n >= 2 for _, n in rows(postgres_url, busy)), timeout=90)
    holder, saved = rows(postgres_url, busy)[0]
    victim = workers.pop(int(holder.split(":")[1]))
    victim.kill()  # mid-file: its claim stays behind until the lease runs out
    victim.wait(timeout=10)
    (survivor,) = workers.values()
    assert saved < board_count and not (out / "board.json").exists()
    wait_until(lambda: all((out / n.replace(".wav", ".json")).exists() for n in recordings), 120)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=20) == 0
    notes = sorted(p.name for p in out.glob("*.json"))
    assert notes == ["board.json", "retro.json", "sync.json"]  # each once, no NAME-hash copies
    assert len(list(out.glob("*.md"))) == 3
    runs = rows(
        postgres_url,
        "SELECT j.name, c.runs FROM meeting_chunks c JOIN meeting_jobs j USING (digest)",
    )
    for name, (_, count, _) in recordings.items():
        assert [r for n, r in runs if n == name] == [1] * count  # every chunk transcribed once
    voiced = sum(v for _, _, v in recordings.values())
    sent = [body for fake in fakes for body in audio_bodies(fake)]
    assert len(set(sent)) == voiced  # nothing lost
    assert voiced <= len(sent) <= voiced + 1  # at most the chunk in flight at the kill twice
    jobs = dict(rows(postgres_url, "SELECT name, state FROM meeting_jobs"))
    assert jobs == dict.fromkeys(recordings, "finished")
    claims = dict(rows(postgres_url, "SELECT name, claims FROM meeting_jobs"))
    assert claims["board.wav"] == 2 and claims["retro.wav"] == claims["sync.wav"] == 1
    board = json.loads((out / "board.json").read_text())
    assert len(board["transcript"]) == recordings["board.wav"][2]
