"""The watcher as a real process: SIGKILL mid-meeting and restart, SIGTERM checkpoints and exits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from watching import chunk_runs

from gemloom.tools.audio import decode as audio
from gemloom.workflows.meetings.ingest import stop_on_signals

CHILD = (
    "import sys; from pathlib import Path; "
    "from gemloom.cli.meetings import watch_command; "
    "watch_command(Path(sys.argv[1]), Path(sys.argv[2]), False)"
)


def start_watcher(inbox: Path, out: Path, log: Path) -> subprocess.Popen:
    """`gemloom watch` in a child process talking to the fake Ollama (OLLAMA_HOST is set)."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(inbox), str(out)],
            env=dict(os.environ),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def meeting(tmp_path_factory, speech_samples) -> tuple[Path, int, int]:
    """A recording of about 100 s, its chunk count and how many chunks hold speech."""
    gap = np.zeros(int(1.5 * audio.RATE), np.int16)
    samples = np.concatenate([speech_samples, gap] * 10)
    source = audio.write(
        tmp_path_factory.mktemp("m") / "source.ogg", samples, "libopus", bit_rate=24_000
    )
    chunks = audio.split(audio.decode(source))
    return source, len(chunks), sum(not c.silent for c in chunks)


def test_sigkill_mid_meeting_then_restart_processes_everything_exactly_once(
    slow_model, gemloom_home, tmp_path, meeting, wait_until, audio_bodies
):
    slow_model(0.5)
    source, count, voiced = meeting
    inbox, out, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "child.log"
    inbox.mkdir()
    shutil.copy(source, inbox / "board.wav")  # arrives before the watcher starts
    first = start_watcher(inbox, out, log)
    wait_until(lambda: len(chunk_runs(gemloom_home)) >= 2, timeout=40)
    first.kill()
    first.wait(timeout=10)
    before = audio_bodies()
    finished = len(chunk_runs(gemloom_home))
    assert 2 <= finished < count and not (out / "board.json").exists()
    second = start_watcher(inbox, out, log)
    wait_until((out / "board.json").exists, timeout=40)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0, log.read_text()
    after = audio_bodies()[len(before) :]
    assert chunk_runs(gemloom_home) == dict.fromkeys(range(count), 1)  # nothing twice
    assert not set(before[:finished]) & set(after)  # finished chunks were not re-sent
    assert len(set(before) | set(after)) == voiced and len(before) + len(after) <= voiced + 1
    record = json.loads((out / "board.json").read_text())
    assert len(record["transcript"]) == voiced  # nothing lost
    assert "stopped cleanly" in log.read_text()


def test_sigterm_checkpoints_the_current_chunk_and_exits_cleanly(
    slow_model, gemloom_home, tmp_path, meeting, wait_until, audio_bodies
):
    slow_model(0.6)
    source, count, _voiced = meeting
    inbox, out, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "child.log"
    inbox.mkdir()
    child = start_watcher(inbox, out, log)
    wait_until(lambda: out.is_dir(), timeout=20)  # the watcher is up
    shutil.copy(source, inbox / "retro.wav")
    wait_until(lambda: len(audio_bodies()) >= 1, timeout=30)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=15) == 0, log.read_text()
    saved = chunk_runs(gemloom_home)
    assert 1 <= len(saved) < count
    assert len(audio_bodies()) == len(saved)  # the chunk in flight was finished and kept
    text = log.read_text()
    assert "stopped before chunk" in text and "stopped cleanly" in text
    assert not (out / "retro.json").exists()


def test_ctrl_c_sets_the_stop_event_instead_of_raising():
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(timeout=5)
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C does not wait
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
