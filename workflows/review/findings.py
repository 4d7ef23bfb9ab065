"""The review's data: what the model is asked to return, and the grounded findings we report."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

Severity = Literal["low", "medium", "high"]
Category = Literal["visual", "accessibility", "layout", "truncation", "consistency"]
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
GRID = 1000  # Gemma's box_2d coordinates run 0-1000 over the image, whatever its size
CATEGORIES: dict[str, str] = {
    "visual": "Visual defect: misrendered, overlapping or broken elements.",
    "accessibility": "Accessibility problem: low contrast, missing labels, tiny targets.",
    "layout": "Layout problem: overflow, misalignment, elements off screen.",
    "truncation": "Truncated text: a label or message is cut off.",
    "consistency": "Inconsistency between the screen and the code or the rest of the UI.",
}


class SeenFinding(BaseModel):
    """One problem as the model reports it (a flat schema, so Ollama's `format` can hold it)."""

    severity: Severity
    category: Category
    title: str = Field(min_length=3, description="one-line summary of the problem")
    quoted_text: str = Field("", description="visible text involved, exactly as shown")
    component: str = Field("", description="UI component or identifier name, if known")
    image: int = Field(1, description="number of the image the box refers to")
    box_2d: list[float] | None = Field(
        None,
        description="[ymin, xmin, ymax, xmax] on a 0-1000 grid over that image",
        min_length=4,
        max_length=4,
    )
    bbox: SkipJsonSchema[list[float] | None] = Field(None, min_length=4, max_length=4)
    """[x, y, width, height] in pixels: not asked for, still accepted from older prompts."""
    suggested_fix: str = ""

    def pixel_box(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """The box as (x, y, width, height) in pixels of a `width` x `height` image."""
        if self.box_2d is not None:
            return box_2d_to_pixels(self.box_2d, width, height)
        if self.bbox is not None:
            x, y, w, h = self.bbox
            return round(x), round(y), round(w), round(h)
        return None


def box_2d_to_pixels(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Gemma's [ymin, xmin, ymax, xmax] as pixels (x, y, w, h) of the image it looked at.

    Gemma 4 is trained to give boxes on a 0-1000 grid; a value above 1000 can only be a pixel,
    so such a box is read as pixels in the same order. Swapped edges are put right.
    """
    top, left, bottom, right = box
    if max(box) <= GRID:
        top, bottom = top * height / GRID, bottom * height / GRID
        left, right = left * width / GRID, right * width / GRID
    top, bottom = sorted((top, bottom))
    left, right = sorted((left, right))
    return round(left), round(top), round(right - left), round(bottom - top)


class SeenFindings(BaseModel):
    """The model's whole reply."""

    findings: list[SeenFinding]


class Evidence(BaseModel):
    """Where on which screenshot the problem shows."""

    screenshot: str
    sha256: str
    bbox: list[int] | None = None
    quoted_text: str = ""


class CodeLocation(BaseModel):
    """Where in the repository the visible text or component is defined."""

    path: str
    line: int
    snippet: str = ""


class Finding(BaseModel):
    """A reported finding: the model's observation, grounded and measured."""

    id: str
    severity: Severity
    category: Category
    title: str
    evidence: Evidence
    location: CodeLocation | None = None
    suggested_fix: str = ""
    component: str = ""
    contrast_ratio: float | None = None
    contrast_colours: list[str] | None = None
    note: str = ""


class ShotInfo(BaseModel):
    """Provenance of one input screenshot and how it was sent."""

    source: str
    sha256: str
    width: int
    height: int
    images_sent: int


class Review(BaseModel):
    """The result of one review run."""

    model: str
    repo: str | None = None
    screenshots: list[ShotInfo]
    findings: list[Finding]

    def worst(self) -> str | None:
        """The highest severity among the findings, or None when there are none."""
        ranked = sorted(self.findings, key=lambda f: SEVERITY_RANK[f.severity])
        return ranked[-1].severity if ranked else None


def finding_id(category: str, title: str, quoted_text: str, sha256: str) -> str:
    """A stable id: the same observation on the same screenshot always gets the same id."""
    key = "\x1f".join((category, " ".join(title.lower().split()), quoted_text, sha256))
    return "GL" + hashlib.sha256(key.encode()).hexdigest()[:10]


def meets(severity: str, threshold: str) -> bool:
    """Whether a finding of `severity` reaches the `threshold` severity."""
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]
