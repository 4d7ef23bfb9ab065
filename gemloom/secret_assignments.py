"""Secrets found by what they are assigned to: config keys such as `password:`, and named literals.

Two rules. In configuration files (YAML, TOML, INI, JSON, `.env`, properties) any literal value
of a key whose last word is a secret word (`password`, `secret`, `token`, `api_key`, ...) is a
secret. In every file, a quoted value assigned to such a name is a secret when it looks random:
16+ characters with letters and digits and enough entropy, which keeps prose and names out.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from gemloom.scanner import Scanner

CONFIG_SUFFIXES = frozenset((
    ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".cnf", ".properties", ".json", ".jsonc",
    ".env", ".npmrc", ".pypirc",
))  # fmt: skip
CONFIG_NAMES = frozenset((".npmrc", ".pypirc", ".netrc", ".pgpass", "credentials"))
SECRET_WORDS = frozenset((
    "password", "passwd", "passphrase", "pwd", "pass", "secret", "secrets", "token", "apikey",
    "credential", "credentials", "accesskey", "secretkey", "privatekey", "clientsecret",
    "authtoken",
))  # fmt: skip
KEY_QUALIFIERS = frozenset(
    ("api", "access", "private", "secret", "auth", "signing", "encryption", "master", "account")
)
PLACEHOLDERS = frozenset((
    "pass", "password", "passwd", "pwd", "pw", "secret", "xxx", "xxxx", "xxxxxx", "changeme",
    "placeholder", "example", "none", "null", "nil", "true", "false", "token", "key", "value",
    "yourpassword", "mypassword", "redacted",
))  # fmt: skip
MAX_GENERIC = 512
MIN_ENTROPY = 3.0
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_CONFIG_LINE = re.compile(
    r"^[ \t]*(?:export[ \t]+|-[ \t]+)?[\"']?([A-Za-z0-9_.\-]+)[\"']?[ \t]*[:=][ \t]*(\S.*?)[ \t]*$",
    re.MULTILINE,
)
_JSON_PAIR = re.compile(r'"([A-Za-z0-9_.\-]{1,80})"\s*:\s*"((?:[^"\\\n]|\\.)*)"')


# RE2 (one linear pass, no back-references): a name holding a secret word, an assignment, a
# quoted token. The closing quote and the whole name are checked in Python.
QUOTED_PATTERN = (
    r"([A-Za-z0-9_.\-]*(?i:key|token|secret|passw|pwd|pass|credential|auth)[A-Za-z0-9_.\-]*)"
    r"[\"'`]?\]?[ \t]*(?::=|=>|:|=)[ \t]*[bBrRuU]{0,2}([\"'`])([A-Za-z0-9+/=_\-.~]{16,})[\"'`]"
)
_QUOTED = Scanner(QUOTED_PATTERN)


def placeholder(value: str) -> bool:
    """Whether a value is an example or a reference rather than a secret (`pass`, `${X}`)."""
    value = value.strip().strip("\"'")
    if not value or value.casefold() in PLACEHOLDERS or set(value) <= set("*xX.-_ "):
        return True
    return bool(re.fullmatch(r"\$\{?\w+\}?|\{\{.*\}\}|<[^<>]+>|%\(?\w*\)?s|\$\(.+\)", value))


def entropy(value: str) -> float:
    """Shannon entropy of `value` in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def file_name(path: str) -> str:
    """The last part of a relative POSIX path (as PurePosixPath.name, without its cost)."""
    name = path.rstrip("/").rpartition("/")[2]
    return "" if name == "." else name


def suffix(name: str) -> str:
    """A file name's suffix as PurePosixPath.suffix gives it ('' for '.env' or 'a.')."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def is_config_file(path: str) -> bool:
    """Whether `path` is a configuration file whose secret-named values are secrets."""
    name = file_name(path)
    return name in CONFIG_NAMES or suffix(name).lower() in CONFIG_SUFFIXES


def secret_name(name: str) -> bool:
    """Whether a key or variable name ends in a secret word (`db_password`, `apiKey`)."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words:
        return False
    if words[-1] in SECRET_WORDS or "".join(words[-2:]) in SECRET_WORDS:
        return True
    return words[-1] == "key" and len(words) > 1 and words[-2] in KEY_QUALIFIERS


def _value(raw: str) -> tuple[int, int]:
    """Offsets of the literal inside a config value: quotes and trailing comments left out."""
    if raw[0] in "\"'":
        close = raw.find(raw[0], 1)
        return (1, close) if close > 0 else (1, len(raw))
    cut = re.search(r"[ \t]+[#;]", raw)
    end = cut.start() if cut else len(raw)
    return 0, len(raw[:end].rstrip(","))


def assignment_spans(text: str, env: bool, config: bool) -> list[tuple[int, int, str]]:
    """Values of secret-named keys in a config file; in `.env` files also random-looking ones."""
    if not (env or config):
        return []
    spans = []
    for m in _CONFIG_LINE.finditer(text):
        if m.group(2)[0] in "|>{[&#":
            continue  # a block, a mapping, an anchor or a comment: no literal on this line
        start, end = _value(m.group(2))
        literal = m.group(2)[start:end]
        if placeholder(literal):
            continue
        named = secret_name(m.group(1))
        if named or (env and looks_random(literal)):
            kind = "env_value" if env else _kind(m.group(1))
            spans.append((m.start(2) + start, m.start(2) + end, kind))
    for m in _JSON_PAIR.finditer(text) if config else ():
        if secret_name(m.group(1)) and not placeholder(m.group(2)):
            spans.append((m.start(2), m.end(2), _kind(m.group(1))))
    return spans


def _kind(name: str) -> str:
    lowered = name.lower()
    return "password" if "pass" in lowered or "pwd" in lowered else "secret_value"


def looks_random(value: str) -> bool:
    """Letters and digits mixed with enough entropy: a key, not a word, path or identifier."""
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return entropy(value) >= MIN_ENTROPY and not placeholder(value)


def generic_spans(text: str) -> list[tuple[int, int, str]]:
    """Quoted random-looking values assigned to secret-named variables or keys, in any file."""
    spans = []
    for m in _QUOTED.finditer(text):
        start, end = m.start(3), m.end(3)
        if text[m.end() - 1] != text[m.start(2)] or end - start > MAX_GENERIC:
            continue
        if secret_name(text[m.start(1) : m.end(1)]) and looks_random(text[start:end]):
            spans.append((start, end, "generic_secret"))
    return spans
