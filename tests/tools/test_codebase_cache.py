"""The pack cache is data: a planted pickle runs nothing, a corrupt shard is rebuilt, no secret."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import xxhash

from gemloom.tools.codebase.cache import SHARDS, SUFFIX, FileCache, decode
from gemloom.tools.codebase.tools import pack

GITHUB = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"


class Planted:
    """A pickle that, when loaded, writes a file: the classic cache-poisoning payload."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def _cache_folder(home: Path) -> Path:
    (folder,) = (home / "codebase-cache").iterdir()
    return folder


def test_a_planted_pickle_runs_nothing_and_the_pack_is_right(
    tmp_path: Path, gemloom_home: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("A = 1\n")
    pack(root)
    folder = _cache_folder(gemloom_home)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(("1:x", Planted(marker)))
    pickle.loads(payload)
    assert marker.exists()  # the payload is live: loading it with pickle runs it
    marker.unlink()
    for index in range(SHARDS):  # under the old name and the new one
        (folder / f"{index:02x}.pickle").write_bytes(payload)
        (folder / f"{index:02x}{SUFFIX}").write_bytes(payload)
    packed = pack(root)
    assert not marker.exists()
    assert "A = 1" in packed.text
    assert not list(folder.glob("*.pickle"))  # old pickles are removed, never read


def test_a_corrupt_or_foreign_shard_is_rebuilt(tmp_path: Path, gemloom_home: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("A = 1\n")
    first = pack(root).text
    folder = _cache_folder(gemloom_home)
    shards = sorted(folder.glob(f"*{SUFFIX}"))
    assert shards
    for shard in shards:
        shard.write_bytes(shard.read_bytes()[:7])  # truncated mid-record
    assert decode(shards[0].read_bytes()) == {}
    assert decode(b"\x93\xa1x\x01\x02") == {}  # valid msgpack, wrong shape
    assert pack(root).text == first
    cache = FileCache(gemloom_home, root.resolve())
    record = cache.get("a.py")
    assert record is not None and record.digest == xxhash.xxh3_128_hexdigest(b"A = 1\n")
    assert record.own and record.body is None  # a clean file's text is the file: not copied


def test_a_clean_file_edited_behind_the_cache_is_read_again(
    tmp_path: Path, gemloom_home: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    target = root / "a.py"
    secret = f'K = "{GITHUB}"\n'
    target.write_text("A = " + "1" * (len(secret) - 5) + "\n")
    pack(root, budget=10_000)  # the budgeted path reads records from the cache
    st = target.stat()
    target.write_text(secret)  # same size, and the old mtime put back: only the hash tells
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size
    packed = pack(root, budget=10_000)
    assert GITHUB not in packed.text and "[REDACTED:github_token]" in packed.text


def test_the_cache_holds_redacted_text_only(tmp_path: Path, gemloom_home: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "deploy.py").write_text(f'TOKEN = "{GITHUB}"\n')
    packed = pack(root, budget=10_000, question="deploy")
    assert GITHUB not in packed.text
    stored = b"".join(
        p.read_bytes() for p in (gemloom_home / "codebase-cache").rglob("*") if p.is_file()
    )
    assert stored and GITHUB.encode() not in stored
    assert b"[REDACTED:github_token]" in stored
