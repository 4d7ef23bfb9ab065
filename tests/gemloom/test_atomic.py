"""The one atomic write: concurrent writers, concurrent readers, planted links, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gemloom.atomic import TEMP_SUFFIX, write_atomic

SIZE = 256 * 1024
WRITER = """
import sys
from gemloom.atomic import write_atomic
path, letter, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(rounds):
    write_atomic(path, letter * {size})
"""


def test_two_processes_writing_one_file_never_show_a_reader_half_a_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    write_atomic(target, "A" * SIZE)
    code = WRITER.format(size=SIZE)
    writers = [
        subprocess.Popen([sys.executable, "-c", code, str(target), letter, "150"])
        for letter in "AB"
    ]
    seen = set()
    while any(w.poll() is None for w in writers):
        data = target.read_text()
        assert len(data) == SIZE and len(set(data)) == 1, "a reader saw a torn or mixed file"
        seen.add(data[0])
    assert [w.wait() for w in writers] == [0, 0]
    assert target.read_text() in ("A" * SIZE, "B" * SIZE)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]  # no temporary file left


def test_the_file_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "f.txt", "old")
    other_name = tmp_path / "hardlink.txt"
    os.link(target, other_name)
    before = target.stat().st_ino
    write_atomic(target, "new")
    assert target.stat().st_ino != before  # a new inode swapped in by rename
    assert other_name.read_text() == "old"  # the old inode was never written to
    assert target.read_text() == "new"


def test_a_symlink_planted_at_a_predictable_temp_name_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    work = tmp_path / "work"
    work.mkdir()
    for name in (f".f.txt{TEMP_SUFFIX}", "f.tmp", ".f.txt.tmp", "f.txt.tmp"):
        (work / name).symlink_to(outside)
    write_atomic(work / "f.txt", "written")
    assert outside.read_text() == "precious"
    assert (work / "f.txt").read_text() == "written" and not (work / "f.txt").is_symlink()


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "n.md", "old")
    with pytest.raises(TypeError):
        write_atomic(target, None)  # type: ignore[arg-type]
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["n.md"]


def test_modes_follow_the_replaced_file_or_the_umask(tmp_path: Path) -> None:
    fresh = write_atomic(tmp_path / "fresh.txt", "x")
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()
    kept = tmp_path / "script.sh"
    kept.write_text("old")
    kept.chmod(0o750)
    write_atomic(kept, "new")
    assert kept.stat().st_mode & 0o777 == 0o750


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _replaces(path: Path) -> list[str]:
    """Calls of os.replace / os.rename / tempfile.mkstemp: hand-made atomic writes."""
    import ast

    calls = {("os", "replace"), ("os", "rename"), ("tempfile", "mkstemp")}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        func = getattr(node, "func", None)
        named = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        if named and (func.value.id, func.attr) in calls:
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_gemloom_atomic_is_the_only_atomic_write(tmp_path: Path) -> None:
    from source_files import ROOT, library_modules

    modules = [*library_modules(), *(ROOT / "gemloom" / "cli").glob("*.py")]
    assert [hit for p in modules if p.name != "atomic.py" for hit in _replaces(p)] == []
    probe = tmp_path / "probe.py"
    probe.write_text("import os, tempfile\nfd, t = tempfile.mkstemp()\nos.replace(t, 'x')\n")
    assert _replaces(probe) == ["probe.py:2", "probe.py:3"]
