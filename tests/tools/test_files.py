import os
from pathlib import Path

import pytest

from gemloom.tools.files import (
    confine,
    current_time,
    list_directory,
    read_text_file,
    write_text_file,
)
from gemloom.tools.registry import ToolContext, ToolError


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "secret.txt").write_text("outside")
    return ToolContext(root)


def run(t, ctx, **kwargs):
    return t.run(t.validate(kwargs), ctx)


def test_list_and_read(ctx) -> None:
    assert run(list_directory, ctx) == "sub/"
    assert "f.txt  (14 bytes)" in run(list_directory, ctx, path="sub")
    assert run(read_text_file, ctx, path="sub/f.txt", start_line=2, end_line=3) == "two\nthree"


def test_write_is_atomic_and_creates_folders(ctx) -> None:
    assert (
        run(write_text_file, ctx, path="new/x.txt", content="hello")
        == "wrote 5 characters to new/x.txt"
    )
    assert (ctx.workspace / "new" / "x.txt").read_text() == "hello"
    assert not list((ctx.workspace / "new").glob(".*tmp"))


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd"])
def test_paths_cannot_leave_the_workspace(ctx, path: str) -> None:
    with pytest.raises(ToolError):
        run(read_text_file, ctx, path=path)
    with pytest.raises(ToolError):
        run(write_text_file, ctx, path=path, content="x")


def test_symlinks_cannot_escape(ctx) -> None:
    os.symlink(ctx.workspace.parent / "secret.txt", ctx.workspace / "link.txt")
    os.symlink(ctx.workspace.parent, ctx.workspace / "up")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(read_text_file, ctx, path="link.txt")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(write_text_file, ctx, path="up/new.txt", content="x")
    assert not (ctx.workspace.parent / "new.txt").exists()


def test_confine_allows_inside_symlinks(ctx) -> None:
    os.symlink(ctx.workspace / "sub" / "f.txt", ctx.workspace / "alias.txt")
    assert confine(ctx.workspace, "alias.txt") == (ctx.workspace / "sub" / "f.txt").resolve()


def test_bad_reads(ctx) -> None:
    (ctx.workspace / "bin.dat").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ToolError, match="not a UTF-8 text file"):
        run(read_text_file, ctx, path="bin.dat")
    with pytest.raises(ToolError, match="not a file"):
        run(read_text_file, ctx, path="missing.txt")
    with pytest.raises(ToolError, match="not a directory"):
        run(list_directory, ctx, path="sub/f.txt")


def test_current_time_is_iso() -> None:
    from datetime import datetime

    assert datetime.fromisoformat(current_time.run({}, None)).tzinfo is not None


def test_long_reads_are_cut_and_say_so(ctx) -> None:
    from gemloom.tools.codebase import read_file

    (ctx.workspace / "big.txt").write_text("x" * 150_000 + "\n")
    for text in (run(read_text_file, ctx, path="big.txt"), run(read_file, ctx, path="big.txt")):
        assert text.endswith("\n[... cut at 100000 characters]")
        assert len(text) == 100_000 + len("\n[... cut at 100000 characters]")
