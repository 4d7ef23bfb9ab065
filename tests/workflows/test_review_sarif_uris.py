"""SARIF locations are valid URI references: a `#` or space in a file name stays in the path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import typer
from fake_ollama import Turn
from fixtures.review.screens import SCHEMA, model_reply
from typer.testing import CliRunner

from gemloom.cli.review import review_command
from gemloom.workflows.review.findings import CodeLocation, Evidence, Finding, Review
from gemloom.workflows.review.sarif import to_sarif

NAMES = ["src/a#b.tsx", "src/with space/x?.tsx", "src/100%.tsx", "src/café/ü.tsx", "plain.tsx"]


def strict_validator() -> jsonschema.Draft4Validator:
    """The vendored SARIF schema, with its `uri` and `uri-reference` formats enforced."""
    return jsonschema.Draft4Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker()
    )


def finding(path: str | None, screenshot: str = "shot.png") -> Finding:
    return Finding(
        id="GL0001",
        severity="medium",
        category="layout",
        title="Overlap",
        evidence=Evidence(screenshot=screenshot, sha256="0" * 64),
        location=CodeLocation(path=path, line=3) if path else None,
    )


def uris(log: dict) -> list[str]:
    return [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]


def test_the_check_rejects_an_unencoded_hash_in_a_path() -> None:
    log = to_sarif(Review(model="m", screenshots=[], findings=[finding("src/ok.tsx")]))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = (
        "src/a#b#c.tsx"
    )
    with pytest.raises(jsonschema.ValidationError, match="uri-reference"):
        strict_validator().validate(log)


@pytest.mark.parametrize("name", NAMES)
def test_code_paths_are_percent_encoded_and_round_trip(name: str) -> None:
    log = to_sarif(Review(model="m", screenshots=[], findings=[finding(name)]))
    strict_validator().validate(log)
    (uri,) = uris(log)
    assert not urlsplit(uri).fragment and not urlsplit(uri).query
    assert unquote(uri) == name


def test_a_screenshot_named_with_a_hash_in_a_repo_with_spaces(tmp_path: Path) -> None:
    repo = tmp_path / "my repo #2"
    (repo / "shots").mkdir(parents=True)
    shot = repo / "shots" / "home #1.png"
    log = to_sarif(
        Review(model="m", repo=str(repo), screenshots=[], findings=[finding(None, str(shot))])
    )
    strict_validator().validate(log)
    assert uris(log) == ["shots/home%20%231.png"]
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert unquote(urlsplit(base).path) == f"{repo}/"


def test_review_cli_sarif_validates_with_formats(fake_ollama, screen, app, tmp_path) -> None:
    odd = app / "src" / "components" / "Check#out.tsx"
    shutil.move(app / "src" / "components" / "CheckoutButton.tsx", odd)
    shot = tmp_path / "settings #1.png"
    shutil.copy(screen.path, shot)
    fake_ollama.default = Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16)
    cli = typer.Typer(pretty_exceptions_enable=False)
    cli.command("review")(review_command)
    out = tmp_path / "review.sarif"
    args = [str(shot), "--repo", str(app), "-f", "sarif", "-o", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    log = json.loads(out.read_text())
    strict_validator().validate(log)
    found = {unquote(u) for u in uris(log)}
    assert "src/components/Check#out.tsx" in found and "settings #1.png" in found
