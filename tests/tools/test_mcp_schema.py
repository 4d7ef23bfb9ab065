"""Flattening MCP input schemas for a small model, validating arguments, names and risk."""

from __future__ import annotations

import pytest
from mcp.types import ToolAnnotations

from gemloom.tools.mcp.config import ServerConfig
from gemloom.tools.mcp.schema import flatten, params_model
from gemloom.tools.mcp.tools import risk_of, tool_name
from gemloom.tools.registry import Risk, Tool, ToolArgumentError

PYDANTIC_STYLE = {
    "type": "object",
    "$defs": {
        "Mode": {"enum": ["fast", "full"], "title": "Mode", "type": "string"},
        "Range": {
            "type": "object",
            "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
            "required": ["start"],
        },
    },
    "properties": {
        "from": {"type": "string", "title": "From", "description": "Sender address"},
        "mode": {"$ref": "#/$defs/Mode", "default": "fast"},
        "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        "range": {"allOf": [{"$ref": "#/$defs/Range"}], "description": "Lines"},
        "limit": {"type": ["integer", "null"], "format": "int32"},
        "kind": {"const": "mail"},
    },
    "required": ["from"],
    "additionalProperties": False,
}


def test_refs_unions_and_allof_become_the_plain_shape() -> None:
    assert flatten(PYDANTIC_STYLE) == {
        "type": "object",
        "properties": {
            "from": {"type": "string", "description": "Sender address"},
            "mode": {"type": "string", "description": 'Mode (default: "fast")',
                     "enum": ["fast", "full"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "range": {"type": "object", "description": "Lines",
                      "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
                      "required": ["start"]},
            "limit": {"type": "integer"},
            "kind": {"type": "string", "enum": ["mail"]},
        },
        "required": ["from"],
    }  # fmt: skip


def test_empty_or_missing_schema_takes_no_arguments() -> None:
    empty = {"type": "object", "properties": {}, "required": []}
    assert flatten(None) == empty
    assert flatten({"type": "object"}) == empty


def test_self_referencing_schema_terminates() -> None:
    tree = {
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
    }
    flat = flatten(tree)
    depth, node = 0, flat["properties"]["root"]
    while "properties" in node:
        node, depth = node["properties"]["child"], depth + 1
    assert node == {"type": "object"} and depth < 10


def _tool(schema: dict) -> Tool:
    flat = flatten(schema)
    return Tool("s.t", lambda: None, Risk.READ, "", params_model("s_t", flat), {}, False)


def test_arguments_are_coerced_like_builtin_tools() -> None:
    tool = _tool(PYDANTIC_STYLE)
    cleaned = tool.validate(
        {"from": "a@b", "tags": '["x", "y"]', "limit": "7", "range": '{"start": "2"}'}
    )
    assert cleaned == {"from": "a@b", "mode": None, "tags": ["x", "y"], "range": {"start": "2"},
                       "limit": 7, "kind": None}  # fmt: skip


def test_bad_arguments_name_the_field() -> None:
    tool = _tool(PYDANTIC_STYLE)
    with pytest.raises(ToolArgumentError, match="from: Field required"):
        tool.validate({"mode": "fast"})
    with pytest.raises(ToolArgumentError, match="mode: Input should be 'fast' or 'full'"):
        tool.validate({"from": "a", "mode": "slow"})


def test_tool_names_keep_dots_and_replace_odd_characters() -> None:
    assert tool_name("files", "read_file") == "files.read_file"
    assert tool_name("gh", "repos/list issues") == "gh.repos_list_issues"
    assert tool_name("x", "a.b-c") == "x.a.b-c"


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        (ToolAnnotations(readOnlyHint=True), Risk.READ),
        (ToolAnnotations(readOnlyHint=True, destructiveHint=True), Risk.READ),
        (ToolAnnotations(destructiveHint=True), Risk.EXECUTE),
        (ToolAnnotations(readOnlyHint=False, destructiveHint=False), Risk.WRITE),
        (ToolAnnotations(), Risk.WRITE),
        (None, Risk.WRITE),
    ],
)
def test_risk_from_annotations(annotations, expected) -> None:
    assert risk_of(annotations, ServerConfig(command="x"), "t") is expected


def test_risk_overrides_per_tool_beat_per_server() -> None:
    config = ServerConfig(command="x", risk="read", tools={"rm": {"risk": "execute"}})
    assert risk_of(ToolAnnotations(destructiveHint=True), config, "ls") is Risk.READ
    assert risk_of(ToolAnnotations(readOnlyHint=True), config, "rm") is Risk.EXECUTE


def test_an_unreadable_schema_costs_only_that_tool(caplog) -> None:
    from mcp.types import Tool as Listed

    from gemloom.tools.mcp.client import McpManager
    from gemloom.tools.mcp.tools import server_tools

    manager = McpManager({"s": ServerConfig(command="x")})
    odd = {"type": "object", "properties": {"shape": {"enum": [{"a": 1}, [2]]}}}
    listing = [
        Listed(name="odd", input_schema=odd, description="Odd\n  enum."),
        Listed(name="broken", input_schema={"type": "object", "properties": {}, "required": 5}),
        Listed(name="fine", input_schema={"type": "object", "properties": {}}),
    ]
    tools = {t.name: t for t in server_tools(manager, "s", listing)}
    assert tools["s.odd"].validate({"shape": {"a": 1}}) == {"shape": {"a": 1}}
    assert tools["s.odd"].description == "Odd enum."
    assert set(tools) == {"s.odd", "s.fine"}
    assert "left out its tool broken: unreadable schema" in caplog.text


def test_two_tools_whose_names_clash_keep_the_first_and_say_so(caplog) -> None:
    from mcp.types import Tool as Listed

    from gemloom.tools.mcp.client import McpManager
    from gemloom.tools.mcp.tools import server_tools

    manager = McpManager({"s": ServerConfig(command="x")})
    empty = {"type": "object", "properties": {}}
    listing = [Listed(name="read file", input_schema=empty, description="First."),
               Listed(name="read_file", input_schema=empty, description="Second.")]  # fmt: skip
    tools = server_tools(manager, "s", listing)
    assert [(t.name, t.description) for t in tools] == [("s.read_file", "First.")]
    assert (
        "left out its tool read_file: its name s.read_file is already taken by its tool read file"
        in caplog.text
    )
