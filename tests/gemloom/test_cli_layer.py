"""All command-line code is one top layer: no library module imports Typer or click."""

from __future__ import annotations

from source_files import ROOT, imported, library_modules

CLI_ONLY = {"typer", "click"}


def test_the_scan_sees_the_library_and_would_see_a_typer_import() -> None:
    modules = library_modules()
    assert ROOT / "workflows" / "meetings" / "ingest.py" in modules
    assert ROOT / "agents" in {p.parent for p in modules}
    assert "typer" in imported(ROOT / "gemloom" / "cli" / "meetings.py")


def test_no_library_module_imports_typer_or_click() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported(p) & CLI_ONLY)
        for p in library_modules()
        if imported(p) & CLI_ONLY
    }
    assert offenders == {}
