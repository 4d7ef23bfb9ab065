import json
import os
import subprocess
import sys

import pytest
from fake_ollama import FakeOllama, Turn

from gemloom import __version__
from gemloom.cli import main


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real command in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "gemloom", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"gemloom {__version__}"


def test_doctor_json_reports_what_the_server_announces(fake_ollama: FakeOllama) -> None:
    fake_ollama.models["gemma4:12b"].context_length = 131_072
    done = run("doctor", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    chat = next(c for c in report["checks"] if c["name"] == "chat model")
    assert chat["data"]["context_length"] == 131_072
    caps = {"completion", "tools", "vision", "audio", "thinking"}
    assert set(chat["data"]["capabilities"]) == caps
    ollama = next(c for c in report["checks"] if c["name"] == "ollama")
    assert ollama["data"]["version"] == fake_ollama.version


def test_doctor_with_nothing_listening_says_how_to_start_ollama(dead_host: str) -> None:
    done = run("doctor")
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "ollama serve" in lines[0] and "Traceback" not in done.stderr


def test_doctor_table_fails_when_chat_model_is_missing(fake_ollama, capsys) -> None:
    del fake_ollama.models["gemma4:12b"]
    assert main(["doctor"]) == 1
    shown = capsys.readouterr().out
    assert "FAIL" in shown and "gemloom pull gemma4:12b" in shown


def test_doctor_passes_without_embedding_model(fake_ollama, capsys) -> None:
    del fake_ollama.models["embeddinggemma"]
    assert main(["doctor"]) == 0
    assert "missing" in capsys.readouterr().out


def test_doctor_data_dir_not_writable(fake_ollama, tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GEMLOOM_HOME", str(blocker / "sub"))
    assert main(["doctor"]) == 1
    assert "not writable" in capsys.readouterr().out


def test_invalid_setting_is_one_line(fake_ollama, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GEMLOOM_REQUEST_TIMEOUT", "abc")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "request_timeout" in err


def test_pull_shows_progress(fake_ollama, capsys) -> None:
    assert main(["pull", "tiny:1b"]) == 0
    assert "tiny:1b is ready." in capsys.readouterr().out
    assert "tiny:1b" in fake_ollama.models


def test_pull_failure_is_one_line(fake_ollama, capsys) -> None:
    assert main(["pull", "no such model!"]) == 7
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["nosuchcommand"], ["pull"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert main(args) == 2


def test_doctor_reports_speech_and_display(fake_ollama, monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    fake_ollama.models["gemma4:12b"].capabilities.remove("audio")
    done = run("doctor", "--json", env={"DISPLAY": ""})
    assert done.returncode == 0, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["speech"]["ok"] and checks["speech"]["detail"].startswith("fallback: tiny.en")
    assert not checks["display"]["ok"] and "Xvfb" in checks["display"]["detail"]
    assert not checks["display"]["required"]


def test_doctor_native_speech(fake_ollama, capsys) -> None:
    assert main(["doctor"]) == 0
    assert "native: the chat model hears audio" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("version", "code", "words"),
    [
        ("0.12.5", 1, "older than 0.12.6"),
        ("0.12.6-rc0", 1, "older than 0.12.6"),
        ("0.24.0", 0, "gemma4:12b needs 0.30.3"),
        ("0.30.3", 0, "version 0.30.3"),
        ("0.0.0", 0, "cannot check"),
    ],
)
def test_doctor_checks_the_server_version(fake_ollama, capsys, version, code, words) -> None:
    fake_ollama.version = version
    assert main(["doctor", "--json"]) == code
    ollama = json.loads(capsys.readouterr().out)["checks"][0]
    assert ollama["name"] == "ollama" and words in ollama["detail"]
    assert ollama["ok"] is (code == 0)


def test_doctor_shows_the_shared_context_size(fake_ollama, capsys) -> None:
    from gemloom import messages as msg
    from gemloom.llm import LLM

    fake_ollama.script(Turn("ok"))
    LLM(retries=0).chat([msg.user("x " * 30_000)])
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["context size"]["data"] == {"num_ctx": 32_768}
    assert "num_ctx.json" in checks["context size"]["detail"]
