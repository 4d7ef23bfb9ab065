"""Extension points: built-ins and plugins load through the same groups; broken ones are skipped.

The entry-point cache: `--help` reads one file, and installing or removing a plugin shows.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from source_files import ROOT

from gemloom import plugins
from gemloom.cli import HELP_LINES
from gemloom.errors import GemloomError
from gemloom.memory.embedders import embedder_for
from gemloom.plugins import (
    Group,
    PluginError,
    _cache_file,
    _installed_key,
    discover,
    installed_plugins,
    load_named,
    require_builtins,
)


def install(root: Path, name: str, body: str, entry_points: str, summary: str = "") -> None:
    """A real installed distribution on `root`: its module and a dist-info with entry points."""
    (root / f"{name}.py").write_text(body)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    dist = name.replace("_", "-")
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\nSummary: {summary}\n"
    (info / "METADATA").write_text(meta)
    (info / "entry_points.txt").write_text(entry_points)


def gemloom(*args: str, path: Path) -> subprocess.CompletedProcess:
    """`gemloom ARGS` in a fresh process that has `path` on sys.path."""
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "gemloom", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


def test_pyproject_declares_every_builtin_and_the_installed_metadata_is_current() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    for group in Group:
        builtins = {p.name: p.value for p in discover(group) if p.builtin}
        assert builtins == declared[group.value], f"reinstall: pip install -e . ({group})"
    assert {p.name for p in discover(Group.COMMANDS) if p.builtin} == set(HELP_LINES)


def test_stale_metadata_without_the_builtins_says_reinstall() -> None:
    with pytest.raises(PluginError, match=r"reinstall gemloom \(pip install -e \."):
        require_builtins(Group.TOOLS, [p for p in discover(Group.TOOLS) if not p.builtin])


BROKEN = "[gemloom.commands]\nhello = gl_nomod:app\nrun = gl_broken:taken\n"


def test_a_broken_plugin_command_is_listed_then_fails_in_one_line(tmp_path: Path) -> None:
    install(tmp_path, "gl_broken", "taken = None\n", BROKEN, "Say hello.")
    listed = gemloom("--help", path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "hello       gl-broken: Say hello." in listed.stdout
    assert "the command name 'run' is taken" in listed.stderr
    assert "pip uninstall gl-broken" in listed.stderr
    ran = gemloom("hello", path=tmp_path)
    errors = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert ran.returncode == 1 and len(errors) == 1 and "Traceback" not in ran.stderr
    assert "'hello' from gl-broken did not load (ModuleNotFoundError" in errors[0]
    assert "pip uninstall gl-broken" in errors[0]


def test_the_builtin_run_command_survives_a_plugin_that_claims_its_name(tmp_path: Path) -> None:
    install(tmp_path, "gl_broken", "taken = None\n", BROKEN)
    done = gemloom("run", "--help", path=tmp_path)
    assert done.returncode == 0 and "Run an agent session" in done.stdout


def test_gemloom_plugins_check_reports_what_fails(tmp_path: Path) -> None:
    install(tmp_path, "gl_broken", "taken = None\n", BROKEN)
    done = gemloom("plugins", "--check", path=tmp_path)
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "hello" in failed[0] and "No module named 'gl_nomod'" in failed[0]
    assert "gemloom.tools  files  built-in gemloom" in done.stdout


EMBEDDER = """
class Constant:
    def __init__(self, value):
        self.value = value

def make(settings, argument):
    return Constant(int(argument))
"""


def test_an_embedder_plugin_is_picked_by_its_key_and_a_broken_one_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    entries = "[gemloom.embedders]\nconst = gl_emb:make\nbad = gl_emb:missing\n"
    install(tmp_path, "gl_emb", EMBEDDER, entries)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert embedder_for("const:7").value == 7
    with caplog.at_level(logging.WARNING), pytest.raises(GemloomError, match="Unknown embedder"):
        embedder_for("bad")
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("skipping gemloom.embedders plugin gl-emb 0.1 (entry point bad")
    assert warning.endswith("remove it with `pip uninstall gl-emb`")


def test_builtin_workflows_load_through_their_group() -> None:
    from gemloom.agents.graph import build_graph
    from gemloom.workflows.review.graph import Reviewer

    assert load_named(Group.WORKFLOWS, "review") is Reviewer
    assert load_named(Group.WORKFLOWS, "agent") is build_graph
    assert load_named(Group.WORKFLOWS, "nothing-by-this-name") is None


# -- the entry-point cache ------------------------------------------------------------

LONG_AGO = 1_000_000_000  # 2001: an mtime no folder shares with a fresh write
PROBE = (
    "import json, sys\n"
    "import gemloom.plugins\n"
    "gemloom.plugins.RACY_SECONDS = {racy}\n"
    "from gemloom.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, 'importlib.metadata' in sys.modules]), file=sys.stderr)\n"
)
HELLO = "[gemloom.commands]\nhello = gl_hello:app\n"


def help_text(tmp_path: Path, racy: float = 0, command: str = "--help") -> tuple[str, bool]:
    """`gemloom --help` in a fresh process seeing tmp_path/site: its output, and whether it
    imported importlib.metadata. `racy=0` keeps the cache even when a folder just changed."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(tmp_path / "site")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(racy=racy), command],
        capture_output=True, text=True, env=env, cwd=tmp_path / "cwd", timeout=60,
    )  # fmt: skip
    *_, last = done.stderr.strip().splitlines()
    code, scanned = json.loads(last)
    assert code == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout, scanned


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    """An empty site folder and a working folder, both last changed long ago."""
    for name in ("site", "cwd"):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, ns=(LONG_AGO * 10**9, LONG_AGO * 10**9))
    return tmp_path


def test_a_second_help_reads_the_cache_instead_of_the_metadata(folders: Path) -> None:
    first, scanned = help_text(folders)
    assert scanned and "Commands:" in first
    again, scanned_again = help_text(folders)
    assert again == first and not scanned_again


def test_a_plugin_installed_or_removed_after_the_cache_shows_at_once(folders: Path) -> None:
    before, _ = help_text(folders)
    assert "hello" not in before
    install(folders / "site", "gl_hello", "app = None\n", HELLO, "Say hello.")
    shown, scanned = help_text(folders)
    assert scanned and "hello       gl-hello: Say hello." in shown
    cached, scanned = help_text(folders)
    assert not scanned and cached == shown  # its summary comes from the cache too
    shutil.rmtree(folders / "site" / "gl_hello-0.1.dist-info")
    after, scanned = help_text(folders)
    assert scanned and "hello" not in after


def test_gemloom_plugins_reads_the_metadata_again_and_renews_the_cache(folders: Path) -> None:
    install(folders / "site", "gl_hello", "app = None\n", HELLO, "Say hello.")
    help_text(folders)
    entry_points = folders / "site" / "gl_hello-0.1.dist-info" / "entry_points.txt"
    entry_points.write_text(HELLO + "wave = gl_hello:app\n")  # by hand: no folder changes
    stale, scanned = help_text(folders)
    assert not scanned and "wave" not in stale
    listed, scanned = help_text(folders, command="plugins")
    assert scanned and "gemloom.commands  wave  plugin gl-hello 0.1" in listed
    renewed, scanned = help_text(folders)
    assert not scanned and "wave        gl-hello: Say hello." in renewed


def test_a_folder_that_just_changed_is_not_cached(folders: Path) -> None:
    os.utime(folders / "site")  # within its mtime's resolution a new plugin could go unseen
    help_text(folders, racy=2.0)
    assert not list((folders / "cache").glob("gemloom/*.json"))


def test_a_corrupt_cache_is_read_again_from_the_metadata(folders: Path) -> None:
    expected, _ = help_text(folders)
    (cache,) = (folders / "cache").glob("gemloom/entry-points-*.json")
    for garbage in ("{not json", '{"key": [1, []]}', json.dumps({"key": None, "plugins": 3})):
        cache.write_text(garbage)
        shown, scanned = help_text(folders)
        assert shown == expected and scanned
    shown, scanned = help_text(folders)  # rewritten by the last scan
    assert shown == expected and not scanned


def test_an_unwritable_cache_folder_costs_only_time(folders: Path) -> None:
    (folders / "cache").write_text("a file where the cache folder would go")
    first, scanned = help_text(folders)
    again, scanned_again = help_text(folders)
    assert scanned and scanned_again and first == again and "Commands:" in first


def test_in_process_the_key_follows_the_import_path(
    folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(folders / "cache"))
    monkeypatch.setattr(plugins, "RACY_SECONDS", 0)
    builtin = [p.name for p in installed_plugins() if p.group is Group.COMMANDS]
    install(folders / "site", "gl_hello", "app = None\n", HELLO, "Say hello.")
    monkeypatch.syspath_prepend(str(folders / "site"))
    names = [p.name for p in installed_plugins() if p.group is Group.COMMANDS]
    assert names == [*builtin, "hello"]
    saved = json.loads(_cache_file(_installed_key()).read_text())
    assert saved["key"] == _installed_key()
    assert ["gemloom.commands", "hello", "gl_hello:app", "gl-hello", "0.1", "Say hello."] in saved[
        "plugins"
    ]
