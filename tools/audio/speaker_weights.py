"""The GE2E speaker-encoder weights: the copy gemloom ships, or a file the user names.

`data/ge2e.npz` holds the encoder tensors of Resemblyzer 0.1.4's `pretrained.pt` (Apache-2.0,
(c) 2019 Resemble.AI; notice and licence in `data/GE2E-LICENSE.txt`) as float16, converted by
`speaker_convert.py`; its sha256 is checked before it is read. GEMLOOM_SPEAKER_WEIGHTS may name
another `.npz` of the same arrays or a `pretrained.pt` (read without torch, `speaker_torchfile.py`).
"""

from __future__ import annotations

import hashlib
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from gemloom.errors import GemloomError
from gemloom.tools.audio.speaker_torchfile import read_legacy_torch

VENDORED = Path(__file__).resolve().parent / "data" / "ge2e.npz"
SHA256 = "665f585b7278d8390843d58238b5f7b5b1b7ac2650bd2dca735fd60d0216bc45"
LAYERS = 3
SHAPES = {"linear.weight": (256, 256), "linear.bias": (256,)} | {
    f"lstm.{kind}_l{k}": shape
    for k in range(LAYERS)
    for kind, shape in (
        ("weight_ih", (1024, 40 if k == 0 else 256)),
        ("weight_hh", (1024, 256)),
        ("bias_ih", (1024,)),
        ("bias_hh", (1024,)),
    )
}
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error)


class SpeakerWeightsUnavailable(GemloomError):
    """The speaker-encoder weights are missing or unreadable."""


def _configured() -> Path | None:
    from gemloom.settings import load_settings

    return load_settings().speaker_weights


def weights_path() -> Path | None:
    """GEMLOOM_SPEAKER_WEIGHTS, else the shipped `ge2e.npz` (None if the install lacks it)."""
    return _configured() or (VENDORED if VENDORED.is_file() else None)


def _check_vendored(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SpeakerWeightsUnavailable(
            f"The speaker-encoder weights shipped at {path} are damaged (sha256 {digest[:12]}..., "
            f"expected {SHA256[:12]}...): reinstall gemloom."
        )


def _read(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    return read_legacy_torch(path)["model_state"]


def _encoder_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tensors the encoder uses, as float32; ValueError when one is absent or misshapen."""
    missing = sorted(set(SHAPES) - set(state))
    if missing:
        raise ValueError(f"no tensor {missing[0]}")
    for name, shape in SHAPES.items():
        if np.shape(state[name]) != shape:
            raise ValueError(f"{name} has shape {np.shape(state[name])}, not {shape}")
    return {name: np.asarray(state[name], dtype=np.float32) for name in SHAPES}


def load_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The encoder's state dict (lstm.*, linear.*) as float32 arrays."""
    path = path or weights_path()
    if path is None or not Path(path).is_file():
        where = f" at {path}" if path else ""
        raise SpeakerWeightsUnavailable(
            f"No speaker-encoder weights{where}: reinstall gemloom (it ships tools/audio/data/"
            "ge2e.npz) or point GEMLOOM_SPEAKER_WEIGHTS at a ge2e .npz or Resemblyzer's "
            "pretrained.pt."
        )
    path = Path(path)
    try:
        if path.resolve() == VENDORED:
            _check_vendored(path)
        return _encoder_state(_read(path))
    except (*_UNREADABLE, zipfile.BadZipFile) as exc:
        raise SpeakerWeightsUnavailable(
            f"Cannot read the speaker-encoder weights at {path} ({exc}): give a ge2e .npz or "
            "Resemblyzer 0.1.4's pretrained.pt in GEMLOOM_SPEAKER_WEIGHTS, or unset it."
        ) from None
