"""Hostile settings, servers and input: one line and a documented exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn

EXIT_SETTINGS, EXIT_SERVER, EXIT_BAD_INPUT = 2, 7, 2


def gemloom(*args: str, env: dict | None = None, stdin: bytes | None = None, cwd=None):
    """The real command in a child process; stdin closed unless bytes are given."""
    return subprocess.run(
        [sys.executable, "-m", "gemloom", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=90,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def one_line(done: subprocess.CompletedProcess, code: int) -> str:
    """The single error line of a failed command, after checking it exited with `code`."""
    err = done.stderr.decode(errors="replace")
    assert "Traceback" not in err, err
    assert done.returncode == code, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "host", ["ftp://127.0.0.1:11434", ":::garbage::", "127.0.0.1:99999", "http://a b:1"]
)
def test_an_unusable_ollama_host_is_a_settings_error(host: str, tmp_path: Path) -> None:
    line = one_line(gemloom("run", "hi", env={"OLLAMA_HOST": host}, cwd=tmp_path), EXIT_SETTINGS)
    assert "ollama_host" in line and "http://" in line


@pytest.mark.parametrize("through_typer", [False, True])
def test_doctor_with_an_unusable_ollama_host_says_so_in_one_line(
    through_typer: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gemloom.cli import main
    from gemloom.cli.app import run

    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:99999")
    assert (run if through_typer else main)(["doctor"]) == EXIT_SETTINGS
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Invalid OLLAMA_HOST = '127.0.0.1:99999'")


def test_an_infinite_request_timeout_is_a_settings_error(fake_ollama: FakeOllama) -> None:
    done = gemloom("run", "hi", env={"GEMLOOM_REQUEST_TIMEOUT": "inf"})
    assert "request_timeout" in one_line(done, EXIT_SETTINGS)
    assert "finite" in done.stderr.decode()


def test_a_config_file_that_is_not_utf8_is_a_settings_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'chat_model = "gemma\xff\xfe"\n')
    line = one_line(gemloom("doctor", env={"GEMLOOM_CONFIG": str(config)}), EXIT_SETTINGS)
    assert str(config) in line


def test_a_stream_line_that_is_not_json_is_a_server_error(fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Turn("a long answer that breaks", chunk_chars=4, garbage_after=2))
    done = gemloom("run", "hi", env={"GEMLOOM_HOME": os.environ["GEMLOOM_HOME"]})
    line = one_line(done, EXIT_SERVER)
    assert "not Ollama's" in line and "OLLAMA_HOST" in line


def test_tool_arguments_sent_as_a_json_string_are_decoded(fake_ollama: FakeOllama, llm) -> None:
    fake_ollama.script(
        Turn(tool_calls=[{"name": "current_time", "arguments": '{"zone": "UTC"}'}]),
        Turn(tool_calls=[{"name": "current_time", "arguments": "not json"}]),
    )
    first = llm.chat([{"role": "user", "content": "time?"}])
    assert [(c.name, c.arguments) for c in first.tool_calls] == [("current_time", {"zone": "UTC"})]
    second = llm.chat([{"role": "user", "content": "time?"}])
    assert [(c.name, c.arguments) for c in second.tool_calls] == [("current_time", {})]


def test_an_approval_asked_with_stdin_closed_rejects(fake_ollama: FakeOllama, tmp_path) -> None:
    from fake_ollama import call

    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="x.txt", content="hi")]), Turn("Not saved.")
    )
    done = subprocess.run(
        [sys.executable, "-m", "gemloom", "run", "save hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=90,
        cwd=tmp_path,
        close_fds=True,
        preexec_fn=lambda: os.close(0),  # standard input closed, not merely empty
    )
    err = done.stderr.decode(errors="replace")
    assert "Traceback" not in err, err
    assert done.returncode == 10, err  # rejected: nothing was written
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("how", ["stdin", "argument"])
def test_binary_input_to_memory_add_is_refused(how: str, tmp_path: Path) -> None:
    if how == "stdin":
        done = gemloom("memory", "add", "-", stdin=b"\xff\xfe\x00binary\x89PNG")
    else:
        done = gemloom("memory", "add", os.fsdecode(b"caf\xe9 \xff"), stdin=b"")
    assert "not text" in one_line(done, EXIT_BAD_INPUT)


def test_doctor_reports_the_settle_time_and_lock_mode(fake_ollama: FakeOllama) -> None:
    import json

    done = gemloom("doctor", "--json", env={"GEMLOOM_WATCH_SETTLE_SECONDS": "7.5"})
    assert done.returncode == 0, done.stderr
    check = next(c for c in json.loads(done.stdout)["checks"] if c["name"] == "settle and locks")
    assert check["data"] == {"watch_settle_seconds": 7.5, "session_lock": "flock"}
    table = gemloom("doctor").stdout.decode()
    assert "watcher settle time 3 s" in table and "session lock: flock" in table
