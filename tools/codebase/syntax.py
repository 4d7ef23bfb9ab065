"""Outlines from tree-sitter syntax trees: declarations, members and leading comments, by line."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from gemloom.tools.codebase.grammars import GRAMMARS, Grammar, parser

MAX_DOC_LINES = 3
WHOLE_LINES = 20  # a struct, enum or type alias up to this many lines is shown as written
MAX_SIGNATURE = 300
MAX_COMMENT_SCAN = 40
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";")
_ATTRIBUTES = ("#[", "#![", "#!")  # Rust attributes and shebangs are not comments
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function", "class"}
)


_VALUED = frozenset({"lexical_declaration", "variable_declaration", "field_definition"})


def _declarator(node: Node) -> Node:
    """The innermost declarator of a C declaration (through pointers, to the function one)."""
    while (inner := node.child_by_field_name("declarator")) is not None:
        if inner.type in {"identifier", "field_identifier", "type_identifier"}:
            return node
        node = inner
    return node


def _tidy(signature: str) -> str:
    """A signature without the punctuation that opens its body."""
    signature = signature.rstrip(" {")
    for tail in ("=>", ":", "="):
        signature = signature.removesuffix(tail).rstrip()
    return signature


@dataclass
class Outline:
    """An outline's lines (`N: text`, N the file's line) and the names it declares."""

    lines: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The outline as one block of text."""
        return "\n".join(self.lines)


def syntax_outline(language: str, text: str) -> Outline | None:
    """The outline of `text` in `language`, or None when its grammar is not installed."""
    found = parser(language)
    if found is None:
        return None
    source = text.encode("utf-8", "surrogatepass")
    tree = found.parse(source)
    result = Outline()
    walker = _Walker(GRAMMARS[language], source, result, language == "python")
    if walker.python:
        walker.docstring(tree.root_node, 0)
    walker.walk(tree.root_node, 0)
    return result


@dataclass
class _Walker:
    grammar: Grammar
    source: bytes
    out: Outline
    python: bool
    rows: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = self.source.split(b"\n")

    def walk(self, parent: Node, depth: int) -> None:
        """Outline the declarations among `parent`'s children, members of containers too."""
        for node in parent.named_children:
            inner = self._unwrapped(node)
            if inner is None or not self._wanted(inner):
                continue
            if inner.type == "expression_statement" and depth:
                continue
            self._comments(node, depth)
            self._declaration(node, inner, depth)
            if inner.type in self.grammar.containers:
                body = inner.child_by_field_name("body")
                if body is not None:
                    self.walk(body, depth + 1)

    def _unwrapped(self, node: Node) -> Node | None:
        while node.type in self.grammar.unwrap:
            inner = node.child_by_field_name("declaration") or node.child_by_field_name(
                "definition"
            )
            if inner is None:
                return None
            node = inner
        return node if node.type in self.grammar.declarations else None

    def _wanted(self, node: Node) -> bool:
        if node.type in {"lexical_declaration", "variable_declaration"}:
            return self._function_value(node) is not None
        if node.type == "declaration":  # C: only function prototypes
            return _declarator(node).type == "function_declarator"
        if node.type == "expression_statement":  # Python: short module-level assignments
            first = node.named_children[0] if node.named_child_count else None
            short = node.end_byte - node.start_byte <= 120 and "\n" not in self._text(node)
            return first is not None and first.type == "assignment" and short
        return True

    def _function_value(self, node: Node) -> Node | None:
        if node.type == "field_definition":
            value = node.child_by_field_name("value")
            return value if value is not None and value.type in _FUNCTION_VALUES else None
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in _FUNCTION_VALUES:
                return value
        return None

    def _declaration(self, start: Node, node: Node, depth: int) -> None:
        indent = "    " * depth
        if self.python and start is not node:  # decorators, one a line as written
            for decorator in start.children_by_field_name("decorator") or [
                c for c in start.named_children if c.type == "decorator"
            ]:
                self.out.lines.append(
                    f"{decorator.start_point.row + 1}: {indent}{self._text(decorator)}"
                )
            start = node
        line = start.start_point.row + 1
        if node.type == "expression_statement":
            self.out.lines.append(f"{line}: {self._text(node)}")
            return
        self._name(node)
        if node.type in self.grammar.whole:
            rows = self._slice(start.start_byte, node.end_byte).splitlines()
            if len(rows) <= WHOLE_LINES:
                self.out.lines += [f"{line + i}: {indent}{r.rstrip()}" for i, r in enumerate(rows)]
                return
        body = self._body(node)
        end = body.start_byte if body is not None else node.end_byte
        signature = self._slice(start.start_byte, end)
        if self.grammar.one_line:
            signature = signature.split("\n", 1)[0]
        signature = " ".join(signature.split())
        signature = _tidy(signature.replace("( ", "(").replace(", )", ")").replace(" )", ")"))
        if len(signature) > MAX_SIGNATURE:
            signature = signature[:MAX_SIGNATURE] + " …"
        if self.python:
            signature += ": ..." if node.type == "function_definition" else ":"
        self.out.lines.append(f"{line}: {indent}{signature}")
        if self.python and body is not None:
            self.docstring(body, depth + 1)

    def _body(self, node: Node) -> Node | None:
        value = self._function_value(node) if node.type in _VALUED else None
        target = value if value is not None else node
        return target.child_by_field_name("body")

    def _name(self, node: Node) -> None:
        name = node.child_by_field_name("name") or node.child_by_field_name("property")
        if name is None and node.child_by_field_name("declarator") is not None:
            name = _declarator(node).child_by_field_name("declarator")
        if name is None and node.named_child_count:
            first = node.named_children[0]
            name = first.child_by_field_name("name") or first.child_by_field_name("declarator")
        if name is not None and name.end_byte - name.start_byte <= 80:
            self.out.names.append(self._slice(name.start_byte, name.end_byte))

    def _comments(self, node: Node, depth: int) -> None:
        """The comment lines right above a declaration (attributes between them skipped)."""
        row, found = node.start_point.row - 1, list[tuple[int, str]]()
        while row >= 0 and len(found) < MAX_COMMENT_SCAN:
            line = self.rows[row].decode("utf-8", "replace").strip()
            if not line.startswith(_COMMENT_STARTS):
                break
            if not line.startswith(_ATTRIBUTES) and line.strip("/*! ") != "":
                found.append((row, line))
            row -= 1
        indent = "    " * depth
        kept = list(reversed(found))[:MAX_DOC_LINES]
        self.out.lines += [f"{r + 1}: {indent}{text}" for r, text in kept]

    def docstring(self, body: Node, depth: int) -> None:
        """The first paragraph of the docstring opening `body`, if any."""
        first = body.named_children[0] if body.named_child_count else None
        if first is None or first.type != "expression_statement" or not first.named_child_count:
            return
        string = first.named_children[0]
        if string.type != "string":
            return
        text = self._slice(string.start_byte, string.end_byte)
        lines = [r.strip() for r in text.split("\n\n")[0].splitlines() if r.strip()]
        indent = "    " * depth
        start = string.start_point.row + 1
        kept = lines[:MAX_DOC_LINES]
        self.out.lines += [f"{start + i}: {indent}{r}" for i, r in enumerate(kept)]

    def _text(self, node: Node) -> str:
        return self._slice(node.start_byte, node.end_byte)

    def _slice(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", "replace")
