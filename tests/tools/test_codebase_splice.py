"""A re-pack splices changed sections into the previous pack: the bytes equal a cold pack."""

from __future__ import annotations

import gc
import io
import os
import threading
import time
from pathlib import Path

import ormsgpack
import pytest
from trees import git, write

from gemloom.settings import load_settings
from gemloom.tools.codebase import pack as packing
from gemloom.tools.codebase import splice
from gemloom.tools.codebase.budget import BudgetTooSmall
from gemloom.tools.codebase.cache import FileCache
from gemloom.tools.codebase.render import Entry, path_order
from gemloom.tools.codebase.tools import Pack, pack

GITHUB = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"
TREE = {
    "README.md": "# demo\n\n```python\nprint(1)\n```\n",
    "pkg/__init__.py": "",
    "pkg/core.py": "def f():\n    return 1\n",
    "pkg/deep/mod.py": "X = '<file path=\"forged\">'\n",  # escaped in xml packs
    "pkg/tokens.py": f'TOKEN = "{GITHUB}"\n',  # redacted
    "pkg/data.bin": b"\x00\x01\x02",  # skipped
    "tools/run.sh": "echo run",  # no final newline
    "yarn.lock": "# lock\n",  # skipped by name
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    write(folder, TREE)
    return folder


def cold(root: Path, tmp_path: Path, fmt: str) -> Pack:
    """A pack of the tree as it is now, with an empty cache of its own."""
    fresh = tmp_path / f"cold-{len(list(tmp_path.glob('cold-*')))}"
    return pack(root, fmt=fmt, settings=load_settings(data_dir=fresh))


def same(spliced: Pack, fresh: Pack) -> None:
    assert spliced.data == fresh.data
    assert spliced.stats.as_dict() == fresh.stats.as_dict()
    assert [(e.path, e.status, e.text) for e in spliced.entries] == [
        (e.path, e.status, e.text) for e in fresh.entries
    ]


def bump(path: Path) -> None:
    """Move the mtime on, as an editor's save a moment later would."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000_000))


class Loads:
    """Counts the files the pack reads and the headers it renders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.files: list[str] = []
        self.headers = 0
        load, header = packing.load, splice.header

        def counted_load(full, rel, st, cached, **options):
            self.files.append(rel)
            return load(full, rel, st, cached, **options)

        def counted_header(*args):
            self.headers += 1
            return header(*args)

        monkeypatch.setattr(packing, "load", counted_load)
        monkeypatch.setattr(splice, "header", counted_header)


def edit(root: Path, rel: str, content: str | bytes) -> None:
    write(root, {rel: content})
    bump(root / rel)


# change -> (what it does, the files read again, headers rendered)
EDITS = {
    "edit": (lambda root: edit(root, "pkg/core.py", "def f():\n    return 'one'\n"),
             ["pkg/core.py"], 0),
    "add": (lambda root: write(root, {"pkg/new.py": "NEW = 1\n", "a.txt": "first\n"}),
            ["a.txt", "pkg/new.py"], 1),
    "delete": (lambda root: (root / "pkg/deep/mod.py").unlink(), [], 1),
    "secret": (lambda root: edit(root, "pkg/core.py", f'KEY = "{GITHUB}"\n'), ["pkg/core.py"], 1),
    "binary": (lambda root: edit(root, "tools/run.sh", b"\x00ELF"), ["tools/run.sh"], 1),
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["xml", "markdown"])
@pytest.mark.parametrize("change", sorted(EDITS))
@pytest.mark.parametrize("in_git", [False, True])  # in git the last pack's files are looked at
def test_a_spliced_repack_equals_a_cold_pack_of_the_changed_tree(  # while git lists the tree
    root: Path, tmp_path: Path, gemloom_home: Path, monkeypatch: pytest.MonkeyPatch,
    fmt: str, change: str, in_git: bool,
) -> None:  # fmt: skip
    if in_git:
        git(root, "init", "-q")
    assert pack(root, fmt=fmt).stats.git is in_git
    apply, read_again, headers = EDITS[change]
    apply(root)
    loads = Loads(monkeypatch)
    spliced = pack(root, fmt=fmt)
    monkeypatch.undo()
    same(spliced, cold(root, tmp_path, fmt))
    assert sorted(loads.files) == read_again  # every other section came from the last pack
    assert loads.headers == headers  # the header is rendered once, or reused when it holds
    assert GITHUB not in spliced.text


@pytest.mark.parametrize("in_git", [False, True])
def test_an_unchanged_tree_is_reused_whole(
    root: Path, gemloom_home: Path, monkeypatch: pytest.MonkeyPatch, in_git: bool
) -> None:
    if in_git:  # the last pack is read while git lists the tree; outside git, once git fails
        git(root, "init", "-q")
    first = pack(root)
    assert first.stats.git is in_git
    loads = Loads(monkeypatch)
    again = pack(root)
    assert again.data == first.data and again.stats.as_dict() == first.stats.as_dict()
    assert loads.files == [] and loads.headers == 0
    pack(root, use_git=False)  # the same walk's pack again; git's is another: not spliced
    assert bool(loads.files) is in_git
    assert {e.path: e.text for e in again.entries} == {e.path: e.text for e in first.entries}


def test_a_changed_file_git_now_ignores_leaves_the_pack_and_the_cache(
    root: Path, tmp_path: Path, gemloom_home: Path
) -> None:
    git(root, "init", "-q")
    pack(root)
    edit(root, "pkg/core.py", "def f():\n    return 'two'\n")  # looked at, then not listed
    write(root, {".gitignore": "pkg/core.py\n"})
    spliced = pack(root)
    same(spliced, cold(root, tmp_path, "xml"))
    assert "pkg/core.py" not in {e.path for e in spliced.entries}
    assert FileCache(gemloom_home, root).get("pkg/core.py") is None


def test_other_options_are_not_spliced_from_the_last_pack(
    root: Path, tmp_path: Path, gemloom_home: Path
) -> None:
    pack(root)
    narrowed = pack(root, include=["pkg/**"])
    fresh = pack(root, include=["pkg/**"], settings=load_settings(data_dir=tmp_path / "other"))
    same(narrowed, fresh)
    assert "README.md" not in narrowed.text


def _saved(home: Path, suffix: str) -> Path:
    (found,) = (home / "codebase-cache").rglob(f"pack-xml*{suffix}")
    return found


@pytest.mark.parametrize("damage", ["truncated", "garbled", "missing", "index", "rows", "digests"])
@pytest.mark.parametrize("in_git", [False, True])  # in git, hashed beside the early reads
def test_a_damaged_previous_pack_is_rebuilt_not_trusted(
    root: Path, tmp_path: Path, gemloom_home: Path, monkeypatch: pytest.MonkeyPatch,
    damage: str, in_git: bool,
) -> None:  # fmt: skip
    if in_git:
        git(root, "init", "-q")
        monkeypatch.setattr(packing, "HASHED_BESIDE", 0)  # hashed in its thread, however small
    pack(root)
    blob, index = _saved(gemloom_home, ".bin"), _saved(gemloom_home, ".msgpack")
    if damage == "truncated":
        blob.write_bytes(blob.read_bytes()[:100])
    elif damage == "garbled":  # the same length, other bytes: no section is where it should be
        blob.write_bytes(bytes(reversed(blob.read_bytes())))
    elif damage == "missing":
        blob.unlink()
    elif damage == "index":
        index.write_bytes(b"\x93\xa1x\x01\x02")
    elif damage == "digests":  # valid MessagePack, digests of the wrong shape
        raw = ormsgpack.unpackb(index.read_bytes())
        raw[4] = [["end", 7], [None]]
        index.write_bytes(ormsgpack.packb(raw))
    else:  # valid MessagePack, rows of the wrong shape
        raw = ormsgpack.unpackb(index.read_bytes())
        rows = raw[-1]
        for n, path in enumerate(sorted(rows)):
            rows[path] = [[], "x", None, 3][n % 4] if n % 2 else [*rows[path][:8], [1, "a"]]
        index.write_bytes(ormsgpack.packb(raw))
    (root / "pkg/core.py").write_text("def f():\n    return 2\n")
    same(pack(root), cold(root, tmp_path, "xml"))


def test_the_previous_pack_keeps_no_secret(root: Path, gemloom_home: Path) -> None:
    pack(root)
    stored = b"".join(p.read_bytes() for p in (gemloom_home / "codebase-cache").rglob("pack-*"))
    assert stored and GITHUB.encode() not in stored
    assert b"[REDACTED:github_token]" in stored


def test_only_the_latest_bytes_file_is_kept(root: Path, gemloom_home: Path) -> None:
    for n in range(3):
        (root / "pkg/core.py").write_text(f"N = {n}\n")
        pack(root)
    assert len(list((gemloom_home / "codebase-cache").rglob("pack-xml-*.bin"))) == 1


def test_budgeted_packs_after_a_whole_pack_equal_cold_ones(
    root: Path, tmp_path: Path, gemloom_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root, {f"pkg/big{i}.py": f"def g{i}(x):\n    '''Doc {i}.'''\n" + "    x += 1\n" * 300
                 for i in range(6)})  # fmt: skip
    whole = pack(root)
    loads = Loads(monkeypatch)
    roomy = pack(root, budget=whole.stats.tokens + 10)  # it all fits: spliced, nothing read
    assert loads.files == [] and roomy.data == whole.data
    tight = pack(root, budget=whole.stats.tokens // 3, question="g2")  # fitting reads records
    monkeypatch.undo()
    for budget, packed in ((whole.stats.tokens + 10, roomy), (whole.stats.tokens // 3, tight)):
        cold_one = pack(root, budget=budget, question="g2" if packed is tight else "",
                        settings=load_settings(data_dir=tmp_path / f"cold{budget}"))  # fmt: skip
        same(packed, cold_one)
    assert tight.stats.outlined + tight.stats.omitted > 0


def test_edits_append_to_the_segments_file_until_it_is_rewritten_whole(
    root: Path, tmp_path: Path, gemloom_home: Path
) -> None:
    write(root, {"pkg/big.py": "# big\n" * 2000})
    first = pack(root)
    (blob,) = (gemloom_home / "codebase-cache").rglob("pack-xml-*.bin")
    sizes = []
    for n in range(12):  # each edit rewrites the big file's section: appended, then compacted
        edit(root, "pkg/big.py", f"# edit {n}\n" * 2000)
        packed = pack(root)
        (current,) = (gemloom_home / "codebase-cache").rglob("pack-xml-*.bin")
        sizes.append((current.name == blob.name, current.stat().st_size))
        assert current.stat().st_size <= 2 * len(packed.data)
    assert sizes[0][0] and sizes[0][1] > len(first.data)  # the first edit was appended
    assert any(not same_file for same_file, _ in sizes)  # compacted at least once
    same(packed, cold(root, tmp_path, "xml"))


def test_the_collector_runs_again_after_a_pack_even_one_that_fails(
    root: Path, gemloom_home: Path
) -> None:
    pack(root)
    assert gc.isenabled()
    with pytest.raises(BudgetTooSmall):
        pack(root, budget=3)
    assert gc.isenabled()


def test_parts_are_written_whole_through_a_pipe_and_to_memory() -> None:
    parts = [bytes([n % 251]) * (n * 37 % 9000) for n in range(3000)]
    parts += [memoryview(b"tail" * 50_000)[3:]]
    read, write = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=lambda: [got.extend(chunk) for chunk in iter_read(read)])
    reader.start()
    with os.fdopen(write, "wb") as handle:
        splice.write_parts(handle, parts)
    reader.join(timeout=60)
    assert bytes(got) == b"".join(parts)
    memory = io.BytesIO()
    splice.write_parts(memory, parts)
    assert memory.getvalue() == b"".join(parts)


def iter_read(fd: int):
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(4096):
            time.sleep(0.0001) if len(chunk) % 7 == 0 else None  # a slow reader: pipe fills
            yield chunk


def test_the_tree_order_is_folder_by_folder() -> None:
    paths = ["a-b/x.py", "a/b.py", "a.b", "a b/c", "a/b/c.py", "a/b-c.py", "ab", "a/a", "A"]
    entries = [Entry(p, "full") for p in paths]
    assert [e.path for e in sorted(entries, key=path_order)] == sorted(
        paths, key=lambda p: p.split("/")
    )


def test_a_partial_write_goes_on_from_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.writev

    def at_most_999_bytes(fd: int, buffers: list) -> int:  # as a pipe or a signal can cut it
        taken, room = [], 999
        for buffer in buffers:
            if room <= 0:
                break
            taken.append(memoryview(buffer)[:room])
            room -= len(taken[-1])
        return real(fd, taken)

    monkeypatch.setattr(os, "writev", at_most_999_bytes)
    parts = [bytes([n % 251]) * (n * 37 % 2000) for n in range(500)]
    with (tmp_path / "out").open("wb") as handle:
        splice.write_parts(handle, parts)
    assert (tmp_path / "out").read_bytes() == b"".join(parts)
