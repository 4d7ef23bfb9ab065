"""Grounding: the confined repository search behind path:line citations."""

from __future__ import annotations

import pytest
from fixtures.review.screens import CHECKOUT, NEWSLETTER

from gemloom.errors import GemloomError
from gemloom.workflows.review_grounding import diff_paths, index, variants


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
