"""A capability check fails before anything is created, and names a model that has it."""

from pathlib import Path

from fake_ollama import FakeModel, FakeOllama

from gemloom.agents.sessions import Sessions
from gemloom.cli import main


def test_run_without_tools_fails_before_a_session_exists(
    fake_ollama: FakeOllama, tmp_path: Path, monkeypatch, capsys
) -> None:
    fake_ollama.models["plain"] = FakeModel(["completion"], 8_192, "gemma3")
    monkeypatch.setenv("GEMLOOM_CHAT_MODEL", "plain")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "list my files"]) == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "'plain' has no 'tools' capability" in err and "gemma4:12b" in err
    assert fake_ollama.chat_bodies() == []
    assert Sessions(workspace=tmp_path).list() == []
