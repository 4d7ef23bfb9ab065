"""The relevance benchmark's source tree: unpacked from a downloaded sdist, a clear error if not."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench" / "relevance.py"


def _bench():
    spec = importlib.util.spec_from_file_location("relevance_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sdist(folder: Path, name: str, version: str) -> None:
    with tarfile.open(folder / f"{name}-{version}.tar.gz", "w:gz") as archive:
        body = b"def engine():\n    pass\n"
        info = tarfile.TarInfo(f"{name}-{version}/lib/{name}/engine.py")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))


def test_a_downloaded_sdist_is_unpacked_once(tmp_path: Path, monkeypatch) -> None:
    bench = _bench()
    calls = []

    def pip(command, **_):
        calls.append(command)
        _sdist(tmp_path, "orm", "1.0")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bench.subprocess, "run", pip)
    tree = bench.source_tree("orm", "1.0", tmp_path)
    assert (tree / "lib" / "orm" / "engine.py").read_text().startswith("def engine")
    assert "--no-binary" in calls[0] and "orm==1.0" in calls[0]
    assert bench.source_tree("orm", "1.0", tmp_path) == tree and len(calls) == 1


def test_an_sdist_that_cannot_be_had_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    bench = _bench()
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found\n")
    monkeypatch.setattr(bench.subprocess, "run", lambda command, **_: failed)
    with pytest.raises(SystemExit) as stopped:
        bench.source_tree("orm", "9.9", tmp_path)
    assert str(stopped.value) == (
        "error: cannot get the orm 9.9 sdist with pip download: "
        "ERROR: No matching distribution found"
    )
    assert not (tmp_path / "orm-9.9").exists()
