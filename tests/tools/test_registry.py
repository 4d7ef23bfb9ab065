import logging
from pathlib import Path
from typing import Literal

import pytest

from gemloom.errors import GemloomError
from gemloom.tools.registry import (
    Registry,
    Risk,
    ToolArgumentError,
    default_registry,
    load_entry_point_tools,
    parse_docstring,
    tool,
)


@tool(risk=Risk.EXECUTE)
def sample(
    count: int,
    label: str = "x",
    flags: list[str] | None = None,
    mode: Literal["fast", "slow"] = "fast",
    ratio: float = 1.0,
    dry: bool = False,
) -> str:
    """Do a sample thing.

    More detail that is not part of the summary.

    Args:
        count: How many times,
            continued on a second line.
        label: A label.
        flags: Extra flags.
        mode: Speed.
        ratio: A ratio.
        dry: Only pretend.
    """
    return f"{count} {label} {flags} {mode} {ratio} {dry}"


def test_schema_is_flat_and_documented() -> None:
    fn = sample.schema["function"]
    assert fn["name"] == "sample" and fn["description"] == "Do a sample thing."
    props = fn["parameters"]["properties"]
    assert props["count"] == {
        "type": "integer",
        "description": "How many times, continued on a second line.",
    }
    assert props["flags"]["type"] == "array" and props["flags"]["items"] == {"type": "string"}
    assert props["mode"]["enum"] == ["fast", "slow"]
    assert props["ratio"]["type"] == "number" and props["dry"]["type"] == "boolean"
    assert fn["parameters"]["required"] == ["count"]
    assert sample.risk is Risk.EXECUTE


def test_arguments_are_coerced_defensively() -> None:
    args = sample.validate(
        {"count": "3", "flags": '["a", "b"]', "dry": "true", "label": None, "unexpected": 1}
    )
    assert args == {
        "count": 3,
        "label": "x",
        "flags": ["a", "b"],
        "mode": "fast",
        "ratio": 1.0,
        "dry": True,
    }
    assert sample.validate('{"count": 2}')["count"] == 2


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "count: Field required"),
        ({"count": "many"}, "count: Input should be a valid integer"),
        ({"count": 1, "mode": "warp"}, "mode: Input should be 'fast' or 'slow'"),
        ([1], "JSON object"),
    ],
)
def test_invalid_arguments_explain_themselves(arguments, problem: str) -> None:
    with pytest.raises(ToolArgumentError, match=problem):
        sample.validate(arguments)


def test_parse_docstring_without_args() -> None:
    assert parse_docstring("Just a line.") == ("Just a line.", {})


def test_builtin_tool_schemas_are_pinned(snapshot) -> None:
    registry = default_registry()
    assert {n: registry.get(n).risk.value for n in registry.names()} == snapshot(name="risks")
    assert registry.schemas() == snapshot(name="schemas")


def test_select_unknown_names() -> None:
    with pytest.raises(GemloomError, match="Unknown tool"):
        Registry([sample]).select(["sample", "nope"])
    assert Registry([sample]).select(["sample"]).names() == ["sample"]


def _install_plugin(root: Path, body: str, entries: str) -> None:
    (root / "gl_plugin.py").write_text(body)
    info = root / "gl_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gl-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[gemloom.tools]\n{entries}\n")


def test_entry_point_tools_load_and_broken_ones_are_skipped(tmp_path, monkeypatch, caplog):
    body = (
        "from gemloom.tools.registry import tool\n"
        "def shout(text: str) -> str:\n"
        "    '''Shout it.\n\n    Args:\n        text: What to shout.\n    '''\n"
        "    return text.upper()\n"
        "raise_me = None\n"
    )
    entries = "shout = gl_plugin:shout\nbroken = gl_plugin:does_not_exist\nmissing = nomod:x"
    _install_plugin(tmp_path, body, entries)
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        tools = load_entry_point_tools()
    assert [t.name for t in tools] == ["shout"]
    assert tools[0].run({"text": "hi"}, None) == "HI"
    skipped = " ".join(r.getMessage() for r in caplog.records)
    assert "broken" in skipped and "missing" in skipped
    assert "shout" in default_registry()
