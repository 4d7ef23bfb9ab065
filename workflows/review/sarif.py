"""SARIF 2.1.0 for GitHub code scanning: one rule per category, one result per finding.

Code scanning needs at least one location per result. A finding grounded in the code points at
that file and line; one that is not points at the screenshot file (relative to the repository
when it lies inside it, else as given when relative, else by its bare name: code scanning
refuses absolute and file:// URIs), with the box kept in the result's properties. Every URI
is percent-encoded, so a `#` or a space in a file name stays part of the path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gemloom import __version__
from gemloom.workflows.review.findings import CATEGORIES, Finding, Review

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "gemloom-review"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"high": "7.0", "medium": "4.0", "low": "1.0"}
FINGERPRINT = "gemloomFinding/v1"


def _rule(category: str) -> dict[str, Any]:
    name = "".join(part.capitalize() for part in category.split("_")) + "Problem"
    return {
        "id": category,
        "name": name,
        "shortDescription": {"text": CATEGORIES[category].split(":")[0]},
        "fullDescription": {"text": CATEGORIES[category]},
        "help": {"text": CATEGORIES[category]},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["ui", "screenshot", category]},
    }


def _uri(path: str, repo: Path | None) -> str:
    """A relative forward-slash URI: code scanning accepts only paths in the repository."""
    candidate = Path(path)
    if repo is not None:
        try:
            return encode(candidate.resolve().relative_to(repo.resolve()).as_posix())
        except ValueError:
            pass
    if candidate.is_absolute():
        return encode(candidate.name)
    return encode(Path(os.path.normpath(path)).as_posix())


def encode(path: str) -> str:
    """A relative path as a URI reference: `#`, `?`, `%`, spaces and the rest percent-encoded."""
    return quote(path, safe="/")


def _location(finding: Finding, repo: Path | None) -> dict[str, Any]:
    if finding.location:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": encode(finding.location.path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": finding.location.line},
        }
        if finding.location.snippet:
            physical["region"]["snippet"] = {"text": finding.location.snippet}
        return {"physicalLocation": physical}
    artifact = {"uri": _uri(finding.evidence.screenshot, repo), "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": artifact}}


def _message(finding: Finding) -> str:
    parts = [finding.title.rstrip(".") + "."]
    if finding.evidence.quoted_text:
        parts.append(f'Text on screen: "{finding.evidence.quoted_text}".')
    if finding.contrast_ratio is not None:
        parts.append(f"Measured contrast {finding.contrast_ratio:.2f}:1 (WCAG AA needs 4.5:1).")
    if finding.suggested_fix:
        parts.append(f"Fix: {finding.suggested_fix}")
    return " ".join(parts)


def _result(finding: Finding, rule_index: int, repo: Path | None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "severity": finding.severity,
        "screenshot": finding.evidence.screenshot,
        "screenshotSha256": finding.evidence.sha256,
    }
    if finding.evidence.bbox:
        props["bbox"] = finding.evidence.bbox
    if finding.contrast_ratio is not None:
        props["contrastRatio"] = finding.contrast_ratio
    return {
        "ruleId": finding.category,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(finding, repo)],
        "partialFingerprints": {FINGERPRINT: finding.id},
        "properties": props,
    }


def to_sarif(review: Review) -> dict[str, Any]:
    """The review as a SARIF 2.1.0 log."""
    repo = Path(review.repo) if review.repo else None
    categories = list(CATEGORIES)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "rules": [_rule(c) for c in categories],
            }
        },
        "results": [_result(f, categories.index(f.category), repo) for f in review.findings],
        "properties": {"model": review.model},
    }
    if repo is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def to_sarif_text(review: Review) -> str:
    """The SARIF log as indented JSON text."""
    return json.dumps(to_sarif(review), indent=2, ensure_ascii=False) + "\n"
