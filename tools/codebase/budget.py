"""Fitting a pack into a token budget: most relevant files in full, then outlines, then omitted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gemloom.errors import ExitCode, GemloomError
from gemloom.tokens import estimate
from gemloom.tools.codebase.outline import declarations_floor
from gemloom.tools.codebase.render import Entry, footer, header, wrappers
from gemloom.tools.codebase.splice import section_cost

FULL_SHARE = 0.7  # of the room left after the header, first given to whole files
TOP_FULL = 4  # the most relevant files, shown whole even at the cost of other files' outlines
MAX_MISSES = 20  # outlines that did not fit in a row: the room is full, stop parsing files


class BudgetTooSmall(GemloomError):
    """The budget cannot hold even the pack's header and file tree."""

    exit_code = ExitCode.USAGE

    def __init__(self, needed: int, budget: int):
        super().__init__(
            f"A budget of {budget:,} tokens cannot hold even the file tree of this codebase "
            f"(about {needed:,} tokens): raise --budget or narrow the files with --include."
        )
        self.needed = needed
        self.budget = budget


def frame_tokens(name: str, entries: Sequence[Entry], fmt: str) -> float:
    """Tokens of everything but the file sections."""
    return estimate(header(name, entries, fmt)) + estimate(footer(fmt))


def section_tokens(entry: Entry, status: str, text: str, tokens: float, fmt: str) -> float:
    """Tokens of a file's section showing `text` (estimated at `tokens`) with this status."""
    head, tail = wrappers(Entry(entry.path, status, text), fmt)
    return section_cost(head, tail, tokens, bool(text) and not text.endswith("\n"))


def _ready(entry: Entry) -> None:
    """Entries are ready to show as they are (see `fit`'s `ready`)."""


def _no_floor(entry: Entry) -> float:
    return 0.0


@dataclass
class _Fitting:
    """The room of one pack being filled, and the outlines placed so far."""

    room: float
    fmt: str
    outline_of: Callable[[Entry], tuple[str, float]]
    ready: Callable[[Entry], None] = _ready
    floor: Callable[[Entry], float] = _no_floor
    used: float = 0.0
    full: dict[int, float] = field(default_factory=dict)
    frames: dict[int, float] = field(default_factory=dict)
    outlines: dict[int, tuple[str, float]] = field(default_factory=dict)

    def cost(self, entry: Entry) -> float:
        """Tokens of the entry's section in full, once `ready` has made its text showable."""
        known = self.full.get(id(entry))
        if known is None:
            self.ready(entry)
            known = section_tokens(entry, "full", entry.text, entry.tokens, self.fmt)
            self.full[id(entry)] = known
        return known

    def least(self, entry: Entry) -> float:
        """At most `cost` (but for a file whose redaction removed more than the floor counts),
        without `ready`: the section's frame around the `floor` of the file's tokens (the
        frame kept: the loops ask again for every file)."""
        frame = self.frames.get(id(entry))
        if frame is None:
            frame = self.frames[id(entry)] = section_tokens(entry, "full", "", 0.0, self.fmt)
        return frame + self.floor(entry)

    def whole(self, entry: Entry, limit: float) -> bool:
        """Show `entry` in full if the room used stays within `limit`."""
        saved = self.outlines[id(entry)][1] if entry.status == "outline" else 0.0
        if entry.status == "full" or self.used - saved + self.least(entry) > limit:
            return False
        if self.used - saved + self.cost(entry) > limit:
            return False
        entry.status, self.used = "full", self.used - saved + self.cost(entry)
        return True

    def outline(self, entry: Entry) -> bool:
        """Show `entry` as an outline if it fits, parsing it only if its floor does."""
        left = self.room - self.used
        short = left < self.cost(entry)  # (else the file is small for the room: parse it)
        floor = outline_floor(entry) if short else 0.0
        if section_tokens(entry, "outline", "", floor, self.fmt) > left:
            return False
        text, tokens = self.outline_of(entry)
        cost = section_tokens(entry, "outline", text, tokens, self.fmt)
        if not text or self.used + cost > self.room:
            return False
        self.outlines[id(entry)], entry.status = (text, cost), "outline"
        self.used += cost
        return True


def fit(
    name: str,
    entries: list[Entry],
    order: Sequence[Entry],
    budget: int,
    fmt: str,
    outline_of: Callable[[Entry], tuple[str, float]],
    ready: Callable[[Entry], None] = _ready,
    floor: Callable[[Entry], float] = _no_floor,
) -> None:
    """Set each text entry's status so the pack fits `budget`, favouring early `order`.

    Only files that can still be shown get parsed for an outline: the top files are placed
    whole before any outline, and a file whose outline's floor does not fit is not parsed.
    `ready(entry)` runs before an entry's text or tokens are used, and before it can be shown;
    a file whose `floor(entry)` of tokens does not fit is ruled out without it (`pack.Pending`
    scans files for secrets on demand). The floor depends on the file only, so it rules out
    the same files whether they are ready or not.
    """
    for entry in order:
        entry.status = "omitted"
    room = budget - frame_tokens(name, entries, fmt)
    if room < 0:
        raise BudgetTooSmall(int(budget - room) + 1, budget)
    state = _Fitting(room, fmt, outline_of, ready, floor)
    if sum(map(state.least, order)) <= room and sum(map(state.cost, order)) <= room:
        for entry in order:
            entry.status = "full"
        return
    for entry in order:  # the most relevant files whole, up to a share of the room
        state.whole(entry, room * FULL_SHARE)
    for entry in order[:TOP_FULL]:  # the top files whole at the cost of the others' outlines
        if entry.status != "full" and not state.whole(entry, room):
            state.outline(entry)  # now, ahead of the files it outranks
    misses = 0
    for entry in order:  # then outlines of the rest while they fit
        if entry.status == "omitted" and misses < MAX_MISSES:
            misses = 0 if state.outline(entry) else misses + 1
    for entry in order:  # then upgrade to full text what still fits
        state.whole(entry, room)
    for entry in order:
        if entry.status == "outline":
            entry.text = state.outlines[id(entry)][0]


def outline_floor(entry: Entry) -> float:
    """At most the tokens of the entry's outline, from its declaration lines (cheap)."""
    return declarations_floor(entry.path, entry.text)
