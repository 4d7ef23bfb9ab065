"""Resemblyzer 0.1.4's `pretrained.pt` converted to the `.npz` that gemloom ships, reproducibly.

    python -m gemloom.tools.audio.speaker_convert [PRETRAINED_PT [OUT_NPZ]]

Without arguments it reads the installed resemblyzer wheel's file (found without importing the
package: its `__init__` imports torch) and writes `tools/audio/data/ge2e.npz`, then prints the
file's sha256, the value `speaker_weights.SHA256` must hold. Only the encoder's tensors are kept
(the optimizer state and the GE2E loss's similarity scale are dropped), as float16 by default. The
archive is written uncompressed with fixed dates and sorted names, so one input gives one file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

from gemloom.tools.audio.speaker_torchfile import read_legacy_torch

ENCODER_PREFIXES = ("lstm.", "linear.")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


def installed_pretrained() -> Path | None:
    """`pretrained.pt` of an installed resemblyzer distribution, found without importing it."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    return path if path.is_file() else None


def encoder_arrays(pretrained: Path, dtype: type = np.float16) -> dict[str, np.ndarray]:
    """The encoder's tensors of a `pretrained.pt`, by name, in `dtype`."""
    state = read_legacy_torch(pretrained)["model_state"]
    kept = {k: v for k, v in state.items() if k.startswith(ENCODER_PREFIXES)}
    return {k: np.asarray(v, dtype=dtype) for k, v in kept.items()}


def write_npz(arrays: dict[str, np.ndarray], dest: Path) -> str:
    """Write `arrays` as a byte-for-byte reproducible `.npz`; its sha256 in hex."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            array = np.ascontiguousarray(arrays[name])
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.create_system = 3  # the same header bytes on every platform
            archive.writestr(info, buffer.getvalue())
    return hashlib.sha256(dest.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Convert; print the output's path, size and sha256."""
    from gemloom.tools.audio.speaker_weights import VENDORED

    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else installed_pretrained()
    dest = Path(args[1]) if len(args) > 1 else VENDORED
    if source is None or not source.is_file():
        print(
            f"error: no pretrained.pt at {source or 'the installed resemblyzer'}: "
            "pip install --no-deps resemblyzer==0.1.4 (only to convert), or give its path.",
            file=sys.stderr,
        )
        return 2
    try:
        arrays = encoder_arrays(source)
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error) as exc:
        print(f"error: cannot read {source} as a torch checkpoint ({exc}).", file=sys.stderr)
        return 2
    digest = write_npz(arrays, dest)
    print(f"{dest} ({dest.stat().st_size} bytes) sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
