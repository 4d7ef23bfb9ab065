"""A legacy (pre-1.6) torch checkpoint read without torch: Resemblyzer 0.1.4's `pretrained.pt`.

The format: a magic-number pickle, a protocol pickle, a system-info pickle, the state pickle
(storages by persistent id), a pickle of storage keys, then each storage's raw bytes behind an
8-byte element count. A restricted unpickler rebuilds the tensors as numpy arrays, so no code from
the file runs and neither torch nor the resemblyzer package is imported.
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64}


@dataclass
class _Storage:
    key: str
    dtype: type
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        """The tensor as a numpy array (copied out of its storage)."""
        assert self.storage.data is not None
        base = self.storage.data[self.offset :]
        item = base.itemsize
        strides = tuple(s * item for s in self.stride)
        return np.lib.stride_tricks.as_strided(base, self.size, strides).copy()


def _rebuild_tensor_v2(storage, offset, size, stride, *_ignored) -> _Tensor:
    return _Tensor(storage, int(offset), tuple(size), tuple(stride))


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _DTYPES[name]


class _Unpickler(pickle.Unpickler):
    """Allows only the few globals a state dict of float tensors needs."""

    def __init__(self, file: IO[bytes]):
        super().__init__(file, encoding="latin1")
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            from collections import OrderedDict

            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the weights file")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, *_rest = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self.storages.setdefault(key, _Storage(key, storage_type.dtype))


def _read_storages(file: IO[bytes], storages: dict[str, _Storage], keys: list[str]) -> None:
    for key in keys:
        (count,) = struct.unpack("<q", file.read(8))
        storage = storages[key]
        size = count * np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(file.read(size), dtype=storage.dtype, count=count)


def _arrays(value: Any) -> Any:
    if isinstance(value, _Tensor):
        return value.array()
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value


def read_legacy_torch(path: Path) -> dict[str, Any]:
    """The checkpoint in a pre-1.6 torch file, with tensors as numpy arrays."""
    with path.open("rb") as file:
        if _Unpickler(file).load() != MAGIC:
            raise pickle.UnpicklingError("not a legacy torch file")
        _Unpickler(file).load()  # protocol version
        _Unpickler(file).load()  # system info: byte order, type sizes
        unpickler = _Unpickler(file)
        state = unpickler.load()
        keys = _Unpickler(file).load()
        if not isinstance(keys, list):
            raise pickle.UnpicklingError("no storage list in the weights file")
        _read_storages(file, unpickler.storages, keys)
    return _arrays(state)
