"""Secret redaction: known credential shapes are replaced in place by a marker, and reported."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

MARKER = "[REDACTED:{kind}]"


@dataclass(frozen=True)
class Redaction:
    """One secret replaced in a file: what kind it was and on which line."""

    kind: str
    line: int


# (kind, literal that must appear for the pattern to match, pattern, group holding the secret).
# The literal guard keeps the scan cheap: most files contain none of them.
_RULES: tuple[tuple[str, str, re.Pattern[str], int], ...] = (
    (
        "private_key",
        "PRIVATE KEY-----",
        re.compile(
            r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"
            r".*?-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----",
            re.DOTALL,
        ),
        0,
    ),
    ("aws_access_key", "AKIA", re.compile(r"AKIA[0-9A-Z]{16}(?![0-9A-Za-z])"), 0),
    ("aws_access_key", "ASIA", re.compile(r"ASIA[0-9A-Z]{16}(?![0-9A-Za-z])"), 0),
    (
        "aws_secret_key",
        "",
        re.compile(r"(?i:aws_secret_access_key)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})"),
        1,
    ),
    ("gcp_api_key", "AIza", re.compile(r"AIza[0-9A-Za-z_\-]{35}"), 0),
    ("gcp_oauth_secret", "GOCSPX-", re.compile(r"GOCSPX-[0-9A-Za-z_\-]{28}"), 0),
    ("github_token", "", re.compile(r"gh[pousr]_[A-Za-z0-9]{36,255}"), 0),
    ("github_token", "github_pat_", re.compile(r"github_pat_[A-Za-z0-9_]{22,255}"), 0),
    ("slack_token", "xox", re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,255}"), 0),
    (
        "slack_webhook",
        "hooks.slack.com",
        re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9_/]{20,255}"),
        0,
    ),
    ("openai_key", "sk-", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_\-]{20,255}"), 0),
    (
        "password_in_url",
        "://",
        re.compile(r"://[^/\s:@\"'<>]{1,256}:([^/\s@\"'<>]{1,256})@"),
        1,
    ),
)
_ENV_LINE = re.compile(
    r"^([ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*=[ \t]*)(.+)$", re.MULTILINE
)
_AWS_SECRET_GUARDS = ("ecret_access_key", "ECRET_ACCESS_KEY")


def is_env_file(path: str) -> bool:
    """Whether `path` is a dotenv file whose values are secrets (`.env`, `.env.production`)."""
    name = PurePosixPath(path).name
    return name == ".env" or (name.startswith(".env.") and "example" not in name)


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for kind, literal, pattern, group in _RULES:
        if kind == "aws_secret_key" and not any(g in text for g in _AWS_SECRET_GUARDS):
            continue
        if literal not in text:  # "" (always in) for patterns that start with a literal anyway
            continue
        found += [(m.start(group), m.end(group), kind) for m in pattern.finditer(text)]
    return found


def _env_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _ENV_LINE.finditer(text):
        value = m.group(2).strip()
        if value and value not in ('""', "''") and not value.startswith("#"):
            spans.append((m.start(2), m.end(2), "env_value"))
    return spans


def redact(text: str, path: str = "") -> tuple[str, list[Redaction]]:
    """`text` with every secret replaced by a marker, and what was replaced where."""
    spans = _spans(text) + (_env_spans(text) if is_env_file(path) else [])
    if not spans:
        return text, []
    spans.sort()
    pieces, found, last = [], [], 0
    for start, end, kind in spans:
        if start < last:
            continue  # overlaps a secret already replaced
        pieces += [text[last:start], MARKER.format(kind=kind)]
        found.append(Redaction(kind, text.count("\n", 0, start) + 1))
        last = end
    pieces.append(text[last:])
    return "".join(pieces), found
