"""`gemloom review` as CI runs it: SARIF that validates, reports, and --fail-on exit codes."""

from __future__ import annotations

import json

import jsonschema
import pytest
import typer
from fake_ollama import Turn
from fixtures.review.screens import SCHEMA, model_reply
from typer.testing import CliRunner

from gemloom.cli.review import review_command, screenshot_command
from gemloom.errors import CapabilityMissing, ModelOutputError
from gemloom.tools.screen.image import ImageError

cli = typer.Typer(pretty_exceptions_enable=False)
cli.command("review")(review_command)
cli.command("screenshot")(screenshot_command)
runner = CliRunner()


@pytest.fixture
def answers(fake_ollama, screen):
    """The fake model answering every review with the fixture's findings."""
    fake_ollama.default = Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16)
    return fake_ollama


def only_medium(screen) -> str:
    return json.dumps({"findings": [model_reply(screen)["findings"][0]]})


def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


def test_sarif_output_validates_and_points_at_the_right_lines(answers, screen, app, tmp_path):
    out = tmp_path / "review.sarif"
    args = ["review", str(screen.path), "--repo", str(app), "--format", "sarif", "-o", str(out)]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    log = json.loads(out.read_text())
    sarif_validator().validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "gemloom-review"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    places = {}
    for res in run["results"]:
        assert rules[res["ruleIndex"]] == res["ruleId"]
        assert res["partialFingerprints"]["gemloomFinding/v1"].startswith("GL")
        physical = res["locations"][0]["physicalLocation"]
        line = physical.get("region", {}).get("startLine")
        places[res["ruleId"]] = (physical["artifactLocation"]["uri"], line, res["level"])
    assert places == {
        "accessibility": ("src/components/Newsletter.tsx", 7, "warning"),
        "truncation": ("src/components/CheckoutButton.tsx", 6, "error"),
        "layout": ("settings.png", None, "note"),  # ungrounded: points at the screenshot
    }
    contrast = next(r for r in run["results"] if r["ruleId"] == "accessibility")
    assert contrast["properties"]["contrastRatio"] == pytest.approx(2.32, abs=0.01)
    assert "Measured contrast 2.32:1" in contrast["message"]["text"]
    assert "3 findings written to" in result.output
    from gemloom.memory.store import MemoryStore

    with MemoryStore.open() as store:  # opened beside the model's answer, written after it
        kinds = [r.kind.value for r in store.records(deleted=False, namespace="reviews")]
    assert kinds == ["review_finding"] * 3


def test_a_review_without_findings_is_valid_sarif(fake_ollama, screen, tmp_path):
    fake_ollama.default = Turn('{"findings": []}')
    result = runner.invoke(cli, ["review", str(screen.path), "-f", "sarif"])
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    assert log["runs"][0]["results"] == []


@pytest.mark.parametrize(
    ("threshold", "only_medium_findings", "code"),
    [
        ("high", False, 14),  # ExitCode.FINDINGS
        ("medium", False, 14),
        ("low", False, 14),
        ("high", True, 0),
        ("medium", True, 14),
    ],
)
def test_fail_on_sets_the_exit_code(fake_ollama, screen, threshold, only_medium_findings, code):
    reply = only_medium(screen) if only_medium_findings else json.dumps(model_reply(screen))
    fake_ollama.default = Turn(reply, chunk_chars=1 << 16)
    result = runner.invoke(cli, ["review", str(screen.path), "--fail-on", threshold])
    assert result.exit_code == code, result.output


def test_no_fail_on_means_exit_zero_even_with_high_findings(answers, screen):
    assert runner.invoke(cli, ["review", str(screen.path)]).exit_code == 0


def test_markdown_report(answers, screen, app):
    result = runner.invoke(cli, ["review", str(screen.path), "--repo", str(app)])
    text = result.stdout
    assert text.startswith("# Screenshot review")
    assert "**3 findings** (1 high, 1 medium, 1 low)." in text
    assert "- Code: `src/components/Newsletter.tsx:7`" in text
    assert "- Measured contrast: 2.32:1 (#aaaaaa on #ffffff; fails WCAG AA 4.5:1)" in text
    assert text.index("Checkout button label is cut off") < text.index("Newsletter hint")


def test_json_report(answers, screen, app, tmp_path):
    out = tmp_path / "r.json"
    runner.invoke(
        cli, ["review", str(screen.path), "--repo", str(app), "-f", "json", "-o", str(out)]
    )
    data = json.loads(out.read_text())
    assert data["screenshots"][0]["images_sent"] == 3
    assert {f["category"] for f in data["findings"]} == {"accessibility", "truncation", "layout"}
    grounded = [f for f in data["findings"] if f["location"]]
    assert {f["location"]["path"] for f in grounded} == {
        "src/components/Newsletter.tsx",
        "src/components/CheckoutButton.tsx",
    }


def test_a_diff_file_is_read(answers, screen, app, tmp_path):
    diff = tmp_path / "change.diff"
    diff.write_text(
        "diff --git a/src/legacy/OldNewsletter.tsx b/src/legacy/OldNewsletter.tsx\n"
        "--- a/src/legacy/OldNewsletter.tsx\n+++ b/src/legacy/OldNewsletter.tsx\n"
        "@@ -1 +1 @@\n-old\n+new\n"
    )
    args = ["review", str(screen.path), "--repo", str(app), "--diff", str(diff), "-f", "json"]
    data = json.loads(runner.invoke(cli, args).stdout)
    contrast = next(f for f in data["findings"] if f["category"] == "accessibility")
    assert contrast["location"]["path"] == "src/legacy/OldNewsletter.tsx"


def test_errors_leave_no_half_written_report(fake_ollama, screen, tmp_path):
    out = tmp_path / "out.sarif"
    fake_ollama.script(Turn('{"findings": 3}'), Turn('{"findings": 4}'))
    result = runner.invoke(cli, ["review", str(screen.path), "-f", "sarif", "-o", str(out)])
    assert isinstance(result.exception, ModelOutputError)
    assert not out.exists() and list(tmp_path.glob(".*gemloom-tmp")) == []


def test_a_model_without_vision_is_refused(fake_ollama, screen):
    fake_ollama.models["gemma4:12b"].capabilities.remove("vision")
    result = runner.invoke(cli, ["review", str(screen.path)])
    assert isinstance(result.exception, CapabilityMissing)
    assert result.exception.exit_code == 4 and fake_ollama.chat_bodies() == []


@pytest.mark.parametrize(
    "content",
    [b"", b"GIF89a but not really", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
    ids=["empty", "garbage", "cut"],
)
def test_bad_screenshots_exit_with_the_image_error_code(fake_ollama, tmp_path, content):
    shot = tmp_path / "bad.png"
    shot.write_bytes(content)
    result = runner.invoke(cli, ["review", str(shot)])
    assert isinstance(result.exception, ImageError) and result.exception.exit_code == 2
    assert "\n" not in str(result.exception)


def test_a_missing_diff_is_a_clear_error(answers, screen, tmp_path):
    result = runner.invoke(cli, ["review", str(screen.path), "--diff", str(tmp_path / "x.diff")])
    assert "Cannot read the diff" in str(result.exception)


@pytest.mark.parametrize(
    "content", ["just some notes\n", "+++ b/x.py\n", "\0\1binary"], ids=["prose", "no-hunk", "nul"]
)
def test_a_diff_that_is_not_a_diff_is_a_one_line_error(fake_ollama, screen, tmp_path, content):
    diff = tmp_path / "x.diff"
    diff.write_text(content)
    result = runner.invoke(cli, ["review", str(screen.path), "--diff", str(diff)])
    assert f"The --diff file {diff} is not a unified diff" in str(result.exception)
    assert "\n" not in str(result.exception) and fake_ollama.chat_bodies() == []


def test_secrets_in_the_code_and_the_diff_reach_no_report_and_no_model(
    answers, screen, app, tmp_path
):
    token = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"
    source = app / "src" / "components" / "Newsletter.tsx"
    hint = "Subscribe to our newsletter"
    source.write_text(source.read_text().replace(hint, f"{hint} {{/* {token} */}}"))
    diff = tmp_path / "change.diff"
    diff.write_text(
        "diff --git a/src/api.ts b/src/api.ts\n--- a/src/api.ts\n+++ b/src/api.ts\n"
        f'@@ -1 +1 @@\n-const t = "";\n+const t = "{token}";\n'
    )
    outputs = []
    for fmt in ("markdown", "json", "sarif"):
        out = tmp_path / f"r.{fmt}"
        args = ["review", str(screen.path), "--repo", str(app), "--diff", str(diff)]
        result = runner.invoke(cli, [*args, "-f", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_text())
    assert all(token not in text for text in outputs)
    assert all("[REDACTED:github_token]" in text for text in outputs)  # the snippet, redacted
    sent = json.dumps(answers.chat_bodies())
    assert token not in sent and "[REDACTED:github_token]" in sent


def test_an_unknown_format_is_a_usage_error(screen):
    result = runner.invoke(cli, ["review", str(screen.path), "-f", "html"])
    assert result.exit_code == 2 and "html" in result.output


def test_screenshot_command_without_a_display(monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    result = runner.invoke(cli, ["screenshot", "-o", str(tmp_path / "s.png")])
    assert str(result.exception) == "no display: run under Xvfb (xvfb-run) or set DISPLAY"
    assert result.exception.exit_code == 11 and not (tmp_path / "s.png").exists()


def test_screenshot_command_rejects_a_bad_region(tmp_path):
    result = runner.invoke(cli, ["screenshot", "--region", "1,2,3"])
    assert "is not X,Y,WIDTH,HEIGHT" in str(result.exception)


def test_the_schema_check_really_rejects_bad_sarif(answers, screen):
    log = json.loads(runner.invoke(cli, ["review", str(screen.path), "-f", "sarif"]).stdout)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError, match="fatal"):
        sarif_validator().validate(log)


@pytest.mark.parametrize(
    ("content", "said"),
    [(None, "Cannot read"), (b"", "is empty (0 bytes)"), (b"not pixels\n", "is not an image")],
)
def test_an_unusable_screenshot_is_refused_before_model_or_memory_load(
    nothing_loaded, tmp_path, capsys, content, said
):
    from gemloom.cli import main

    bad = tmp_path / "bad.png"
    if content is not None:
        bad.write_bytes(content)
    assert main(["review", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and said in err[0]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--repo", "nowhere"], "Repository nowhere is not a directory."),
        (["--diff", "gone.diff"], "Cannot read the diff gone.diff"),
        (["--diff", "notes.txt"], "is not a unified diff"),
    ],
)
def test_a_bad_repo_or_diff_is_refused_before_model_or_memory_load(
    nothing_loaded, screen, tmp_path, monkeypatch, capsys, extra, said
):
    from gemloom.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("just notes\n")
    assert main(["review", str(screen.path), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and said in err[0]
