"""Grounding: the confined repository search behind path:line citations."""

from __future__ import annotations

import pytest
from fixtures.review.screens import CHECKOUT, NEWSLETTER

from gemloom.errors import GemloomError
from gemloom.workflows.review.grounding import check_diff, diff_paths, index, redact_diff, variants


def test_gitignored_binary_and_vcs_files_are_left_out(app):
    (app / ".git").mkdir()
    (app / ".git" / "config").write_text(NEWSLETTER)
    repo = index(app)
    assert set(repo.files) == {
        ".gitignore",
        "README.md",
        "src/components/CheckoutButton.tsx",
        "src/components/Newsletter.tsx",
        "src/legacy/OldNewsletter.tsx",
    }
    hits = repo.search(NEWSLETTER)
    assert [(h.path, h.line) for h in hits] == [
        ("src/components/Newsletter.tsx", 7),
        ("src/legacy/OldNewsletter.tsx", 2),
    ]


def test_nested_gitignore_and_negation(app):
    (app / "src" / ".gitignore").write_text("*.snap\n!keep.snap\n")
    (app / "src" / "a.snap").write_text(NEWSLETTER)
    (app / "src" / "keep.snap").write_text(NEWSLETTER)
    repo = index(app)
    assert "src/keep.snap" in repo.files and "src/a.snap" not in repo.files


def test_search_falls_back_to_any_case(app):
    (hit,) = index(app).search("SUBSCRIBE TO OUR NEWSLETTER", limit=1)
    assert hit.path == "src/components/Newsletter.tsx"


def test_cut_off_text_is_found_by_its_visible_prefix(app):
    hit = index(app).locate(["Complete your purchase se…"])
    assert (hit.path, hit.line) == ("src/components/CheckoutButton.tsx", 6)
    assert CHECKOUT in hit.text


def test_component_names_ground_when_the_text_does_not(app):
    hit = index(app).locate(["Text that is nowhere", "CheckoutButton"])
    assert (hit.path, hit.line) == ("src/components/CheckoutButton.tsx", 3)


def test_nothing_found_and_tiny_needles(app):
    repo = index(app)
    assert repo.locate(["completely absent words here"]) is None
    assert repo.search("a") == []


def test_variants_of_cut_off_text():
    assert variants("Complete your purch...") == [
        "Complete your purch...",
        "Complete your purch",
        "Complete your",
    ]
    assert variants("OK") == []


def test_diff_paths():
    diff = "--- a/x.py\n+++ b/src/x.py\n--- a/y\n+++ /dev/null\n+++ c.txt\n"
    assert diff_paths(diff) == ["src/x.py", "c.txt"]


def test_a_missing_repository_is_a_clear_error(tmp_path):
    with pytest.raises(GemloomError, match="is not a directory"):
        index(tmp_path / "nope")


TOKEN = "ghp_" + "Zq8Lm2Xv9Tn4Wb7Kd1Rf6Hs3Jc5Gy0Pa1Eu2"


def test_the_index_uses_the_packs_rules_gemloomignore_links_and_redaction(app, tmp_path):
    (app / ".gemloomignore").write_text("src/legacy/\n")
    (tmp_path / "outside.tsx").write_text(NEWSLETTER)
    (app / "src" / "escape.tsx").symlink_to(tmp_path / "outside.tsx")
    (app / "src" / "keys.ts").write_text(f'export const t = "{TOKEN}"; // token for checkout\n')
    repo = index(app)
    assert "src/legacy/OldNewsletter.tsx" not in repo.files
    assert "src/escape.tsx" not in repo.files
    (hit,) = repo.search("token for checkout")
    assert hit.path == "src/keys.ts" and TOKEN not in hit.text
    assert "[REDACTED:github_token]" in hit.text


def test_a_diff_is_redacted_per_file_and_keeps_its_shape():
    diff = (
        "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -1,2 +1,3 @@\n"
        " DEBUG=1\n-API_KEY=old\n+API_KEY=q8Zr2Lm9Xv4Tn7Wb1Kd5\n+--- not a header\n"
        "diff --git a/k.pem b/k.pem\n--- /dev/null\n+++ b/k.pem\n@@ -0,0 +1,3 @@\n"
        "+-----BEGIN RSA PRIVATE KEY-----\n+MIIEowIBAAKCAQEAabcdefghijkl\n"
        "+-----END RSA PRIVATE KEY-----\n"
        f"diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = '{TOKEN}'\n"
    )
    clean = redact_diff(diff)
    assert clean.count("\n") == diff.count("\n")
    for secret in ("q8Zr2Lm9Xv4Tn7Wb1Kd5", "MIIEowIBAAKCAQEA", TOKEN):
        assert secret not in clean
    assert "+API_KEY=[REDACTED:env_value]\n+--- not a header\n" in clean  # .env rules by name
    assert "+[REDACTED:private_key]\n" in clean and "+x = '[REDACTED:github_token]'" in clean
    assert diff_paths(clean) == [".env", "k.pem", "a.py"]


def test_only_a_unified_diff_is_accepted():
    assert check_diff("", "d") == "" and check_diff("  \n", "d") == ""
    good = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    assert check_diff(good, "d") == good
    for bad in ("notes\n", "+++ b/x.py\n", "@@ -1 +1 @@\0"):
        with pytest.raises(GemloomError, match=r"^d is not a unified diff"):
            check_diff(bad, "d")
