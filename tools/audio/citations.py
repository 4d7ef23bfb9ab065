"""Citations checked against the transcript: every cited time exists, every quote is found near it.

A citation inside a transcript line is snapped to that line's stamp. An action item's quote is
looked for (fuzzy, in word order) in the lines within NEAR_SECONDS of its citation, then in the
whole transcript; found elsewhere, the citation moves there. A decision, question or topic whose
time is in no line is moved to the line that shares most of its words, if one does clearly.
What cannot be placed keeps its time and is marked unverified. An owner who is neither a speaker
nor a name said in the transcript is dropped, and the item says so.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import TypeVar

from pydantic import BaseModel

from gemloom.tools.audio.notes import ActionItem, Cited, Sheet, cited_items
from gemloom.tools.audio.transcript import Segment, stamp

NEAR_SECONDS = 30.0
QUOTE_MATCH = 0.8  # share of the quote's words found in order
TEXT_MATCH = 0.5  # share of an item's content words found in one line
_STAMP = re.compile(r"^(\d{2}):(\d{2}):(\d{2})$")
_STOP = frozenset(
    "a an the to of and or in on at for is are was be we i you it this that will should can".split()  # noqa: SIM905
)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w']+", text.lower())]


def seconds(timestamp: str) -> float | None:
    """'00:01:02' -> 62.0; None for anything else."""
    match = _STAMP.match(timestamp)
    if not match:
        return None
    h, m, s = (int(g) for g in match.groups())
    return float(h * 3600 + m * 60 + s)


def _line_at(segments: Sequence[Segment], at: float) -> Segment | None:
    """The line whose stamp is `at`, or whose span holds it."""
    for seg in segments:
        if stamp(seg.start) == stamp(at) or seg.start <= at < seg.end:
            return seg
    return None


def quote_score(quote: str, text: str) -> float:
    """Share of the quote's words that appear in `text` in the same order."""
    q, t = _words(quote), _words(text)
    if not q:
        return 0.0
    blocks = SequenceMatcher(None, q, t, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(q)


def _best(segments: Sequence[Segment], text: str, score) -> tuple[float, Segment | None]:
    """The best-scoring line; failing a clear one, a line joined with the next (quotes may span)."""
    best: tuple[float, Segment | None] = (0.0, None)
    for seg in segments:
        if (value := score(text, seg.said)) > best[0] + 1e-9:
            best = (value, seg)
    if best[0] >= QUOTE_MATCH:
        return best
    for seg, after in itertools.pairwise(segments):
        if (value := score(text, f"{seg.said} {after.said}")) > best[0] + 1e-9:
            best = (value, seg)
    return best


def _content_score(text: str, line: str) -> float:
    words = [w for w in _words(text) if w not in _STOP]
    have = set(_words(line))
    return sum(w in have for w in words) / len(words) if words else 0.0


def _near(segments: Sequence[Segment], at: float | None) -> list[Segment]:
    if at is None:
        return []
    return [s for s in segments if abs(s.start - at) <= NEAR_SECONDS]


def _check_quote(item: ActionItem, segments: Sequence[Segment]) -> ActionItem:
    at = seconds(item.timestamp)
    score, seg = _best(_near(segments, at), item.quote, quote_score)
    if score < QUOTE_MATCH:
        score, seg = _best(segments, item.quote, quote_score)
    if seg is not None and score >= QUOTE_MATCH:
        return item.model_copy(update={"timestamp": stamp(seg.start), "unverified": None})
    why = "quote not found in the transcript" if item.quote else "no quote to check"
    return _placed(item, segments, why)


C = TypeVar("C", bound=Cited)


def _placed(item: C, segments: Sequence[Segment], why: str | None = None) -> C:
    """The item with its time snapped to a real line, or marked unverified."""
    at = seconds(item.timestamp)
    line = _line_at(segments, at) if at is not None else None
    if why is None and line is not None:
        return item.model_copy(update={"timestamp": stamp(line.start), "unverified": None})
    if why is None:
        text = next(iter(item.model_dump(exclude={"timestamp", "unverified"}).values()), "")
        score, seg = _best(segments, str(text), _content_score)
        if seg is not None and score >= TEXT_MATCH:
            return item.model_copy(update={"timestamp": stamp(seg.start), "unverified": None})
        why = f"{item.timestamp} is not a time in the transcript"
    return item.model_copy(update={"unverified": why})


def _owner(item: ActionItem, speakers: set[str], said: set[str]) -> ActionItem:
    if not item.owner or item.owner in speakers or set(_words(item.owner)) & said:
        return item
    note = f"owner '{item.owner}' is not a speaker or a name said in the meeting"
    why = f"{item.unverified}; {note}" if item.unverified else note
    return item.model_copy(update={"owner": None, "unverified": why})


def _checked(item: object, segments: Sequence[Segment], speakers: set[str], said: set[str]):
    if isinstance(item, ActionItem):
        return _owner(_check_quote(item, segments), speakers, said)
    return _placed(item, segments) if isinstance(item, Cited) else item


N = TypeVar("N", bound=BaseModel)


def check_citations(notes: N, segments: Sequence[Segment]) -> N:
    """The notes with every citation placed on a real transcript line, or marked unverified."""
    if not segments:
        return notes
    speakers = {s.speaker for s in segments if s.speaker is not None}
    said = {w for s in segments for w in _words(s.text) if w not in _STOP}
    update = {
        name: [_checked(item, segments, speakers, said) for item in value]
        for name in type(notes).model_fields
        if isinstance(value := getattr(notes, name), list)
    }
    return notes.model_copy(update=update)


def unverified(notes: BaseModel) -> list[str]:
    """One line per citation that could not be checked."""
    return [f"[{i.timestamp}] {i.unverified}" for i in cited_items(notes) if i.unverified]


MIN_WORDS = 30  # a transcript this long has something to note


def nearly_empty(notes: Sheet, segments: Sequence[Segment]) -> bool:
    """Notes with nothing in them although the transcript holds real speech."""
    spoken = sum(len(s.text.split()) for s in segments)
    texts = [
        v
        for n in type(notes).model_fields
        if n not in ("title", "summary") and isinstance(v := getattr(notes, n), str) and v.strip()
    ]
    empty = not cited_items(notes) and not texts
    return spoken >= MIN_WORDS and empty and len(notes.summary.split()) < 5
