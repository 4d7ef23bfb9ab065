"""Outlines from tree-sitter: real files in each supported language, numbered by their lines."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click.core
import pytest

from gemloom.tools.codebase import syntax as codebase_syntax
from gemloom.tools.codebase.grammars import GRAMMARS, parser
from gemloom.tools.codebase.outline import outline, parse_outline

FIXTURES = Path(__file__).parents[1] / "fixtures" / "outline"
_NUMBERED = re.compile(r"^(\d+): (.*)$")


def _outline(name: str) -> str:
    return outline(name, (FIXTURES / name).read_text())


def _numbers_point_at_the_lines(path: str, text: str) -> None:
    """Every outline line names the file line where its text starts."""
    rows = text.splitlines()
    for line in outline(path, text).splitlines():
        number, shown = _NUMBERED.match(line).groups()  # type: ignore[union-attr]
        first = shown.split()[0].strip('"')
        assert first in rows[int(number) - 1], (line, rows[int(number) - 1])


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_each_language_has_its_grammar_and_numbers_match_lines(name: str) -> None:
    _numbers_point_at_the_lines(name, (FIXTURES / name).read_text())


def test_every_grammar_wheel_is_installed() -> None:
    assert [lang for lang in GRAMMARS if parser(lang) is None] == []


def test_go_keeps_multi_line_signatures_whole_and_struct_fields() -> None:
    text = _outline("server.go")
    assert "30: func New(cfg Config, logger *log.Logger) (*Server, error)" in text
    assert "38: func (s *Server) Start(ctx context.Context) error" in text
    assert "28: // New makes a server from its config" in text
    assert "12: \tAddr    string" in text and "25: \tServeHTTP(" in text
    assert "return" not in text  # bodies stay out


def test_javascript_keeps_class_methods_and_drops_module_exports() -> None:
    text = _outline("store.js")
    for line in ("9: class Store extends EventEmitter", "10:     constructor(file)",
                 "17:     async load()", "22:     get(key)", "26:     static open(dir)",
                 "30:     onChange = (key)", "36: function temporary(prefix)"):  # fmt: skip
        assert line in text
    assert "16:     /** Read the file into memory. */" in text
    assert "module.exports" not in text and "require(" not in text and "helpers" not in text


def test_typescript_keeps_interfaces_members_and_generic_signatures() -> None:
    text = _outline("client.ts")
    assert "4: export interface ClientOptions" in text
    assert "7:     fetch?(url: string, init?: RequestInit): Promise<Response>" in text
    assert "27:     async get(id: string): Promise<T>" in text
    assert "32:     protected url(path: string): string" in text
    assert "37: export const makeClient = <T>(options: ClientOptions): Client<T>" in text
    assert '10: export type Method = "GET" | "POST" | "PUT" | "DELETE";' in text


def test_rust_keeps_traits_impls_and_doc_comments() -> None:
    text = _outline("shapes.rs")
    assert "5: /// A point on the plane." in text and "7: pub struct Point {" in text
    assert "15:     fn area(&self) -> f64;" in text and "26: impl Shape for Circle" in text
    assert "39: pub fn parse_point(text: &str, strict: bool) -> Result<Point, String>" in text


def test_java_keeps_members_nested_types_and_javadoc() -> None:
    text = _outline("Repository.java")
    assert "14:     public Optional<T> find(String id)" in text
    assert "18:     public void save(String id, T item) throws IllegalStateException" in text
    assert "28:     public interface Listener<T>" in text and "29:         void saved(" in text
    assert "13:     /** Finds one item. */" in text


def test_c_keeps_prototypes_structs_and_multi_line_definitions() -> None:
    text = _outline("buffer.c")
    assert "13: buffer_t *buffer_new(size_t capacity);" in text
    assert "17: int buffer_append(buffer_t *b, const char *bytes, size_t n)" in text
    assert "7:     size_t length;" in text and "memcpy" not in text
    assert parse_outline("buffer.c", (FIXTURES / "buffer.c").read_text()).names == [
        "buffer", "buffer_t", "buffer_new", "buffer_append", "buffer_free",
    ]  # fmt: skip


def test_ruby_keeps_modules_classes_and_comments() -> None:
    text = _outline("greeter.rb")
    assert "4: module Greeting" in text and "6:     class Greeter" in text
    assert "14:         def greet(name)" in text and "13:         # The greeting" in text


def test_python_from_an_installed_package() -> None:
    source = inspect.getsource(click.core)
    text = outline("click/core.py", source)
    _numbers_point_at_the_lines("click/core.py", source)
    line = inspect.getsourcelines(click.core.Context.invoke)[1]  # its first decorator or def
    shown = [row for row in text.splitlines() if row.startswith((f"{line}: ", f"{line + 1}: "))]
    assert any("def invoke(self, callback: Command | t.Callable" in row for row in shown)
    assert re.search(r"^\d+: class Command:$", text, re.M)
    assert len(text) < len(source) / 3


def test_python_decorators_docstrings_and_constants() -> None:
    source = '"""Tools."""\n\nLIMIT = 3\n\n@cache\n@wraps(f)\ndef size(x: int) -> int:\n'
    source += '    """How big.\n\n    Long text."""\n    return x\n'
    assert outline("t.py", source).splitlines() == [
        '1: """Tools."""', "3: LIMIT = 3", "5: @cache", "6: @wraps(f)",
        "7: def size(x: int) -> int: ...", '8:     """How big.',
    ]  # fmt: skip


def test_missing_grammar_falls_back_to_line_patterns_and_says_so(monkeypatch) -> None:
    monkeypatch.setattr(codebase_syntax, "parser", lambda language: None)
    text = _outline("server.go")
    assert text.splitlines()[0] == "(outline from line patterns: the go grammar is not installed)"
    assert "func New(" in text
    py = outline("t.py", "def f(a):\n    return a\n")
    assert py == "1: def f(a): ..."  # Python without its grammar still goes through ast


def test_unknown_language_and_documents() -> None:
    assert outline("a.kt", "class A {\n}\n").splitlines()[0].startswith("(outline from line")
    assert outline("README.md", "# Title\n\ntext\n## Part\n") == "1: # Title\n4: ## Part"
