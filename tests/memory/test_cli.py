"""`gemloom memory ...` through typer's CliRunner, on a store in the test's data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gemloom.cli.memory import app
from gemloom.memory.errors import BadMemoryInput, UnknownMemory

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_ollama(dead_host: str) -> None:
    """Ollama is down in these tests: the CLI falls back to the offline embedder."""


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_add_search_show_list_forget_stats(tmp_path: Path) -> None:
    source = tmp_path / "adr.md"
    source.write_text("# ADR 7: use PostgreSQL\n")
    out = run("add", "We adopted PostgreSQL for the orders service.", "--kind", "decision",
              "--tags", "db,adr", "--source", str(source), "--commit", "0badc0de")  # fmt: skip
    assert out.startswith("added: [")
    memory_id = out.split("[")[1].split("]")[0]
    run("add", "The cafeteria closes at 3 pm on Fridays.", "-k", "fact")
    assert run("add", "We adopted PostgreSQL for the orders service.").startswith("duplicate")
    found = run("search", "what database do orders use", "-k", "1")
    assert memory_id in found and "commit 0badc0de" in found and "cafeteria" not in found
    shown = run("show", memory_id)
    details = json.loads(shown[shown.index("{") :])
    assert details["source"]["path"] == str(source) and details["tags"] == ["adr", "db"]
    assert len(details["source"]["content_hash"]) == 64
    run("forget", memory_id)
    assert memory_id not in run("list")
    assert "(forgotten)" in run("list", "--deleted")
    stats = run("stats")
    assert "live: 1" in stats and "deleted: 1" in stats and "embedder: minilm-l6-v2-int8" in stats


def test_export_import_with_a_bad_line(tmp_path: Path) -> None:
    run("add", "Grace leads the mobile team.", "-k", "fact")
    run("add", "Retrospectives happen every other Monday.", "-k", "meeting")
    export = tmp_path / "memories.jsonl"
    assert "exported 2 memories" in run("export", str(export))
    lines = export.read_text().splitlines()
    (tmp_path / "bad.jsonl").write_text(lines[0] + "\n{not json\n" + lines[1] + "\n")
    out = run("import", str(tmp_path / "bad.jsonl"), code=1)
    assert "skipped line 2:" in out and "imported 2 memories, skipped 1 lines" in out


def test_reembed_moves_to_the_ollama_model(fake_ollama) -> None:
    run("add", "Heidi owns the release checklist.", "-k", "fact")
    assert "re-embedded 1 memories with ollama:embeddinggemma" in run(
        "reembed", "--to", "ollama:embeddinggemma"
    )
    assert "dims: 768" in run("stats")
    assert "Heidi" in run("search", "release checklist")


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["add", " "], BadMemoryInput, "empty"),
        (["add", "x", "--kind", "rumour"], BadMemoryInput, "Unknown memory kind"),
        (["add", "x", "--source", "/no/such/file"], BadMemoryInput, "Cannot read the source"),
        (["show", "nope"], UnknownMemory, "No memory has the id"),
        (["forget", "nope"], UnknownMemory, "No memory has the id"),
        (["search", "x", "--since", "someday"], BadMemoryInput, "ISO date"),
        (["import", "/no/such.jsonl"], BadMemoryInput, "Cannot read the import file"),
    ],
)
def test_bad_input_raises_gemloom_errors(args: list[str], error: type, message: str) -> None:
    result = runner.invoke(app, args)
    assert isinstance(result.exception, error) and message in str(result.exception)
