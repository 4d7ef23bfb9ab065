"""Review outputs for people and scripts: Markdown and JSON, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

from gemloom.atomic import write_atomic
from gemloom.errors import GemloomError
from gemloom.workflows.review.findings import SEVERITY_RANK, Finding, Review

SEVERITY_MARK = {"high": "🔴 high", "medium": "🟠 medium", "low": "🟡 low"}


def to_json(review: Review) -> str:
    """The review as indented JSON (the Review schema)."""
    return review.model_dump_json(indent=2) + "\n"


def _evidence(finding: Finding) -> list[str]:
    ev = finding.evidence
    lines = [f"- Screenshot: `{ev.screenshot}` (sha256 `{ev.sha256[:16]}…`)"]
    if ev.bbox:
        x, y, w, h = ev.bbox
        lines.append(f"- Box: x={x}, y={y}, {w}×{h} px")
    if ev.quoted_text:
        lines.append(f"- Text on screen: “{ev.quoted_text}”")
    if finding.location:
        loc = finding.location
        lines.append(f"- Code: `{loc.path}:{loc.line}` — `{loc.snippet[:120]}`")
    if finding.contrast_ratio is not None:
        fg, bg = finding.contrast_colours or ["?", "?"]
        verdict = "fails" if finding.contrast_ratio < 4.5 else "passes"
        lines.append(
            f"- Measured contrast: {finding.contrast_ratio:.2f}:1 ({fg} on {bg}; "
            f"{verdict} WCAG AA 4.5:1)"
        )
    if finding.suggested_fix:
        lines.append(f"- Fix: {finding.suggested_fix}")
    if finding.note:
        lines.append(f"- Note: {finding.note}")
    return lines


def to_markdown(review: Review) -> str:
    """A Markdown report: a summary table, then one section per finding, worst first."""
    counts = {s: sum(f.severity == s for f in review.findings) for s in SEVERITY_RANK}
    out = [
        "# Screenshot review",
        "",
        f"Model `{review.model}`" + (f", repository `{review.repo}`" if review.repo else "") + ".",
        "",
        "| screenshot | size | sha256 | images sent |",
        "|---|---|---|---|",
    ]
    for shot in review.screenshots:
        size = f"{shot.width}×{shot.height}"
        out.append(f"| `{shot.source}` | {size} | `{shot.sha256[:16]}…` | {shot.images_sent} |")
    summary = ", ".join(f"{n} {s}" for s, n in reversed(counts.items()))
    out += ["", f"**{len(review.findings)} findings** ({summary}).", ""]
    ordered = sorted(review.findings, key=lambda f: -SEVERITY_RANK[f.severity])
    for finding in ordered:
        mark = SEVERITY_MARK[finding.severity]
        out += [f"## {finding.id}: {finding.title}", "", f"{mark} · {finding.category}", ""]
        out += [*_evidence(finding), ""]
    if not review.findings:
        out.append("No problems found.")
    return "\n".join(out).rstrip() + "\n"


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write text or bytes to `path` through a temporary file: no reader sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise GemloomError(f"Cannot write {path}: {exc.strerror or exc}.") from None
