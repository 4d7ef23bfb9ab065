"""Tool-call shapes from ollama/ollama model/parsers/gemma4_test.go, shared by the leak tests."""

from __future__ import annotations


def string_tool(name: str, *args: str) -> dict:
    properties = {a: {"type": "string"} for a in args}
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"properties": properties}},
    }


# TestGemma4Parser: the tool-call cases (body between <|tool_call> and <tool_call|>)
PARSER_CASES = [
    (
        "tool_call_simple",
        'call:get_weather{location:<|"|>Paris<|"|>}',
        "get_weather",
        {"location": "Paris"},
    ),
    (
        "multiple_args",
        'call:get_weather{location:<|"|>Paris<|"|>,units:<|"|>metric<|"|>}',
        "get_weather",
        {"location": "Paris", "units": "metric"},
    ),
    ("number_arg", "call:set_temp{value:42}", "set_temp", {"value": 42}),
    ("boolean_arg", "call:toggle{enabled:true}", "toggle", {"enabled": True}),
    (
        "null_arg",
        "call:set_optional{value:null,nested:{value:null}}",
        "set_optional",
        {"value": None, "nested": {"value": None}},
    ),
    (
        "nested_object",
        'call:process{config:{enabled:true,name:<|"|>test<|"|>}}',
        "process",
        {"config": {"enabled": True, "name": "test"}},
    ),
    ("array", 'call:process{items:[<|"|>a<|"|>,<|"|>b<|"|>]}', "process", {"items": ["a", "b"]}),
    (
        "array_of_quoted_strings",
        'call:process{items:[<|"|>a<|"|>,<|"|>b "quoted"<|"|>,<|"|>c<|"|>]}',
        "process",
        {"items": ["a", 'b "quoted"', "c"]},
    ),
    ("multiline_string", 'call:bash{command:<|"|>date\n<|"|>}', "bash", {"command": "date\n"}),
    (
        "escaped_double_quotes",
        r'call:search{query:<|"|>say \"hello\"<|"|>}',
        "search",
        {"query": r"say \"hello\""},
    ),
    (
        "unescaped_double_quotes",
        'call:search{query:<|"|>say "hello"<|"|>}',
        "search",
        {"query": 'say "hello"'},
    ),
    (
        "several_quote_segments",
        'call:search{query:<|"|>say "hello", then "goodbye"<|"|>}',
        "search",
        {"query": 'say "hello", then "goodbye"'},
    ),
    (
        "mixed_escaped_and_raw_quotes",
        r'call:search{query:<|"|>first \"quoted\" then "raw"<|"|>}',
        "search",
        {"query": r'first \"quoted\" then "raw"'},
    ),
    (
        "embedded_quoted_path",
        'call:exec{command:<|"|>ls -F "vault/"<|"|>}',
        "exec",
        {"command": 'ls -F "vault/"'},
    ),
    (
        "embedded_quoted_url",
        'call:exec{command:<|"|>fetch "https://ollama.com/library/gemma4" --extract<|"|>}',
        "exec",
        {"command": 'fetch "https://ollama.com/library/gemma4" --extract'},
    ),
    (
        "flush_without_close_tag",
        'call:search{query:<|"|>say "hello" and "bye"<|"|>}',
        "search",
        {"query": 'say "hello" and "bye"'},
    ),
    (
        "raw_and_gemma_quoted_values",
        r'call:search{query:"raw \"quoted\"",note:<|"|>gemma "quoted"<|"|>}',
        "search",
        {"query": 'raw "quoted"', "note": 'gemma "quoted"'},
    ),
    (
        "array_of_objects_mixed_quotes",
        r'call:plan{steps:[{title:<|"|>step "one"<|"|>,done:false},'
        r'{title:<|"|>step \"two\"<|"|>,done:true}]}',
        "plan",
        {
            "steps": [
                {"title": 'step "one"', "done": False},
                {"title": r"step \"two\"", "done": True},
            ]
        },
    ),
    (
        "edit_multiline_markdown",
        'call:edit{edits:[\n  {newText:<|"|># Guide\n\nUse "nvfp4" only after validating.\n<|"|>,'
        'oldText:<|"|># Guide\n\nUse the default.\n<|"|>},\n  {newText:<|"|>## 14. Methods\n<|"|>,'
        'oldText:<|"|>## 14.\n<|"|>}\n]}',
        "edit",
        {
            "edits": [
                {
                    "newText": '# Guide\n\nUse "nvfp4" only after validating.\n',
                    "oldText": "# Guide\n\nUse the default.\n",
                },
                {"newText": "## 14. Methods\n", "oldText": "## 14.\n"},
            ]
        },
    ),
    (
        "edit_issue_comment_spacing",
        'call:edit{edits:[\n  {newText:<|"|>a...<|"|>,\n   oldText:<|"|>b...<|"|>},\n'
        '  {newText:<|"|>## 14.\\n\\n### 1.<|"|>,\n   oldText:<|"|>## 14.\\n<|"|>}\n]}',
        "edit",
        {
            "edits": [
                {"newText": "a...", "oldText": "b..."},
                {"newText": "## 14.\\n\\n### 1.", "oldText": "## 14.\\n"},
            ]
        },
    ),
    (
        "windows_path_single_backslashes",
        r'call:open_file{path:<|"|>C:\users\bob\file.txt<|"|>}',
        "open_file",
        {"path": r"C:\users\bob\file.txt"},
    ),
    (
        "quoted_scalars_stay_strings",
        'call:foo{n:<|"|>1<|"|>,b:<|"|>true<|"|>,z:<|"|>null<|"|>}',
        "foo",
        {"n": "1", "b": "true", "z": "null"},
    ),
    (
        "unquoted_scalars_keep_types",
        "call:foo{n:1,b:true,z:null}",
        "foo",
        {"n": 1, "b": True, "z": None},
    ),
    (
        "reference_example",
        'call:get_current_temperature{detail_level:0,location:<|"|>Paris, France<|"|>,'
        'unit:<|"|>celsius<|"|>}',
        "get_current_temperature",
        {"detail_level": 0, "location": "Paris, France", "unit": "celsius"},
    ),
    ("raw_quoted_structural_string", 'call:foo{q:"a,b:c"}', "foo", {"q": "a,b:c"}),
]
