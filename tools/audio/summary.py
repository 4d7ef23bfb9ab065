"""Map-reduce summaries: a meeting of any length becomes notes without overflowing the context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gemloom import messages as msg
from gemloom.tools.audio.notes import Draft, Finished, Sheet, notes_model
from gemloom.tools.audio.transcript import Segment, to_lines

if TYPE_CHECKING:
    from gemloom.llm import LLM

WINDOW_CAP = 32_768  # larger windows would make Ollama reload the model with a bigger num_ctx
SAFETY = 0.8  # our token estimate may run short of Gemma's real count
SYSTEM = (
    "You take meeting notes from a transcript. Every transcript line starts with its time as "
    "[HH:MM:SS]. Every item you list (decision, action item, question, topic, point, update) "
    "must cite the timestamp of the line it comes from. Record only what was said: leave owner "
    "and due date empty unless someone said them. A line may name its speaker after the time "
    "('Speaker 1: ...'); an owner is such a speaker or a name said in the meeting. Answer "
    "with JSON only."
)
STRICT = (
    " Your last notes for this transcript came back empty, but people spoke: write a summary "
    "of at least two sentences and fill every section the meeting gives matter for, each item "
    "with its timestamp."
)
MAP = "Part {k} of {n} of the meeting ({start} to {end}). Write notes for this part.\n\n{text}"
REDUCE = (
    "These are notes on consecutive parts of one meeting, in order. Merge them into notes for "
    "the whole meeting: one title, one summary, duplicates merged, every timestamp kept.\n\n{text}"
)
Progress = Callable[[str], None]


def window_budget(llm: LLM) -> int:
    """Tokens of transcript one request may carry, from the model's context."""
    context = min(llm.model_info().context_length, WINDOW_CAP)
    fixed = msg.estimate_tokens([msg.system(SYSTEM + STRICT), msg.user(MAP + REDUCE)])
    return max(256, int((context - llm.settings.answer_reserve) * SAFETY) - fixed)


def windows(lines: Sequence[str], budget: int, cut: list[str]) -> list[list[str]]:
    """Consecutive lines grouped to fit `budget` tokens; an over-long line is cut (and noted)."""
    groups: list[list[str]] = [[]]
    used = 0
    for line in lines:
        if msg.text_tokens(line) > budget:
            cut.append(f"the transcript line at {line[1:9]} was cut to fit the model's context")
            line = line[: int(budget * msg.CHARS_PER_TOKEN) - 1] + "…"
        cost = msg.text_tokens(line) + 1
        if used + cost > budget and groups[-1]:
            groups.append([])
            used = 0
        groups[-1].append(line)
        used += cost
    return [g for g in groups if g]


def _ask(llm: LLM, prompt: str, system: str, schema: type[Sheet]) -> Sheet:
    return llm.structured([msg.system(system), msg.user(prompt)], schema)


def _map(
    llm: LLM, groups: list[list[str]], progress: Progress, system: str, schema: type[Sheet]
) -> list[Sheet]:
    drafts = []
    for k, group in enumerate(groups, 1):
        progress(f"summarise part {k}/{len(groups)}")
        start, end = group[0][1:9], group[-1][1:9]
        text = "\n".join(group)
        prompt = MAP.format(k=k, n=len(groups), start=start, end=end, text=text)
        drafts.append(_ask(llm, prompt, system, schema))
    return drafts


def _shrink(draft: Sheet, cut: list[str]) -> Sheet:
    """Halve the longest list of a draft too large to merge, or else its summary."""
    lists = [n for n in type(draft).model_fields if isinstance(getattr(draft, n), list)] or [""]
    longest = max(lists, key=lambda name: len(getattr(draft, name)))
    items = getattr(draft, longest, [])
    if len(items) <= 1:
        cut.append("a part's summary was shortened to fit the model's context")
        half = {"summary": draft.summary[: len(draft.summary) // 2], "title": draft.title[:80]}
        return draft.model_copy(update=half)
    cut.append(f"{len(items) - len(items) // 2} {longest.replace('_', ' ')} were dropped to fit")
    return draft.model_copy(update={longest: items[: len(items) // 2]})


def _fit(draft: Sheet, budget: int, cut: list[str]) -> Sheet:
    """A draft small enough that any two fit in one merge request."""
    while msg.text_tokens(draft.model_dump_json(exclude_defaults=True)) > budget // 2:
        draft = _shrink(draft, cut)
    return draft


def _reduce(
    llm: LLM,
    drafts: list[Sheet],
    budget: int,
    cut: list[str],
    progress: Progress,
    system: str,
    schema: type[Sheet],
) -> Sheet:
    while len(drafts) > 1:
        drafts = [_fit(d, budget, cut) for d in drafts]
        texts = [d.model_dump_json(exclude_defaults=True) for d in drafts]
        groups = windows(texts, budget, cut)  # every pair fits, so each group merges >= 2
        progress(f"merge {len(drafts)} partial notes")
        drafts = [
            _ask(llm, REDUCE.format(text="\n\n".join(g)), system, schema)
            if len(g) > 1
            else schema.model_validate_json(g[0])
            for g in groups
        ]
    return drafts[0]


def summarise(
    llm: LLM,
    segments: Sequence[Segment],
    title: str = "Meeting",
    progress: Progress | None = None,
    system: str = SYSTEM,
    schema: type[Sheet] = Draft,
) -> Finished:
    """Structured notes in `schema` (a template's) for a timed transcript, by map-reduce."""
    report = progress or (lambda _: None)
    lines = to_lines(segments)
    finished = notes_model(schema)
    if not lines:
        return finished(title=title, summary="No speech was detected in this recording.")
    cut: list[str] = []
    budget = window_budget(llm)
    drafts = _map(llm, windows(lines, budget, cut), report, system, schema)
    final = _reduce(llm, drafts, budget, cut, report, system, schema)
    return finished(**final.model_dump(), cut=list(dict.fromkeys(cut)))
