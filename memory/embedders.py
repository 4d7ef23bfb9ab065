"""Embedders as explicit Chroma embedding functions: Ollama's model, or MiniLM offline."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from gemloom.errors import GemloomError
from gemloom.memory.errors import EmbedderRetired
from gemloom.memory.minilm import MiniLM
from gemloom.plugins import Group, discover, load_named
from gemloom.settings import Settings, load_settings

log = logging.getLogger(__name__)
OFFLINE_KEY = "minilm-l6-v2-int8"
RETIRED_KEYS = {"minilm-l6-v2": "gemloom-minilm"}  # key -> Chroma name: the numpy fp32 MiniLM
_MINILM: MiniLM | None = None  # one ONNX session per process


def _minilm() -> MiniLM:
    global _MINILM
    if _MINILM is None:
        _MINILM = MiniLM()
    return _MINILM


@register_embedding_function
class OfflineEmbedder(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime: 384 dimensions, no network, no torch."""

    key = OFFLINE_KEY
    dims = 384

    def __init__(self) -> None:
        self._model = _minilm()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._model.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "gemloom-minilm-int8"

    def get_config(self) -> dict[str, Any]:
        return {"model": "all-MiniLM-L6-v2-int8"}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OfflineEmbedder:
        return OfflineEmbedder()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@register_embedding_function
class OllamaEmbedder(EmbeddingFunction[Documents]):
    """An Ollama embedding model (embeddinggemma by default) through gemloom's LLM boundary."""

    def __init__(self, settings: Settings | None = None, model: str | None = None) -> None:
        from gemloom.llm import LLM

        self.settings = settings or load_settings()
        self.model = model or self.settings.embed_model
        self.key = f"ollama:{self.model}"
        self._llm = LLM(self.settings, retries=1, backoff=0.2)
        self._dims: int | None = None

    def __call__(self, input: Documents) -> Embeddings:
        vectors = np.asarray(self._llm.embed(list(input), self.model), dtype=np.float32)
        return list(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12))

    @property
    def dims(self) -> int:
        """The model's vector size, found by embedding one probe text."""
        if self._dims is None:
            self._dims = len(self(["dimension probe"])[0])
        return self._dims

    def available(self) -> None:
        """Raise a GemloomError unless the model is pulled and can embed."""
        from gemloom.llm import LLM

        info = LLM(self.settings, retries=0).model_info(self.model)  # a probe: fail fast
        if not info.has("embedding"):
            raise GemloomError(f"Model '{self.model}' has no 'embedding' capability.")

    @staticmethod
    def name() -> str:
        return "gemloom-ollama"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OllamaEmbedder:
        return OllamaEmbedder(model=config.get("model"))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@register_embedding_function
class RetiredEmbedder(EmbeddingFunction[Documents]):
    """An embedder gemloom no longer has: its store can be read and re-embedded, not searched."""

    dims = 384

    def __init__(self, key: str = "minilm-l6-v2") -> None:
        self.key = key

    def __call__(self, input: Documents) -> Embeddings:
        raise EmbedderRetired(self.key)

    @staticmethod
    def name() -> str:
        return RETIRED_KEYS["minilm-l6-v2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": "all-MiniLM-L6-v2"}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> RetiredEmbedder:
        return RetiredEmbedder()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


Embedder = OfflineEmbedder | OllamaEmbedder | RetiredEmbedder


def offline_embedder(settings: Settings | None, argument: str) -> Embedder:
    """The built-in `minilm-l6-v2-int8` entry point: MiniLM run offline (takes no argument)."""
    if argument:
        raise GemloomError(f"The embedder '{OFFLINE_KEY}' takes no ':{argument}'.")
    return OfflineEmbedder()


def ollama_embedder(settings: Settings | None, argument: str) -> Embedder:
    """The built-in `ollama` entry point: `ollama:<model>` embeds with Ollama."""
    if not argument:
        raise GemloomError("Give the Ollama embedder a model: 'ollama:<model>'.")
    return OllamaEmbedder(settings, argument)


def embedder_for(key: str, settings: Settings | None = None) -> Embedder:
    """The embedder a key names, `NAME` or `NAME:argument`, from the `gemloom.embedders` group."""
    name, _, argument = key.partition(":")
    factory = load_named(Group.EMBEDDERS, name)
    if factory is not None:
        return factory(settings, argument)
    known = ", ".join(f"'{p.name}'" for p in discover(Group.EMBEDDERS))
    raise GemloomError(
        f"Unknown embedder '{key}': use '{OFFLINE_KEY}', 'ollama:<model>' or an installed "
        f"plugin's name (installed: {known})."
    )


def default_embedder(settings: Settings | None = None) -> Embedder:
    """Ollama's embedding model when it answers and can embed; else the offline one, said aloud."""
    settings = settings or load_settings()
    ollama = OllamaEmbedder(settings)
    try:
        ollama.available()
    except GemloomError as exc:
        log.warning("Embedding model unavailable (%s); using the offline %s.", exc, OFFLINE_KEY)
        return OfflineEmbedder()
    return ollama
