"""Advice that fits the cause: what takes the context, and options that exist."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fake_ollama import Turn

from gemloom.cli import main


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def greet(name):\n    return f'hi {name}'\n")
    (root / "src" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "README.md").write_text("# proj\n" + "words " * 400)
    return root


def test_a_small_context_says_what_takes_the_room(fake_ollama, tmp_path, monkeypatch, capsys):
    fake_ollama.models["gemma4:12b"].context_length = 4_096
    monkeypatch.chdir(tmp_path)
    assert main(["run", "hi"]) == 5
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "the room goes to the answer reserve 4,096" in line and "tool schemas" in line
    assert "GEMLOOM_ANSWER_RESERVE" in line and "--tools" in line
    assert "shorten the input" not in line  # the input is one word: not the cause
    assert fake_ollama.chat_bodies() == []


def test_a_long_input_is_blamed_on_the_input(fake_ollama, tmp_path, monkeypatch, capsys):
    fake_ollama.models["gemma4:12b"].context_length = 8_192
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--tools", "current_time", "word " * 40_000]) == 5
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.index("goes to the messages") < line.index("the answer reserve")
    assert "shorten the input" in line and "--tools" not in line


def test_pack_include_and_exclude_narrow_the_files(fake_ollama, repo, capsys):
    assert main(["pack", str(repo), "--include", "src/", "-x", "util.py", "--json-stats"]) == 0
    captured = capsys.readouterr()
    assert "src/app.py" in captured.out and "README.md" not in captured.out
    assert "def add" not in captured.out
    assert json.loads(captured.err)["files"] == 1


def test_the_budget_advice_names_an_option_that_exists(fake_ollama, repo, capsys):
    assert main(["pack", str(repo), "--budget", "5"]) == 2
    line = capsys.readouterr().err
    assert "--include" in line
    assert main(["pack", str(repo), "--budget", "5", "--include", "src/app.py"]) in (0, 2)


@pytest.mark.parametrize("use_git", [False, True])
def test_a_gitignore_that_excludes_everything_is_an_empty_pack_notice(
    fake_ollama, repo, capsys, use_git
):
    (repo / ".gitignore").write_text("*\n")
    if use_git:
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert main(["pack", str(repo)]) == 1
    err = capsys.readouterr().err
    assert f"Nothing to pack in {repo}: every file is ignored" in err
    assert "Traceback" not in err


def test_ask_with_nothing_to_pack_asks_nothing(fake_ollama, repo, capsys):
    fake_ollama.script(Turn("should not be asked"))
    assert main(["ask", str(repo), "what?", "--include", "*.rs"]) == 1
    assert "Nothing to pack" in capsys.readouterr().err
    assert fake_ollama.chat_bodies() == []


def test_ask_include_sends_only_the_chosen_files(fake_ollama, repo, capsys):
    fake_ollama.script(Turn("It greets."))
    assert main(["ask", str(repo), "what does greet do?", "-i", "src/app.py"]) == 0
    prompt = fake_ollama.chat_bodies()[0]["messages"][1]["content"]
    assert "src/app.py" in prompt and "src/util.py" not in prompt


def test_a_broken_gitignore_pattern_is_skipped_not_a_crash(fake_ollama, repo, capsys):
    (repo / ".gitignore").write_text("README.md\nbroken\\\n")  # a trailing backslash
    assert main(["pack", str(repo), "--budget", "100000"]) == 0
    out = capsys.readouterr().out
    assert "src/app.py" in out and "# proj" not in out  # the valid rule still holds
