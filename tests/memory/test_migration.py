"""A store of the retired numpy MiniLM: one clear line, then `gemloom memory reembed` moves it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gemloom.memory.embedders import RetiredEmbedder
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import COLLECTION, HNSW

TEXTS = {
    "We adopted PostgreSQL for the orders service.": Kind.DECISION,
    "The cafeteria closes at 3 pm on Fridays.": Kind.FACT,
}


def _legacy_store(path: Path) -> list[str]:
    """What gemloom 0.1 left on disk: the 'minilm-l6-v2' key and Chroma config 'gemloom-minilm'."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(str(path), Settings(anonymized_telemetry=False))
    records = [Record(text=t, kind=k) for t, k in TEXTS.items()]
    for name in (COLLECTION, f"{COLLECTION}-forgotten"):
        collection = client.get_or_create_collection(
            name,
            embedding_function=RetiredEmbedder(),
            metadata={"embedder": "minilm-l6-v2", **HNSW},
        )
        if name == COLLECTION:
            vectors = np.random.default_rng(3).standard_normal((len(records), 384))
            collection.add(
                ids=[r.id for r in records],
                documents=[r.text for r in records],
                metadatas=[r.metadata() for r in records],
                embeddings=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
            )
    return [r.id for r in records]


def _gemloom(*args: str, home: Path, dead: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GEMLOOM_HOME": str(home), "OLLAMA_HOST": dead}
    return subprocess.run(
        [sys.executable, "-m", "gemloom", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def legacy(gemloom_home: Path) -> list[str]:
    path = gemloom_home / "memory"
    ids = subprocess.run(
        [sys.executable, "-c", f"import {__name__.rsplit('.', 1)[-1]} as m, pathlib, sys; "
         "print(' '.join(m._legacy_store(pathlib.Path(sys.argv[1]))))", str(path)],
        capture_output=True, text=True, cwd=Path(__file__).parent, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    assert len(ids) == len(TEXTS)
    return ids


@pytest.mark.timeout(600)  # five real gemloom processes, each loading Chroma and the model
def test_a_retired_embedder_store_says_run_reembed_then_migrates(
    legacy: list[str], gemloom_home: Path, dead_host: str
) -> None:
    search = _gemloom("memory", "search", "what database", home=gemloom_home, dead=dead_host)
    assert search.returncode == 13, search  # STORE_UNUSABLE (was 9 before the one table)
    lines = search.stderr.strip().splitlines()
    assert len(lines) == 1 and "minilm-l6-v2" in lines[0], search.stderr
    assert "run `gemloom memory reembed`" in lines[0] and "Traceback" not in search.stderr
    listed = _gemloom("memory", "list", home=gemloom_home, dead=dead_host)
    assert listed.returncode == 0 and "2 of 2 shown" in listed.stdout  # reading still works
    moved = _gemloom("memory", "reembed", home=gemloom_home, dead=dead_host)
    assert moved.returncode == 0, moved.stderr
    assert "re-embedded 2 memories with minilm-l6-v2-int8" in moved.stdout
    found = _gemloom("memory", "search", "what database do orders use", "-k", "1",
                     home=gemloom_home, dead=dead_host)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert legacy[0] in found.stdout and "cafeteria" not in found.stdout
    stats = _gemloom("memory", "stats", home=gemloom_home, dead=dead_host)
    assert "embedder: minilm-l6-v2-int8" in stats.stdout and "live: 2" in stats.stdout
