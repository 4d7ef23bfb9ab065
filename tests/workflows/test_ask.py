from pathlib import Path

import pytest
from fake_ollama import Turn, call

from gemloom.cli import main


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        'def greet(name):\n    """Say hello."""\n    return f"hi {name}"\n'
    )
    (root / "README.md").write_text("# proj\n")
    return root


def test_ask_packs_the_codebase_and_answers(fake_ollama, repo, capsys) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("search_code", pattern="def greet")]),
        Turn("`greet` returns a greeting."),
    )
    assert main(["ask", str(repo), "What does greet do?"]) == 0
    out = capsys.readouterr()
    assert "`greet` returns a greeting." in out.out
    first = fake_ollama.chat_bodies()[0]
    prompt = first["messages"][1]["content"]
    assert "src/app.py" in prompt and 'return f"hi {name}"' in prompt
    assert prompt.endswith("Question about the codebase above: What does greet do?")
    assert {t["function"]["name"] for t in first["tools"]} == {
        "read_file",
        "search_code",
        "list_files",
    }
    assert "src/app.py:1" in fake_ollama.chat_bodies()[1]["messages"][-1]["content"]


def test_follow_up_keeps_the_packed_prefix(fake_ollama, repo, capsys) -> None:
    fake_ollama.script(Turn("first"), Turn("second"))
    assert main(["ask", str(repo), "one?"]) == 0
    session_id = capsys.readouterr().err.split("--session ")[1].split(")")[0]
    assert main(["ask", str(repo), "two?", "--session", session_id]) == 0
    first, second = fake_ollama.chat_bodies()
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][-1]["content"] == "two?"


def test_ask_bad_path(fake_ollama, tmp_path, capsys) -> None:
    assert main(["ask", str(tmp_path / "nope"), "q"]) == 1
    assert "is not a folder" in capsys.readouterr().err
