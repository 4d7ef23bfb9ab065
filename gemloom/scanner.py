"""Fast multi-pattern scanning with RE2: one linear pass, whatever the number of alternatives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import re2


class Scanner:
    """An RE2 pattern run over ASCII text as bytes (the binding's str path re-encodes and maps
    offsets on every call); offsets are the same either way, as ASCII is one byte a character."""

    def __init__(self, pattern: str):
        self.text = re2.compile(pattern)
        self.ascii = re2.compile(pattern.encode("ascii"))

    def finditer(self, text: str) -> Iterator[Any]:
        """Matches over `text`; use offsets (`start`, `end`, `lastgroup`), not group values."""
        if text.isascii():
            return self.ascii.finditer(text.encode("ascii"))
        return self.text.finditer(text)

    def names(self, text: str) -> set[str]:
        """The names of the groups that matched anywhere in `text`."""
        found = {m.lastgroup for m in self.finditer(text)}
        return {n.decode() if isinstance(n, bytes) else n for n in found if n}

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text`."""
        if text.isascii():
            return self.ascii.search(text.encode("ascii")) is not None
        return self.text.search(text) is not None
