"""The general file tools: one read, one list, the write, and the confinement of each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gemloom.tools.files.tools import confine, current_time, list_files, read_file, write_text_file
from gemloom.tools.registry import ToolContext, ToolError

GITHUB = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "secret.txt").write_text("outside")
    return ToolContext(root)


def run(t, ctx, **kwargs):
    return t.run(t.validate(kwargs), ctx).text


def test_list_and_read(ctx) -> None:
    assert run(list_files, ctx) == "sub/f.txt"
    assert run(list_files, ctx, path="sub") == "sub/f.txt"
    assert run(read_file, ctx, path="sub/f.txt", start_line=2, end_line=3) == "2: two\n3: three"


def test_reads_are_redacted_and_say_so(ctx) -> None:
    (ctx.workspace / "deploy.sh").write_text(f"echo hi\nexport GH={GITHUB}\n")
    text = run(read_file, ctx, path="deploy.sh")
    assert GITHUB not in text
    assert text == (
        "1: echo hi\n2: export GH=[REDACTED:github_token]\n"
        "[1 secret(s) redacted (github_token) on line(s) 2]"
    )


def test_gemloomignore_keeps_files_from_read_and_list(ctx) -> None:
    (ctx.workspace / ".gemloomignore").write_text("private/\n")
    (ctx.workspace / "private").mkdir()
    (ctx.workspace / "private" / "diary.txt").write_text("dear diary\n")
    assert "diary" not in run(list_files, ctx)
    with pytest.raises(ToolError, match=r"^'private/diary.txt' is excluded by \.gemloomignore$"):
        run(read_file, ctx, path="private/diary.txt")


def test_write_is_atomic_and_creates_folders(ctx) -> None:
    assert (
        run(write_text_file, ctx, path="new/x.txt", content="hello")
        == "wrote 5 characters to new/x.txt"
    )
    assert (ctx.workspace / "new" / "x.txt").read_text() == "hello"
    assert [p.name for p in (ctx.workspace / "new").iterdir()] == ["x.txt"]


@pytest.mark.parametrize(
    "path", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "/tmp", "a\0b"]
)
def test_paths_cannot_leave_the_workspace(ctx, path: str) -> None:
    for t, extra in ((read_file, {}), (write_text_file, {"content": "x"}), (list_files, {})):
        with pytest.raises(ToolError) as caught:
            run(t, ctx, path=path, **extra)
        assert "\n" not in str(caught.value)


def test_symlinks_cannot_escape(ctx) -> None:
    os.symlink(ctx.workspace.parent / "secret.txt", ctx.workspace / "link.txt")
    os.symlink(ctx.workspace.parent, ctx.workspace / "up")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(read_file, ctx, path="link.txt")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(write_text_file, ctx, path="up/new.txt", content="x")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(write_text_file, ctx, path="link.txt", content="x")
    assert not (ctx.workspace.parent / "new.txt").exists()
    assert (ctx.workspace.parent / "secret.txt").read_text() == "outside"


def test_a_planted_temp_name_symlink_is_not_followed(ctx) -> None:
    """The old fixed temporary name `.NAME.gemloom-tmp` sent the write outside."""
    outside = ctx.workspace.parent / "secret.txt"
    os.symlink(outside, ctx.workspace / ".notes.txt.gemloom-tmp")
    run(write_text_file, ctx, path="notes.txt", content="mine")
    assert outside.read_text() == "outside"
    assert (ctx.workspace / "notes.txt").read_text() == "mine"
    assert not (ctx.workspace / "notes.txt").is_symlink()


def test_writing_the_root_or_a_folder_is_refused_and_leaves_nothing(ctx) -> None:
    before = sorted(os.listdir(ctx.workspace.parent))
    for path in (".", "", "sub"):
        with pytest.raises(ToolError, match="folder"):
            run(write_text_file, ctx, path=path, content="x")
    assert sorted(os.listdir(ctx.workspace.parent)) == before  # no temp file in the parent
    assert sorted(os.listdir(ctx.workspace)) == ["sub"]


def test_hard_links_out_of_the_root_are_not_read(ctx) -> None:
    os.link(ctx.workspace.parent / "secret.txt", ctx.workspace / "hard.txt")
    with pytest.raises(ToolError, match=r"^'hard\.txt' is a hard link"):
        run(read_file, ctx, path="hard.txt")
    run(write_text_file, ctx, path="hard.txt", content="replaced")
    assert (ctx.workspace.parent / "secret.txt").read_text() == "outside"  # link replaced


def test_devices_and_pipes_are_refused(ctx) -> None:
    os.symlink("/dev/zero", ctx.workspace / "zero")
    os.mkfifo(ctx.workspace / "pipe")
    with pytest.raises(ToolError, match="outside the workspace"):
        run(read_file, ctx, path="zero")
    with pytest.raises(ToolError, match="not a regular file"):
        run(read_file, ctx, path="pipe")  # would block forever if opened plainly
    with pytest.raises(ToolError, match="not a regular file"):
        run(write_text_file, ctx, path="pipe", content="x")


def test_confine_allows_inside_symlinks(ctx) -> None:
    os.symlink(ctx.workspace / "sub" / "f.txt", ctx.workspace / "alias.txt")
    assert confine(ctx.workspace, "alias.txt") == (ctx.workspace / "sub" / "f.txt").resolve()
    assert run(read_file, ctx, path="alias.txt", end_line=1) == "1: one"


def test_bad_reads(ctx) -> None:
    (ctx.workspace / "bin.dat").write_bytes(b"\xff\xfe\x00bad")
    (ctx.workspace / "latin.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(ToolError, match=r"^'bin\.dat' is a binary file$"):
        run(read_file, ctx, path="bin.dat")
    with pytest.raises(ToolError, match="not a UTF-8 text file"):
        run(read_file, ctx, path="latin.txt")
    with pytest.raises(ToolError, match="not a file"):
        run(read_file, ctx, path="missing.txt")
    with pytest.raises(ToolError, match="not a folder"):
        run(list_files, ctx, path="sub/f.txt")


def test_current_time_is_iso() -> None:
    from datetime import datetime

    assert datetime.fromisoformat(current_time()).tzinfo is not None


def test_long_reads_are_cut_and_say_so(ctx) -> None:
    (ctx.workspace / "big.txt").write_text("x" * 150_000 + "\n")
    text = run(read_file, ctx, path="big.txt")
    assert text.endswith("\n[... cut at 100000 characters]")
    assert len(text) == 100_000 + len("\n[... cut at 100000 characters]")


def test_the_zoom_tool_reads_only_regular_images_inside_the_workspace(ctx) -> None:
    from gemloom.tools.screen.tools import zoom_tool

    os.mkfifo(ctx.workspace / "shot.png")
    os.link(ctx.workspace.parent / "secret.txt", ctx.workspace / "linked.png")
    os.symlink(ctx.workspace.parent / "secret.txt", ctx.workspace / "out.png")
    box = {"x": 0, "y": 0, "width": 1, "height": 1}
    refused = {"shot.png": "not a regular file", "linked.png": "hard link",
               "out.png": "outside the workspace", "../x.png": "uses '..'"}  # fmt: skip
    for name, message in refused.items():
        with pytest.raises(ToolError, match=message):
            run(zoom_tool, ctx, image=name, **box)
