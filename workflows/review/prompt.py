"""What the review asks the model: the instructions, the image legend and the code context."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gemloom.errors import GemloomError
from gemloom.messages import CHARS_PER_TOKEN
from gemloom.workflows.review.findings import CATEGORIES

if TYPE_CHECKING:
    from gemloom.tools.screen.image import Shot
    from gemloom.workflows.review.grounding import RepoIndex

log = logging.getLogger(__name__)

SYSTEM = (
    "You review user interfaces from screenshots, like a careful QA engineer and accessibility "
    "auditor. Report only problems you can see. Quote visible text exactly as shown, including "
    "where it is cut off. Give each problem's box_2d as [ymin, xmin, ymax, xmax] on a 0-1000 "
    "grid over the image you saw it in. "
    "Answer with JSON only."
)


def _legend(shots: Sequence[Shot], sent: Sequence[Any]) -> list[str]:
    lines = []
    for number, item in enumerate(sent, 1):
        shot, tile = shots[item.shot], item.tile
        w, h = tile.size
        if tile.kind == "whole":
            what = f"the whole screenshot {item.shot + 1} ({w}x{h})"
        elif tile.kind == "overview":
            what = f"an overview of screenshot {item.shot + 1}, downscaled to {w}x{h}"
        else:
            x, y, bw, bh = tile.box
            what = (
                f"a {w}x{h} detail of screenshot {item.shot + 1} "
                f"({shot.size[0]}x{shot.size[1]}) showing x={x}..{x + bw}, y={y}..{y + bh}"
            )
        lines.append(f"Image {number}: {what}.")
    return lines


def instructions(shots: Sequence[Shot], sent: Sequence[Any], code_context: str = "") -> str:
    """The user prompt that goes with the images."""
    categories = "\n".join(f"- {name}: {text}" for name, text in CATEGORIES.items())
    parts = [
        "Review these screenshots of an application for defects.",
        *_legend(shots, sent),
        "",
        "Categories:",
        categories,
        "",
        "Severity: high blocks or hides content or fails accessibility badly; medium is clearly "
        "wrong; low is cosmetic. For each problem give: severity, category, title, quoted_text "
        "(visible text involved, exactly as shown), component (a UI or code name if you can "
        "tell), image (the image number above), box_2d ([ymin, xmin, ymax, xmax] from 0 to 1000 "
        "over that image, tight around the problem) and suggested_fix. "
        'Return {"findings": []} if there is nothing wrong.',
    ]
    if code_context:
        parts += ["", "The code behind this interface:", code_context]
    return "\n".join(parts)


def code_context(index: RepoIndex, diff: str, budget_tokens: int) -> str:
    """The diff under review and the packed repository, within about `budget_tokens`."""
    budget_chars = int(budget_tokens * CHARS_PER_TOKEN)
    parts = []
    if diff:
        parts.append("Diff under review:\n```diff\n" + diff[: budget_chars // 2] + "\n```")
    used = sum(len(p) for p in parts) / CHARS_PER_TOKEN
    remaining = max(int(budget_tokens - used), 1)
    parts.append(_packed(index, remaining))
    return "\n\n".join(parts)


def _packed(index: RepoIndex, budget_tokens: int) -> str:
    """The repository packed by the codebase tool, or its file list if that is unavailable."""
    try:
        from gemloom.tools.codebase.pack import pack

        return pack(index.root, budget=budget_tokens, fmt="markdown").text
    except (ImportError, GemloomError) as exc:  # optional here: fall back to the file list
        log.warning("codebase packing unavailable (%s); sending the file list only", exc)
    listing = "\n".join(sorted(index.files))
    return f"Files in the repository:\n{listing[: int(budget_tokens * CHARS_PER_TOKEN)]}"
