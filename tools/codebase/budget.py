"""Fitting a pack into a token budget: most relevant files in full, then outlines, then omitted."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gemloom.errors import ExitCode, GemloomError
from gemloom.tokens import estimate
from gemloom.tools.codebase.render import Entry, footer, header, wrappers

NEWLINE = estimate("\n")
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
    newline = NEWLINE if text and not text.endswith("\n") else 0.0
    return estimate(head) + estimate(tail) + tokens + newline


def _upgrade_top(
    order: Sequence[Entry], full: dict[int, float], outlines: dict[int, tuple[str, float]],
    used: float, room: float,
) -> float:  # fmt: skip
    """Show the first TOP_FULL files whole by dropping outlines of the least relevant ones."""
    for rank, entry in enumerate(order[:TOP_FULL]):
        if entry.status == "full" or full[id(entry)] > room:
            continue
        saved = outlines[id(entry)][1] if entry.status == "outline" else 0.0
        tail = [e for e in reversed(order[rank + 1 :]) if e.status == "outline"]
        need = used - saved + full[id(entry)] - room
        dropped = []
        while need > 0 and tail:
            dropped.append(tail.pop(0))
            need -= outlines[id(dropped[-1])][1]
        if need <= 0:
            for gone in dropped:
                gone.status = "omitted"
            used -= sum(outlines[id(e)][1] for e in dropped)
            entry.status, used = "full", used - saved + full[id(entry)]
    return used


def fit(
    name: str,
    entries: list[Entry],
    order: Sequence[Entry],
    budget: int,
    fmt: str,
    outline_of: Callable[[Entry], tuple[str, float]],
) -> None:
    """Set each text entry's status so the pack fits `budget`, favouring early `order`."""
    for entry in order:
        entry.status = "omitted"
    room = budget - frame_tokens(name, entries, fmt)
    if room < 0:
        raise BudgetTooSmall(int(budget - room) + 1, budget)
    full = {id(e): section_tokens(e, "full", e.text, e.tokens, fmt) for e in order}
    if sum(full.values()) <= room:
        for entry in order:
            entry.status = "full"
        return
    used = 0.0
    for entry in order:  # the most relevant files whole, up to a share of the room
        if used + full[id(entry)] <= room * FULL_SHARE:
            entry.status, used = "full", used + full[id(entry)]
    outlines: dict[int, tuple[str, float]] = {}
    misses = 0
    for entry in order:  # then outlines of the rest while they fit
        if entry.status != "omitted" or misses >= MAX_MISSES:
            continue
        text, tokens = outline_of(entry)
        cost = section_tokens(entry, "outline", text, tokens, fmt)
        if text and used + cost <= room:
            outlines[id(entry)] = (text, cost)
            entry.status, used, misses = "outline", used + cost, 0
        else:
            misses += 1
    used = _upgrade_top(order, full, outlines, used, room)
    for entry in order:  # then upgrade to full text what still fits
        saved = outlines[id(entry)][1] if entry.status == "outline" else 0.0
        if entry.status != "full" and used - saved + full[id(entry)] <= room:
            entry.status, used = "full", used - saved + full[id(entry)]
    for entry in order:
        if entry.status == "outline":
            entry.text = outlines[id(entry)][0]
