"""Gemma 4 call syntax: the cases of ollama/ollama model/parsers/gemma4_test.go, ported."""

from __future__ import annotations

import pytest
from gemma4_cases import PARSER_CASES, string_tool

from gemloom.agents.call_syntax import (
    args_to_json,
    parse_call,
    repair_candidates,
    repair_missing_close,
    repair_missing_delimiter,
    repair_raw_terminal_string,
    repair_single_quoted,
)


@pytest.mark.parametrize(("case", "body", "name", "arguments"), PARSER_CASES)
def test_parser_cases(case: str, body: str, name: str, arguments: dict) -> None:
    assert parse_call(body) == (name, arguments)


ARGS_TO_JSON = [
    ('{location:<|"|>Paris<|"|>}', '{"location":"Paris"}'),
    ("{value:42}", '{"value":42}'),
    ('{config:{enabled:true,name:<|"|>test<|"|>}}', '{"config":{"enabled":true,"name":"test"}}'),
    (
        '{edits:[{ newText:<|"|>a<|"|>, oldText:<|"|>b<|"|>} ]}',
        '{"edits":[{ "newText":"a", "oldText":"b"} ]}',
    ),
    (
        '{edits:[\n  {newText:<|"|>a<|"|>,\n   oldText:<|"|>b<|"|>}\n]}',
        '{"edits":[\n  {"newText":"a",\n   "oldText":"b"}\n]}',
    ),
    ("{}", "{}"),
    (
        '{name:<|"|>test<|"|>,count:5,active:true,tags:[<|"|>a<|"|>]}',
        '{"name":"test","count":5,"active":true,"tags":["a"]}',
    ),
    ('{query:<|"|>a,b:{c}[d]<|"|>}', '{"query":"a,b:{c}[d]"}'),
    (r'{path:<|"|>C:\\Temp\\file.txt<|"|>}', r'{"path":"C:\\\\Temp\\\\file.txt"}'),
    (r'{url:<|"|>https:\/\/example.com\/a<|"|>}', r'{"url":"https:\\/\\/example.com\\/a"}'),
    (r'{s:<|"|>snowman:\u2603<|"|>}', r'{"s":"snowman:\\u2603"}'),
    (r'{s:<|"|>bad \x escape<|"|>}', r'{"s":"bad \\x escape"}'),
    (r'{q:"say \"hi\" and \"bye\""}', r'{"q":"say \"hi\" and \"bye\""}'),
    (
        '{q:"keep , oldText: literal",note:<|"|>ok<|"|>}',
        '{"q":"keep , oldText: literal","note":"ok"}',
    ),
    (
        r'{meta:{title:<|"|>t "1"<|"|>,note:"n \"2\""},items:[<|"|>x "3"<|"|>,"y \"4\""]}',
        r'{"meta":{"title":"t \"1\"","note":"n \"2\""},"items":["x \"3\"","y \"4\""]}',
    ),
]


@pytest.mark.parametrize(("raw", "expected"), ARGS_TO_JSON)
def test_args_to_json(raw: str, expected: str) -> None:
    assert args_to_json(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{command:<|"|>ls}', '{command:<|"|>ls<|"|>}'),
        ('{path:<|"|>/tmp<|"|>,command:<|"|>ls}', '{path:<|"|>/tmp<|"|>,command:<|"|>ls<|"|>}'),
        ('{command:<|"|>ls', '{command:<|"|>ls<|"|>'),
        ('{command:<|"|>ls<|"|>}', '{command:<|"|>ls<|"|>}'),
        ("{command:ls}", "{command:ls}"),
    ],
)
def test_repair_missing_delimiter(raw: str, expected: str) -> None:
    assert repair_missing_delimiter(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{content:<|"|>hello<|"|>', '{content:<|"|>hello<|"|>}'),
        ('{content:<|"|>hello<|"|>  ', '{content:<|"|>hello<|"|>}  '),
        ('{content:<|"|>hello<|"|>}', '{content:<|"|>hello<|"|>}'),
        ('content:<|"|>hello<|"|>', 'content:<|"|>hello<|"|>'),
    ],
)
def test_repair_missing_close(raw: str, expected: str) -> None:
    assert repair_missing_close(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"{pattern:':\s*\w+'}", r'{pattern:<|"|>:\s*\w+<|"|>}'),
        (
            '{include:<|"|>*.py<|"|>,pattern:\'abc\',path:<|"|>/tmp<|"|>}',
            '{include:<|"|>*.py<|"|>,pattern:<|"|>abc<|"|>,path:<|"|>/tmp<|"|>}',
        ),
        ("{pattern:'abc'<|\"|>}", '{pattern:<|"|>abc<|"|>}'),
        ('{pattern:<|"|>abc<|"|>}', '{pattern:<|"|>abc<|"|>}'),
        ('{pattern:"abc"}', '{pattern:"abc"}'),
        ("{pattern:'abc}", "{pattern:'abc}"),
    ],
)
def test_repair_single_quoted(raw: str, expected: str) -> None:
    assert repair_single_quoted(raw) == expected


NUMBER_TOOL = {
    "function": {"name": "write", "parameters": {"properties": {"content": {"type": "number"}}}}
}


@pytest.mark.parametrize(
    ("raw", "tools", "name", "expected"),
    [
        (
            "{content:\n\n# Title",
            [string_tool("write", "content")],
            "write",
            '{content:<|"|>\n\n# Title<|"|>',
        ),
        (
            '{content:hello,mode:<|"|>fast<|"|>}',
            [string_tool("write", "content", "mode")],
            "write",
            '{content:<|"|>hello<|"|>,mode:<|"|>fast<|"|>}',
        ),
        ("{content:hello", [], "write", None),
        ("{content:hello", [NUMBER_TOOL], "write", None),
        ('{content:<|"|>hello<|"|>}', [string_tool("write", "content")], "write", None),
        ("{content:123}", [string_tool("write", "content")], "write", None),
        ("{content:hello", [string_tool("write", "content")], "missing", None),
    ],
)
def test_repair_raw_terminal_string(raw, tools, name, expected) -> None:
    assert repair_raw_terminal_string(raw, name, tools) == expected


@pytest.mark.parametrize(
    ("raw", "tools", "name", "expected"),
    [
        ('{command:<|"|>ls}', [string_tool("bash", "command")], "bash", ['{command:<|"|>ls<|"|>}']),
        (
            "{pattern:'abc'<|\"|>}",
            [string_tool("grep", "pattern")],
            "grep",
            ['{pattern:<|"|>abc<|"|>}'],
        ),
        (
            "{content:hello",
            [string_tool("write", "content")],
            "write",
            ["{content:hello", '{content:<|"|>hello<|"|>}'],
        ),
        ("{n:1", [string_tool("count", "name")], "count", ["{n:1"]),
    ],
)
def test_repair_candidates(raw, tools, name, expected) -> None:
    assert repair_candidates(raw, name, tools) == expected


ISSUE_15315_WRITE = (
    "\n\n# Project Style Guide for Autonomous Agents' Code Generation (AGENTS.md)\n\nThis "
    "document captures the *de facto* coding standards observed across the `src/` and "
    "`components/` source code."
)


@pytest.mark.parametrize(
    ("body", "tools", "expected"),
    [
        # https://github.com/ollama/ollama/issues/15315 (a raw multi-line string value)
        (
            "call:write{content:" + ISSUE_15315_WRITE,
            [string_tool("write", "content")],
            ("write", {"content": ISSUE_15315_WRITE}),
        ),
        # issue 15315: a single-quoted value with a dangling <|"|>
        (
            'call:grep{include:<|"|>*.py<|"|>,output_mode:<|"|>content<|"|>,'
            'path:<|"|>/data/robotics/experiment1<|"|>,pattern:\':\\s*\\w+\'<|"|>}',
            [string_tool("grep", "include", "output_mode", "path", "pattern")],
            (
                "grep",
                {
                    "include": "*.py",
                    "output_mode": "content",
                    "path": "/data/robotics/experiment1",
                    "pattern": r":\s*\w+",
                },
            ),
        ),
        # issue 15315 comment: an unclosed string before the object's close
        (
            'call:bash{command:<|"|>ls}',
            [string_tool("bash", "command")],
            ("bash", {"command": "ls"}),
        ),
        (
            'call:grep{include:<|"|>*.py<|"|>,pattern:\'abc\',path:<|"|>/tmp<|"|>}',
            [string_tool("grep", "include", "pattern", "path")],
            ("grep", {"include": "*.py", "pattern": "abc", "path": "/tmp"}),
        ),
        (
            'call:bash{path:<|"|>/tmp<|"|>,command:<|"|>ls}',
            [string_tool("bash", "path", "command")],
            ("bash", {"path": "/tmp", "command": "ls"}),
        ),
        (
            'call:write{content:hello,mode:<|"|>fast<|"|>}',
            [string_tool("write", "content", "mode")],
            ("write", {"content": "hello", "mode": "fast"}),
        ),
    ],
)
def test_repairs_of_issue_15315_examples(body: str, tools: list, expected: tuple) -> None:
    assert parse_call(body, tools) == expected


@pytest.mark.parametrize(
    ("body", "tools"),
    [
        (r'call:open_file{path:"C:\users\bob\file.txt"}', []),  # a bad JSON escape stays bad
        (
            'call:example{first:<|"|>one,second:<|"|>two<|"|>}',
            [string_tool("example", "first", "second")],
        ),
        ("write{content:x}", []),  # no call: prefix
        ("call:write", []),  # no arguments
    ],
)
def test_what_ollama_rejects_is_rejected(body: str, tools: list) -> None:
    assert parse_call(body, tools) is None
