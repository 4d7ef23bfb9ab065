"""Budget fitting: outlines are parsed only for files that can still be shown, and the floor
that decides it never exceeds a real outline."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from gemloom.tokens import estimate
from gemloom.tools.codebase import budget as codebase_budget
from gemloom.tools.codebase import outline as codebase_outline
from gemloom.tools.codebase import syntax as codebase_syntax
from gemloom.tools.codebase.budget import fit, frame_tokens, section_tokens
from gemloom.tools.codebase.outline import declarations_floor, outline
from gemloom.tools.codebase.render import Entry

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("json", "email", "logging", "unittest", "importlib", "asyncio")
# Shapes a line scan can get wrong: two-space indent with nested functions, a class header
# over several lines, defs under `if` in a class body, a comment after the colon, one-line
# classes, async methods, decorators, a class inside a string; docstrings after a blank line,
# joined to another string, or after a comment.
TRICKY = '''"""Tricky."""
import typing


class Short: pass


class Wide(
    Base,
    metaclass=Meta,
):  # the header ends here
  """Two-space members."""

  @property
  def name(self):
    def inner(x):  # nested: not in the outline
      return x
    return inner

  if typing.TYPE_CHECKING:
    def hidden(self) -> int: ...

  async def fetch(self, url: str,
                  timeout: float = 1.0) -> bytes:
    return b""


def top(a,   b=  1):  # spaced
    return a


DOC = """
class InString:
    def nothing(self):
        pass
"""


async def later(x): return x


def documented(a):
    """One line."""
    return a


class Noted:

    """Class doc, after a blank line,
    over two lines."""

    def joined(self):
        """Joined""" " to a string: not a docstring"

    def commented(self):
        # a comment first: its docstring is not counted
        """After a comment."""
'''


def _stdlib_files() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((STDLIB / package).rglob("*.py")):
            found.append((str(path.relative_to(STDLIB)), path.read_text(encoding="utf-8")))
    return found


def test_outline_floor_never_exceeds_the_outline_of_real_files() -> None:
    files = [*_stdlib_files(), ("tricky.py", TRICKY)]
    assert len(files) > 80
    ratios = []
    for path, text in files:
        floor, real = declarations_floor(path, text), estimate(outline(path, text))
        assert floor <= real, path
        if real > 2000:
            ratios.append(floor / real)
    assert sum(ratios) / len(ratios) > 0.3  # a floor worth computing, not a constant 0


def test_outline_floor_of_tricky_python_counts_only_listed_declarations() -> None:
    shown = outline("tricky.py", TRICKY)
    assert "inner" not in shown and "hidden" not in shown and "InString" not in shown
    counted = [
        "5: class Short", "8: class Wide", "15:     def name(self): ...",
        "23:     async def fetch", "28: def top", "39: async def later",
        "42: def documented(a): ...", '43:     """One line."""', "47: class Noted:",
        '49:     """Class doc, after a blank line,', "52:     def joined(self): ...",
        "55:     def commented(self): ...",
    ]  # fmt: skip
    assert all(line in shown for line in counted[6:-1])  # as the outline shows them
    assert declarations_floor("tricky.py", TRICKY) == estimate("\n".join(counted))


def test_outline_floor_without_a_grammar_and_for_other_languages(monkeypatch) -> None:
    assert declarations_floor("store.js", "class A { method() {} }\n") == 0.0
    monkeypatch.setattr(codebase_syntax, "parser", lambda language: None)
    monkeypatch.setattr(codebase_outline, "parser", lambda language: None)
    for path, text in [*_stdlib_files()[:30], ("tricky.py", TRICKY)]:  # ast outlines
        assert declarations_floor(path, text) <= estimate(outline(path, text)), path


def _entries(files: list[tuple[str, str]]) -> list[Entry]:
    return [Entry(path, "full", text, estimate(text)) for path, text in files]


def _outline_of(calls: list[str]):
    def outline_of(entry: Entry) -> tuple[str, float]:
        calls.append(entry.path)
        text = outline(entry.path, entry.text)
        return text, estimate(text)

    return outline_of


def test_no_outline_is_parsed_when_the_top_files_leave_too_little_room() -> None:
    body = "".join(f"def step_{i}(value, other):\n    return value * {i}\n\n" for i in range(60))
    entries = _entries([(f"m{i:02d}.py", body) for i in range(12)])
    one = section_tokens(entries[0], "full", body, entries[0].tokens, "xml")
    floor = declarations_floor("m00.py", body)
    budget = int(frame_tokens("t", entries, "xml") + 2 * one + floor / 2)
    calls: list[str] = []
    fit("t", entries, entries, budget, "xml", _outline_of(calls))
    assert [e.status for e in entries][:3] == ["full", "full", "omitted"]
    assert calls == []  # every outline's floor was larger than the room left


@pytest.mark.parametrize("budget", [6_000, 20_000, 60_000])
def test_the_floor_saves_parsing_without_changing_the_pack(monkeypatch, budget: int) -> None:
    files = _stdlib_files()
    order = sorted(range(len(files)), key=lambda i: (len(files[i][1]) * 7919) % 1009)
    results, parsed = [], []
    for floor in (codebase_budget.outline_floor, lambda entry: 0.0):
        monkeypatch.setattr(codebase_budget, "outline_floor", floor)
        entries, calls = _entries(files), []
        fit("t", entries, [entries[i] for i in order], budget, "xml", _outline_of(calls))
        results.append(json.dumps([(e.path, e.status, e.text) for e in entries]))
        parsed.append(len(calls))
    assert results[0] == results[1]
    assert parsed[0] < parsed[1]


def test_a_top_file_too_big_to_be_whole_keeps_its_outline_ahead_of_lower_files() -> None:
    sizes = {"a.py": 9_000, "b.py": 5_000, "c.py": 4_500}  # a: too big once b is whole
    entries = [Entry(p, "full", f"def {p[0]}(): pass\n", float(t)) for p, t in sizes.items()]
    room = 10_000.0

    def outline_of(entry: Entry) -> tuple[str, float]:
        return f"1: def {entry.path[0]}(): ...", 1_000.0

    frame = frame_tokens("t", entries, "xml")
    budget = int(frame + room)
    fit("t", entries, entries, budget, "xml", outline_of)
    assert [e.status for e in entries] == ["outline", "full", "outline"]
