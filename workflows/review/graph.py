"""Code review from screenshots: a LangGraph graph from images (and code) to grounded findings.

load images -> load repository -> ask the model -> ground in the code -> measure contrast -> done
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from gemloom import messages as msg
from gemloom.llm import LLM
from gemloom.tools.screen.contrast import measure
from gemloom.tools.screen.image import Box, ImageError, Shot, Tile, clamp, load, tiles
from gemloom.workflows.review import grounding, prompt
from gemloom.workflows.review.findings import (
    CodeLocation,
    Evidence,
    Finding,
    Review,
    SeenFinding,
    SeenFindings,
    ShotInfo,
    finding_id,
)

Remember = Callable[[Finding], None]


@dataclass(frozen=True)
class Sent:
    """One image sent to the model: which screenshot, which tile of it."""

    shot: int
    tile: Tile


class ReviewState(TypedDict, total=False):
    """What flows through the review graph."""

    paths: list[str]
    repo: str | None
    diff: str | None
    shots: list[Shot]
    sent: list[Sent]
    index: grounding.RepoIndex | None
    code_context: str
    seen: list[SeenFinding]
    findings: list[Finding]


@dataclass
class Reviewer:
    """The review workflow's nodes and their shared services."""

    llm: LLM
    model: str | None = None
    remember: Remember | None = None
    context_budget: int = 60_000

    def load_images(self, state: ReviewState) -> dict[str, Any]:
        """Load, normalise and tile every screenshot."""
        shots = [load(path) for path in state["paths"]]
        sent = [Sent(i, tile) for i, shot in enumerate(shots) for tile in tiles(shot)]
        return {"shots": shots, "sent": sent}

    def load_repo(self, state: ReviewState) -> dict[str, Any]:
        """Index the repository for grounding and pack it (within budget) for the prompt."""
        repo = state.get("repo")
        if not repo:
            return {"index": None, "code_context": ""}
        diff = grounding.redact_diff(state.get("diff") or "")  # as the code is
        index = grounding.index(repo, grounding.diff_paths(diff))
        text = prompt.code_context(index, diff, self.context_budget)
        return {"index": index, "code_context": text}

    def ask(self, state: ReviewState) -> dict[str, Any]:
        """Ask the vision model for findings in the reply schema."""
        self.llm.require("vision", self.model)
        text = prompt.instructions(state["shots"], state["sent"], state.get("code_context", ""))
        images = [s.tile.png for s in state["sent"]]
        messages = [msg.system(prompt.SYSTEM), msg.user(text, images=images)]
        reply = self.llm.structured(messages, SeenFindings, model=self.model)
        return {"seen": reply.findings}

    def ground(self, state: ReviewState) -> dict[str, Any]:
        """Map boxes back to screenshot pixels and find each finding in the code."""
        findings: dict[str, Finding] = {}
        for seen in state["seen"]:
            finding = self._finding(seen, state)
            findings.setdefault(finding.id, finding)  # overlapping tiles repeat findings
        return {"findings": list(findings.values())}

    def _finding(self, seen: SeenFinding, state: ReviewState) -> Finding:
        sent, note = _sent_image(state["sent"], seen.image)
        shot = state["shots"][sent.shot]
        seen_box = seen.pixel_box(*sent.tile.size)
        bbox = _to_shot(seen_box, sent, shot) if seen_box else None
        quoted = " ".join(seen.quoted_text.split())
        finding = Finding(
            id=finding_id(seen.category, seen.title, quoted, shot.sha256),
            severity=seen.severity,
            category=seen.category,
            title=seen.title.strip(),
            evidence=Evidence(
                screenshot=shot.source, sha256=shot.sha256, bbox=bbox, quoted_text=quoted
            ),
            suggested_fix=seen.suggested_fix.strip(),
            component=seen.component.strip(),
            note=note,
        )
        if (index := state.get("index")) is not None:
            finding.location = _locate(index, finding)
        return finding

    def measure_contrast(self, state: ReviewState) -> dict[str, Any]:
        """Measure the WCAG ratio from pixels for contrast findings that have a box."""
        by_sha = {shot.sha256: shot for shot in state["shots"]}
        for finding in state["findings"]:
            if not (is_contrast(finding) and finding.evidence.bbox):
                continue
            try:
                result = measure(by_sha[finding.evidence.sha256].image, Box(*finding.evidence.bbox))
            except ImageError as exc:
                finding.note = " ".join(
                    filter(None, [finding.note, f"Contrast not measured: {exc}"])
                )
                continue
            finding.contrast_ratio = result.ratio
            finding.contrast_colours = [result.foreground, result.background]
        return {"findings": state["findings"]}

    def finish(self, state: ReviewState) -> dict[str, Any]:
        """Hand each finding to the memory hook, if any."""
        if self.remember:
            for finding in state["findings"]:
                self.remember(finding)
        return {}

    def build(self) -> StateGraph:
        """The uncompiled graph, a straight line of six nodes."""
        graph = StateGraph(ReviewState)
        steps = [
            ("load_images", self.load_images),
            ("load_repo", self.load_repo),
            ("ask", self.ask),
            ("ground", self.ground),
            ("measure_contrast", self.measure_contrast),
            ("finish", self.finish),
        ]
        previous = START
        for name, node in steps:
            graph.add_node(name, node)
            graph.add_edge(previous, name)
            previous = name
        graph.add_edge(previous, END)
        return graph


def is_contrast(finding: Finding) -> bool:
    """Whether a finding is about colour contrast."""
    words = f"{finding.title} {finding.suggested_fix}".lower()
    return finding.category == "accessibility" and "contrast" in words


def _sent_image(sent: Sequence[Sent], number: int) -> tuple[Sent, str]:
    if 1 <= number <= len(sent):
        return sent[number - 1], ""
    return sent[0], f"The model named image {number}, which was not sent; image 1 assumed."


def _to_shot(bbox: Sequence[int], sent: Sent, shot: Shot) -> list[int] | None:
    """A box in the sent image's pixels as a box in the original screenshot's pixels."""
    width, height = sent.tile.size
    sx, sy = sent.tile.box.width / width, sent.tile.box.height / height
    x, y, w, h = bbox
    box = Box(
        round(sent.tile.box.x + x * sx),
        round(sent.tile.box.y + y * sy),
        round(w * sx),
        round(h * sy),
    )
    try:
        return list(clamp(box, shot.size))
    except ImageError:
        return None


def _locate(index: grounding.RepoIndex, finding: Finding) -> CodeLocation | None:
    needles = [n for n in (finding.evidence.quoted_text, finding.component) if n]
    hit = index.locate(needles)
    return CodeLocation(path=hit.path, line=hit.line, snippet=hit.text[:200]) if hit else None


def review(
    llm: LLM,
    shots: Sequence[str | Path],
    repo: str | Path | None = None,
    diff: str | None = None,
    *,
    model: str | None = None,
    remember: Remember | None = None,
) -> Review:
    """Run the review graph on screenshots (and optionally a repository and a diff)."""
    reviewer = Reviewer(llm, model=model, remember=remember)
    graph = reviewer.build().compile()
    state = graph.invoke(
        {"paths": [str(p) for p in shots], "repo": str(repo) if repo else None, "diff": diff}
    )
    infos = [
        ShotInfo(
            source=s.source,
            sha256=s.sha256,
            width=s.size[0],
            height=s.size[1],
            images_sent=sum(x.shot == i for x in state["sent"]),
        )
        for i, s in enumerate(state["shots"])
    ]
    name = llm.model_info(model).name
    return Review(
        model=name, repo=str(repo) if repo else None, screenshots=infos, findings=state["findings"]
    )
