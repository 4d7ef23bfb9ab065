"""Outlines of source files: numbered signatures, members and docstrings, for files that do not fit.

Every language with a grammar wheel goes through tree-sitter, Python too: on sqlalchemy's 8.7 MB
of Python it outlines in about half the time `ast` takes (bench/relevance.py --speed),
with the same declarations. Python without its grammar falls back to `ast`; any other language
without one to line patterns, and its outline says so.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from gemloom.tokens import estimate
from gemloom.tools.codebase.grammars import language_of, parser
from gemloom.tools.codebase.syntax import MAX_SIGNATURE, Outline, syntax_outline

MAX_DOC_LINES = 3
# Lines that declare something in most C-like, scripting and config languages.
_DECLARATION = re.compile(
    r"^[ \t]*(?:export\s+|pub(?:\([^)]*\))?\s+|public\s+|private\s+|protected\s+|static\s+|"
    r"async\s+|abstract\s+|final\s+|default\s+|override\s+)*"
    r"(?:def|class|struct|enum|trait|impl|interface|type|fn|func|function|module|namespace|"
    r"object|record|union|const\s+\w+\s*=\s*(?:async\s*)?\(|let\s+\w+\s*=\s*(?:async\s*)?\(|"
    r"macro_rules!|package|sub|proc)\b.*$",
    re.MULTILINE,
)
_HEADING = re.compile(r"^#{1,6} .*$|^\[[^\]\n]+\]$", re.MULTILINE)  # markdown, TOML/INI


_DOCUMENTS = frozenset({".md", ".rst", ".toml", ".ini", ".cfg", ".txt"})
# Python lines that start a declaration the outline surely lists: top-level ones, with the
# indent of a class's first statement after its header (all its direct members share it);
# indented `def`s; and other column-0 lines, which end a class's body. (A newline rather than
# `^` first, and a possessive indent: each makes Python's re find the candidates 2.5x faster.)
_PY_LINE = re.compile(
    r"\n(?:((?:async[ \t]+)?def[ \t]+\w+)([^\n]*)"
    r"|(class[ \t]+\w+)(?:(?=(?:[^\n]*\n)*?[^\n]*:[ \t]*(?:#[^\n]*)?\n"
    r"(?:[ \t]*(?:#[^\n]*)?\n)*?([ \t]+)[^ \t\r\n#])|)([^\n]*)"
    r"|([ \t]++)((?:async[ \t]+)?def[ \t]+\w+)([^\n]*)|[^ \t\r\n#)\]}])"
)


def outline(path: str, text: str) -> str:
    """The numbered outline of a file (`N: signature`, N its line), for the model to read on."""
    return parse_outline(path, text).text


def parse_outline(path: str, text: str) -> Outline:
    """The outline of a file and the names it declares."""
    language = language_of(path)
    found = syntax_outline(language, text) if language else None
    if found is not None:
        return found
    if language == "python":
        try:
            return python_outline(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError):
            pass  # not valid Python for this interpreter: fall back to line patterns
    return _regex_outline(path, text, language)


def declarations_floor(path: str, text: str) -> float:
    """A lower bound of the outline's tokens, from its declaration lines alone (0 if unknown).

    Each listed declaration has a line `N: <indent>signature...` in the outline, then the first
    line of its docstring if its body opens with one; the floor's lines are those with only
    the start of a signature that spans lines (or may hold a comment), and only docstrings
    that surely are ones: the outline holds them with more between and around, and the
    estimate of a text never falls as bytes are put into it. Should the scan take a string for
    code (a lone `'\"\"\"'` can fool it), the floor may come out too high: only that file's
    outline is lost. (sqlalchemy: the floor is 0.55 of outlines over 2,000 tokens, was 0.43
    without indents, endings and docstrings; half the parses of outlines that do not fit.)
    """
    if language_of(path) != "python":
        return 0.0
    if parser("python") is None:  # `ast` outlines respell signatures: names only
        names = (f"{n}: {_signature(head, '')}" for n, head, _, _, _ in _declarations(text))
        return estimate("\n".join(names))
    lines = []
    for line, head, rest, member, end in _declarations(text):
        indent, whole = "    " if member else "", (head + rest.rstrip()).endswith(":")
        whole = whole and "#" not in rest  # on one line, with no comment that may follow
        signature = _signature(head, rest)
        if whole and len(signature) < MAX_SIGNATURE:
            signature += ":" if head.startswith("class") else ": ..."
        lines.append(f"{line}: {indent}{signature}")
        if whole and (doc := _docstring(text, end)) is not None:
            lines.append(f"{line + doc[0]}: {indent}    {doc[1]}")
    return estimate("\n".join(lines))


def _docstring(text: str, end: int) -> tuple[int, str] | None:
    """(lines on, first line) of the docstring the outline surely shows for the declaration
    whose line ends at `end`: a triple-quoted string opening the next non-blank line (a comment
    would come first in the body) and closing with nothing after it on its line (a string
    after it would join it into one that is not a docstring)."""
    skipped, at = 1, end
    while (stop := text.find("\n", at + 1)) >= 0 and not text[at + 1 : stop].strip():
        skipped, at = skipped + 1, stop
    row = text[at + 1 : stop if stop >= 0 else len(text)]
    first = row.strip()
    quote = first[:3]
    if quote not in ('"""', "'''"):
        return None
    opened = at + 1 + row.index(quote) + 3
    close = text.find(quote, opened)
    if close < 0 or text[close - 1] == "\\":
        return None
    after = text.find("\n", close)
    if text[close + 3 : after if after >= 0 else len(text)].strip():
        return None
    return skipped, first


def _declarations(text: str) -> Iterator[tuple[int, str, str, bool, int]]:
    """(line, start, rest of line, whether a class member, where the line ends in `text`) of
    the declarations a Python outline surely lists."""
    line, last, members, double, single = 1, 0, None, 0, 0
    for match in _PY_LINE.finditer("\n" + text):
        function, rest, klass, body, after, indent, method, tail = match.groups()
        if indent is not None and indent != members:
            continue  # nested deeper, or not in a top-level class
        if members is None and not (function or klass or method):
            continue  # a column-0 line outside a class ends nothing
        start = match.start()  # where the line starts in `text`
        line += text.count("\n", last, start)
        double += text.count('"""', last, start)
        single += text.count("'''", last, start)
        last = start
        if double % 2 or single % 2:
            continue  # inside a triple-quoted string
        members = body if klass is not None else members if indent is not None else None
        if function or klass:
            yield line, function or klass, rest if function else after, False, match.end() - 1
        elif method:
            yield line, method, tail, True, match.end() - 1


def _signature(head: str, rest: str) -> str:
    """What an outline's signature surely starts with, as syntax.py spells it."""
    line = head + rest.rstrip()
    if not line.endswith(":") or "#" in line:  # spans lines, or a comment may follow
        return " ".join(head.split())
    signature = " ".join(line.split()).replace("( ", "(").replace(", )", ")").replace(" )", ")")
    return signature.removesuffix(":").rstrip()[:MAX_SIGNATURE]


def python_outline(tree: ast.Module) -> Outline:
    """The outline of a parsed Python module."""
    result = Outline()
    _doc(tree, "", result)
    for node in tree.body:
        _node(node, "", result)
    return result


def _doc(node: ast.AST, indent: str, out: Outline) -> None:
    doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
    if doc:
        kept = doc.split("\n\n")[0].splitlines()[:MAX_DOC_LINES]
        line = node.body[0].lineno  # type: ignore[attr-defined]
        out.lines.append(f'{line}: {indent}"""' + f"\n{line}: {indent}".join(kept) + '"""')


def _node(node: ast.stmt, indent: str, out: Outline) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        out.lines += [f"{d.lineno}: {indent}@{ast.unparse(d)}" for d in node.decorator_list]
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        signature = f"{prefix} {node.name}({ast.unparse(node.args)}){returns}: ..."
        out.lines.append(f"{node.lineno}: {indent}{signature}")
        out.names.append(node.name)
        _doc(node, indent + "    ", out)
    elif isinstance(node, ast.ClassDef):
        out.lines += [f"{d.lineno}: {indent}@{ast.unparse(d)}" for d in node.decorator_list]
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        head = f"class {node.name}" + (f"({bases})" if bases else "") + ":"
        out.lines.append(f"{node.lineno}: {indent}{head}")
        out.names.append(node.name)
        _doc(node, indent + "    ", out)
        for child in node.body:
            _node(child, indent + "    ", out)
    elif isinstance(node, ast.Assign | ast.AnnAssign) and not indent:
        source = ast.unparse(node)
        if len(source) <= 120:
            out.lines.append(f"{node.lineno}: {source}")


def _regex_outline(path: str, text: str, language: str | None) -> Outline:
    suffix = PurePosixPath(path).suffix.lower()
    document = suffix in _DOCUMENTS
    result = Outline()
    if not document:
        why = f"the {language} grammar is not installed" if language else "no parser for it"
        result.lines.append(f"(outline from line patterns: {why})")
    line, last = 1, 0
    for match in (_HEADING if document else _DECLARATION).finditer(text):
        line, last = line + text.count("\n", last, match.start()), match.start()
        shown = match.group(0).rstrip().rstrip("{").rstrip()[:200]
        result.lines.append(f"{line}: {shown}")
    return result
