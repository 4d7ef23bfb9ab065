"""Tree-sitter grammars from the per-language wheels, and what each language's outline keeps."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Parser


@dataclass(frozen=True)
class Grammar:
    """Node kinds of one language: declarations to list, and those whose body is listed too."""

    module: str  # the wheel's import name
    function: str  # its function returning the language pointer
    declarations: frozenset[str]
    containers: frozenset[str]  # declarations whose members are outlined as well
    whole: frozenset[str] = frozenset()  # short declarations shown as written (structs, types)
    unwrap: frozenset[str] = frozenset()  # wrappers such as `export` or decorators
    one_line: bool = False  # the signature is the declaration's first line (no body brace)


_JS_DECL = {
    "function_declaration", "generator_function_declaration", "class_declaration",
    "method_definition", "lexical_declaration", "variable_declaration", "field_definition",
}  # fmt: skip
_TS_DECL = _JS_DECL | {
    "interface_declaration", "type_alias_declaration", "enum_declaration", "function_signature",
    "abstract_class_declaration", "method_signature", "abstract_method_signature",
    "public_field_definition", "property_signature", "internal_module", "module",
}  # fmt: skip
_JS = ("class_declaration", "class", "abstract_class_declaration")
_TS = (*_JS, "interface_declaration", "internal_module", "module")
_GO = ("function_declaration", "method_declaration", "type_declaration")
_RUST = (
    "function_item", "function_signature_item", "struct_item", "enum_item", "trait_item",
    "impl_item", "mod_item", "type_item", "macro_definition", "union_item",
)  # fmt: skip
_JAVA = (
    "class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
    "method_declaration", "constructor_declaration", "field_declaration",
    "annotation_type_declaration",
)  # fmt: skip
_JAVA_BOX = ("class_declaration", "interface_declaration", "enum_declaration", "record_declaration")
_C = ("function_definition", "struct_specifier", "enum_specifier", "type_definition", "declaration")
_RUBY = ("method", "singleton_method", "class", "module")

GRAMMARS: dict[str, Grammar] = {
    "python": Grammar(
        "tree_sitter_python", "language",
        frozenset({"function_definition", "class_definition", "expression_statement"}),
        frozenset({"class_definition"}), unwrap=frozenset({"decorated_definition"}),
    ),
    "javascript": Grammar(
        "tree_sitter_javascript", "language", frozenset(_JS_DECL), frozenset(_JS),
        unwrap=frozenset({"export_statement"}),
    ),
    "typescript": Grammar(
        "tree_sitter_typescript", "language_typescript", frozenset(_TS_DECL), frozenset(_TS),
        whole=frozenset({"type_alias_declaration", "enum_declaration"}),
        unwrap=frozenset({"export_statement"}),
    ),
    "tsx": Grammar(
        "tree_sitter_typescript", "language_tsx", frozenset(_TS_DECL), frozenset(_TS),
        whole=frozenset({"type_alias_declaration", "enum_declaration"}),
        unwrap=frozenset({"export_statement"}),
    ),
    "go": Grammar(
        "tree_sitter_go", "language", frozenset(_GO), frozenset(),
        whole=frozenset({"type_declaration"}),
    ),
    "rust": Grammar(
        "tree_sitter_rust", "language", frozenset(_RUST),
        frozenset({"trait_item", "impl_item", "mod_item"}),
        whole=frozenset({"struct_item", "enum_item", "type_item", "union_item"}),
    ),
    "java": Grammar("tree_sitter_java", "language", frozenset(_JAVA), frozenset(_JAVA_BOX)),
    "c": Grammar(
        "tree_sitter_c", "language", frozenset(_C), frozenset(),
        whole=frozenset({"struct_specifier", "enum_specifier", "type_definition"}),
    ),
    "ruby": Grammar(
        "tree_sitter_ruby", "language", frozenset(_RUBY), frozenset({"class", "module"}),
        one_line=True,
    ),
}  # fmt: skip
SUFFIXES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript",
    ".cts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c", ".rb": "ruby",
}  # fmt: skip


def language_of(path: str) -> str | None:
    """The outline language of a file, by its suffix, or None."""
    return SUFFIXES.get(suffix(path).lower())


def file_name(path: str) -> str:
    """`PurePosixPath(path).name` by string slicing (a budgeted pack asks it of every file)."""
    return path[path.rfind("/") + 1 :]


def suffix(path: str) -> str:
    """`PurePosixPath(path).suffix` by string slicing."""
    name = file_name(path)
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def stem(path: str) -> str:
    """`PurePosixPath(path).stem` by string slicing."""
    name = file_name(path)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


@cache
def parser(language: str) -> Parser | None:
    """A parser for `language`, or None when its grammar wheel is not installed."""
    grammar = GRAMMARS[language]
    try:
        module = importlib.import_module(grammar.module)
        return Parser(Language(getattr(module, grammar.function)()))
    except (ImportError, AttributeError, ValueError):
        return None
