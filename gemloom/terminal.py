"""Text from the model or a tool made safe for a terminal: control characters become visible.

A terminal obeys escape sequences wherever they appear, so an answer or a file the model read could
write the clipboard (OSC 52), plant a disguised link (OSC 8), clear the screen (CSI 2J) or hide text
behind backspaces and carriage returns. `visible()` replaces every control character except newline
and tab with a printable stand-in (ESC -> "␛", BEL -> "␇", a C1 control -> "\\x9b"), so what is left
of a sequence is plain text the user can read and the terminal does not act on.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, TypeVar, cast

T = TypeVar("T")
_KEEP = {"\n", "\t"}
_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
"""C0 controls as Unicode control pictures (U+2400 block): ESC is "␛", BEL "␇", BS "␈"."""
_C1 = range(0x80, 0xA0)


def _table() -> dict[int, str]:
    table = {code: picture for code, picture in _C0_PICTURES.items() if chr(code) not in _KEEP}
    table[0x7F] = "\u2421"  # DEL: "␡"
    table.update({code: f"\\x{code:02x}" for code in _C1})
    return table


_TABLE = _table()
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JSON_RAW = re.compile("[\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with every terminal control except newline and tab shown as a printable stand-in."""
    if not _CONTROL.search(text):
        return text  # the common case costs one scan
    return text.replace("\r\n", "\n").translate(_TABLE)


def visible_data(value: T) -> T:
    """`value` with `visible()` applied to every string in it: dicts, lists, tuples, dataclasses.

    For front ends that show whole events or messages; what is shown is a copy, the value itself
    (for example arguments that go back to a tool) is left as it was.
    """
    if isinstance(value, str):
        return visible(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {visible_data(k): visible_data(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple) and type(value) in (list, tuple):
        return cast(T, type(value)(visible_data(item) for item in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        return dataclasses.replace(value, **{n: visible_data(getattr(value, n)) for n in fields})
    return value


def json_text(value: Any, indent: int | None = None) -> str:
    """JSON to show or edit on a terminal: controls become \\u escapes, so it parses back equal."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)  # json leaves DEL and C1 raw


def safe(text: str) -> str:
    """Model or tool text for a rich console: no terminal controls and no markup."""
    from rich.markup import escape

    return escape(visible(text))
