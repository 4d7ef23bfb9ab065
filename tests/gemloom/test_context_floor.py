"""One context size per model at a time across gemloom processes, counted by the fake."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from fake_ollama import FakeOllama, Turn
from reference import SPEECH

from gemloom import messages as msg
from gemloom.agents.sessions import Sessions
from gemloom.context_floor import ContextFloor
from gemloom.llm import LLM
from gemloom.settings import load_settings
from gemloom.tools.audio import decode as audio
from gemloom.tools.registry import default_registry
from gemloom.workflows.meetings.ingest import ingest

MODEL = "gemma4:12b"


def meeting_answers():
    """The meeting tests' instant fake model (tests/workflows/conftest.py), loaded by path."""
    path = Path(__file__).parents[1] / "workflows" / "conftest.py"
    spec = importlib.util.spec_from_file_location("meeting_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.instant_answer


def test_a_ten_turn_session_and_a_meeting_ingest_reload_at_most_once(
    fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    sessions = Sessions(registry=default_registry().select(["current_time"]), workspace=tmp_path)
    session = sessions.create("long talk")
    for turn in range(10):  # the history outgrows the 8K step part way through
        fake_ollama.script(Turn(f"answer {turn}: " + "words and more words " * 150))
        list(sessions.send(session, f"question {turn}"))
    steps = [b["options"]["num_ctx"] for b in fake_ollama.chat_bodies()]
    assert steps[0] == 8_192 and steps[-1] == 32_768  # the session did need a bigger step
    fake_ollama.default = meeting_answers()
    talk = audio.write(tmp_path / "sync.ogg", audio.decode(SPEECH).samples, "libopus", 24_000)
    other_process = LLM(load_settings(), retries=0)  # its own client, the same data dir
    assert ingest(talk, tmp_path / "notes", llm=other_process).status == "done"
    meeting = fake_ollama.chat_bodies()[len(steps) :]
    assert meeting and all(b["options"]["num_ctx"] == 32_768 for b in meeting)
    assert fake_ollama.reloads[MODEL] <= 1


def test_the_floor_is_shared_with_another_process(fake_ollama: FakeOllama) -> None:
    fake_ollama.default = Turn("ok")
    llm = LLM(load_settings(), retries=0)
    llm.chat([msg.user("x " * 30_000)])  # needs the 32K step
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gemloom.llm import LLM; from gemloom import messages as m; "
            "print(LLM(retries=0).chat([m.user('short')]).stats.num_ctx)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "32768"
    assert [b["options"]["num_ctx"] for b in fake_ollama.chat_bodies()] == [32_768, 32_768]
    assert fake_ollama.reloads[MODEL] == 0


def test_the_floor_only_grows_and_is_kept_per_server_and_model(tmp_path: Path) -> None:
    floor = ContextFloor(tmp_path, "http://a:1")
    assert floor.raise_to(MODEL, 32_768) == 32_768
    assert floor.raise_to(MODEL, 8_192) == 32_768
    assert ContextFloor(tmp_path, "http://b:1").get(MODEL) == 0
    assert floor.get("other") == 0
    assert json.loads((tmp_path / "num_ctx.json").read_text()) == {f"http://a:1 {MODEL}": 32_768}


def test_a_broken_floor_file_costs_a_reload_never_a_chat(fake_ollama, gemloom_home) -> None:
    gemloom_home.mkdir(parents=True, exist_ok=True)
    (gemloom_home / "num_ctx.json").write_text("{not json")
    fake_ollama.script(Turn("fine"))
    assert LLM(load_settings(), retries=0).chat([msg.user("hi")]).content == "fine"
    assert fake_ollama.chat_bodies()[0]["options"]["num_ctx"] == 8_192


def test_an_unwritable_data_dir_does_not_stop_a_chat(fake_ollama, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("GEMLOOM_HOME", str(blocker / "home"))  # no directory can be made there
    fake_ollama.script(Turn("fine"))
    assert LLM(load_settings(), retries=0).chat([msg.user("hi")]).content == "fine"


def test_a_floor_another_process_writes_is_seen_at_the_next_request(tmp_path: Path) -> None:
    mine = ContextFloor(tmp_path, "http://a:1")
    assert mine.raise_to(MODEL, 8_192) == 8_192 and mine.get(MODEL) == 8_192  # read, then kept
    ContextFloor(tmp_path, "http://a:1").raise_to(MODEL, 32_768)  # as another process would
    assert mine.get(MODEL) == 32_768
    path = tmp_path / "num_ctx.json"
    path.write_text(json.dumps({f"http://a:1 {MODEL}": 65_536}))  # edited in place by hand
    assert mine.get(MODEL) == 65_536
    path.unlink()
    assert mine.get(MODEL) == 0 and mine.raise_to(MODEL, 4_096) == 4_096
