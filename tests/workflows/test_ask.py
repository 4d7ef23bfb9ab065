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


def test_no_secret_persists_in_the_sessions_or_the_cache(fake_ollama, repo, gemloom_home) -> None:
    anthropic = "sk-ant-api03-" + "Qz7Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2Mn8Bv" * 2 + "AA"
    stripe = "sk_live_51H" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa"
    (repo / "src" / "keys.py").write_text(f'CLAUDE = "{anthropic}"\nPAY = "{stripe}"\n')
    (repo / ".env").write_text("DB_PASSWORD=hunter2-prod\n")
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="src/keys.py")]),
        Turn(tool_calls=[call("search_code", pattern="sk_")]),
        Turn(tool_calls=[call("read_file", path=".env")]),
        Turn("The keys are redacted."),
    )
    assert main(["ask", str(repo), "Which keys does the app use?"]) == 0
    sent = str(fake_ollama.chat_bodies())
    assert "[REDACTED:anthropic_key]" in sent and "[REDACTED:env_value]" in sent
    stored = [p for p in gemloom_home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("sessions") for p in stored)
    assert any("codebase-cache" in p.parts for p in stored)
    for secret in (anthropic, stripe, "hunter2-prod"):
        assert secret not in sent
        for path in stored:
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_path_that_is_no_folder_is_one_clear_line(tmp_path, capsys, kind) -> None:
    path = tmp_path / "nowhere"
    if kind == "file":
        path.write_text("print('a file, not a codebase')\n")
    assert main(["ask", str(path), "what is it?"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {path} is not a folder: give the root of a codebase."]
