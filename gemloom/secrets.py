"""Secret redaction: known credential shapes are replaced in place by a marker, and reported.

One table of rules, each guarded by literals that must appear before its pattern runs, so the
scan stays cheap on the many files that hold none of them. Known token formats come first; then
assignments in configuration files (`password:`, `secret =`, `"token": ...`, `.env` values); then
quoted high-entropy values assigned to names such as `api_key` or `auth_token` in any file.
A redacted span keeps its line breaks, so line numbers still match the file on disk.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path

from gemloom import secret_assignments
from gemloom.scanner import Scanner
from gemloom.secret_assignments import (
    MIN_ENTROPY,
    QUOTED_PATTERN,
    assignment_spans,
    entropy,
    file_name,
    generic_spans,
    is_config_file,
    placeholder,
)

MARKER = "[REDACTED:{kind}]"


@dataclass(frozen=True)
class Redaction:
    """One secret replaced in a file: what kind it was and on which line."""

    kind: str
    line: int


@dataclass(frozen=True)
class Rule:
    """A secret shape; `bounded` tokens may not touch other token characters on either side."""

    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    bounded: bool = False


def _rule(kind: str, pattern: str, group: int = 0, bounded: bool = False) -> Rule:
    return Rule(kind, re.compile(pattern), group, bounded)


_PEM = r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"
_B64 = r"[A-Za-z0-9+/]"
# Patterns use only syntax that both `re` and RE2 accept (no look-arounds, no back-references).
RULES: tuple[Rule, ...] = (
    # A block without its END line (a cut-off file) is redacted up to where its base64 stops.
    _rule("private_key", rf"{_PEM}(?s:.*?{_PEM_END}|[A-Za-z0-9+/=\s:,\-\\]*)"),
    _rule("aws_access_key", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", bounded=True),
    _rule("aws_secret_key",
          rf"(?i:secret_?access_?key)[\"']?[ \t]*[:=][ \t]*[\"']?({_B64}{{40}})[^A-Za-z0-9+/=]", 1),
    _rule("gcp_service_account", r'"private_key_id"\s*:\s*"([0-9a-f]{40})"', 1),
    _rule("google_api_key", r"AIza[0-9A-Za-z_\-]{35}", bounded=True),
    _rule("gcp_oauth_secret", r"GOCSPX-[0-9A-Za-z_\-]{28}", bounded=True),
    _rule("github_token", r"gh[pousr]_[A-Za-z0-9]{36,255}", bounded=True),
    _rule("github_token", r"github_pat_[A-Za-z0-9_]{22,255}", bounded=True),
    _rule("gitlab_token",
          r"(?:(?:glpat|gldt|glrt|glptt|glsoat|glcbt)-|GR1348941)[A-Za-z0-9_\-]{20,255}",
          bounded=True),
    _rule("slack_token", r"xox[abposre]-[A-Za-z0-9-]{10,255}", bounded=True),
    _rule("slack_token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,255}", bounded=True),
    _rule("slack_webhook",
          r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,255}"),
    _rule("stripe_key", r"[sr]k_(?:live|test)_[0-9a-zA-Z]{16,247}", bounded=True),
    _rule("stripe_key", r"whsec_[A-Za-z0-9+/]{32,255}", bounded=True),
    _rule("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{32,255}", bounded=True),
    _rule("openai_key", r"sk-[A-Za-z0-9_\-]{20,255}", bounded=True),
    _rule("huggingface_token", r"(?:hf_|api_org_)[A-Za-z]{34}", bounded=True),
    _rule("npm_token", r"npm_[A-Za-z0-9]{36}", bounded=True),
    _rule("pypi_token", r"pypi-AgE[A-Za-z0-9_\-]{50,}", bounded=True),
    _rule("twilio_key", r"(?:SK|AC)[0-9a-f]{32}", bounded=True),
    _rule("sendgrid_key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", bounded=True),
    _rule("azure_storage_key", rf"(?:AccountKey|SharedAccessKey)=({_B64}{{40,86}}={{0,2}})", 1),
    _rule("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", bounded=True),
    _rule("password_in_url", r"://[^/\s:@\"'<>]{1,256}:([^/\s@\"'<>]{1,256})@", 1),
)  # fmt: skip
_TOKEN = frozenset(string.ascii_letters + string.digits + "_-")
# One RE2 pass over the text tells which rules can match at all; only those run (with `re`).
_CAPTURE = re.compile(r"(?<!\\)\((?!\?)")
_UPPER_BOUND = re.compile(r"\{(\d+),\d+\}")  # a trigger needs no upper bound: smaller DFA


def _trigger(rule: Rule) -> str:
    return _UPPER_BOUND.sub(r"{\1,}", _CAPTURE.sub("(?:", rule.pattern.pattern))


_TRIGGERS = Scanner("|".join(f"(?P<r{i}>{_trigger(r)})" for i, r in enumerate(RULES)))
SCAN_PATTERNS = (*(f"(?:{_trigger(r)})" for r in RULES), f"(?:{QUOTED_PATTERN})")
"""RE2 patterns of which one matches wherever `redact` can find a secret, outside the files
`by_path` names: a file none of them matches needs no redaction."""
# Part of the cache key: records redacted under other rules (this file or the assignment
# rules changed) are redone.
VERSION = hashlib.sha256(
    Path(__file__).read_bytes() + Path(secret_assignments.__file__).read_bytes()
).hexdigest()[:12]


def is_env_file(path: str) -> bool:
    """Whether `path` is a dotenv file whose values are secrets (`.env`, `.env.production`)."""
    name = file_name(path)
    return name == ".env" or (name.startswith(".env.") and "example" not in name)


def by_path(path: str) -> bool:
    """Whether the file's name alone brings rules in (its config keys or `.env` values)."""
    return is_env_file(path) or is_config_file(path)


def _fired(text: str) -> list[Rule]:
    names = _TRIGGERS.names(text)
    return [rule for i, rule in enumerate(RULES) if f"r{i}" in names]


def _bounded(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] not in _TOKEN) and (
        end == len(text) or text[end] not in _TOKEN
    )


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for rule in _fired(text):
        for m in rule.pattern.finditer(text):
            if rule.bounded and not _bounded(text, m.start(), m.end()):
                continue
            if rule.kind == "openai_key" and m.group().startswith("sk-ant-"):
                continue  # an Anthropic key, reported as such
            if rule.kind == "password_in_url" and placeholder(m.group(1)):
                continue
            if rule.kind == "twilio_key" and entropy(m.group()) < MIN_ENTROPY:
                continue  # "AC" and 32 zeros is a constant, not a key
            found.append((m.start(rule.group), m.end(rule.group), rule.kind))
    return found


def find(text: str, path: str = "") -> list[tuple[int, int, str]]:
    """Every secret's (start, end, kind) in `text`, by position; a known token format wins over
    an assignment rule that covers the same text, so the marker names the most precise kind."""
    ranked = [(start, 0, end, kind) for start, end, kind in _spans(text)]
    assigned = assignment_spans(text, env=is_env_file(path), config=is_config_file(path))
    ranked += [(start, 1, end, kind) for start, end, kind in assigned]
    ranked += [(start, 2, end, kind) for start, end, kind in generic_spans(text)]
    return [(start, end, kind) for start, _, end, kind in sorted(ranked)]


def redact(text: str, path: str = "") -> tuple[str, list[Redaction]]:
    """`text` with every secret replaced by a marker, and what was replaced where."""
    spans = find(text, path)
    if not spans:
        return text, []
    pieces, found, last = [], [], 0
    for start, end, kind in spans:
        if start < last:
            continue  # overlaps a secret already replaced
        breaks = text.count("\n", start, end)
        pieces += [text[last:start], MARKER.format(kind=kind) + "\n" * breaks]
        found.append(Redaction(kind, text.count("\n", 0, start) + 1))
        last = end
    pieces.append(text[last:])
    return "".join(pieces), found


def summary(found: list[Redaction] | tuple[Redaction, ...]) -> str:
    """One line saying what was redacted where, or "" when nothing was."""
    if not found:
        return ""
    kinds = ", ".join(sorted({r.kind for r in found}))
    lines = ", ".join(str(r.line) for r in found)
    return f"{len(found)} secret(s) redacted ({kinds}) on line(s) {lines}"
