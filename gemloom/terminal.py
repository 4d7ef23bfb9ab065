"""Text from the model or a tool made safe for a terminal: control characters become visible.

A terminal obeys escape sequences wherever they appear, so an answer or a file the model read could
write the clipboard (OSC 52), plant a disguised link (OSC 8), clear the screen (CSI 2J) or hide text
behind backspaces and carriage returns. `visible()` replaces every control character except newline
and tab with a printable stand-in (ESC -> "␛", BEL -> "␇", a C1 control -> "\\x9b"), so what is left
of a sequence is plain text the user can read and the terminal does not act on.
"""

from __future__ import annotations

import re

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


def visible(text: str) -> str:
    """`text` with every terminal control except newline and tab shown as a printable stand-in."""
    if not _CONTROL.search(text):
        return text  # the common case costs one scan
    return text.replace("\r\n", "\n").translate(_TABLE)
