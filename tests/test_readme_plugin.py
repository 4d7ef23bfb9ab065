"""README program 3: the stand-up workflow plugin, installed with pip as a user would, then run."""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Turn

README = Path(__file__).resolve().parents[1] / "README.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.S)
PROBE = (
    "import json, sys\n"
    "from gemloom.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, 'gemloom_standup' in sys.modules]), file=sys.stderr)\n"
)


def readme_files() -> dict[str, str]:
    """The files the README's plugin section spells out, by their relative path."""
    return {m["path"]: m["body"] + "\n" for m in FILE_BLOCK.finditer(README.read_text())}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway virtual environment that sees this interpreter's packages (gemloom too)."""
    root = tmp_path_factory.mktemp("user-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    lines = [f"import site; site.addsitedir({p!r})" for p in site.getsitepackages()]
    (Path(purelib) / "000-shared.pth").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def installed(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's package, written out and installed into the venv with pip."""
    work = tmp_path_factory.mktemp("plugin-src")
    files = readme_files()
    assert set(files) == {"gemloom-standup/pyproject.toml", "gemloom-standup/gemloom_standup.py"}
    for relative, body in files.items():
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / relative).write_text(body)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps",
           "--no-build-isolation", "--no-index", str(work / "gemloom-standup")]  # fmt: skip
    done = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return venv / "bin" / "python"


def gemloom(python: Path, *args: str, host: str, cwd: Path) -> subprocess.CompletedProcess:
    """`gemloom ARGS` in the user's venv; stderr's last line says what it imported."""
    env = {**os.environ, "OLLAMA_HOST": host}
    return subprocess.run(
        [python, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_the_installed_workflow_runs_as_its_own_gemloom_command(
    installed: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("fixed the login bug; reviewing the cache PR tomorrow")
    fake_ollama.default = Turn("Yesterday: login bug.\nToday: cache PR.\nBlockers: none.")
    done = gemloom(installed, "standup", str(notes), host=fake_ollama.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Yesterday: login bug.",
        "Today: cache PR.",
        "Blockers: none.",
    ]
    asked = fake_ollama.chat_bodies()[-1]["messages"][-1]["content"]
    assert "fixed the login bug" in asked


def test_help_lists_the_plugin_command_without_importing_it(
    installed: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    done = gemloom(installed, "--help", host=fake_ollama.url, cwd=tmp_path)
    code, imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0 and not imported
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("standup "))
    assert "Turn a day's notes" in line and "gemloom-standup" in line


def test_gemloom_plugins_shows_both_entry_points(
    installed: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    done = gemloom(installed, "plugins", "--check", host=fake_ollama.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = [x for x in done.stdout.splitlines() if "gemloom-standup 0.1" in x]
    assert [x.split()[0] for x in ours] == ["gemloom.commands", "gemloom.workflows"]
    assert all(x.endswith("ok") for x in ours)
