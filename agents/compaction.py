"""Compaction: fold older turns into a summary when a session nears the context limit."""

from __future__ import annotations

from gemloom import messages as msg
from gemloom.llm import LLM

SUMMARY_PREFIX = "[Summary of the earlier conversation]"
SUMMARY_PROMPT = (
    "Summarise the conversation above for your own later use: the user's goals, facts learned, "
    "files and tool results that matter, decisions made and what is still open. Be concise and "
    "keep names, paths and numbers exact."
)


def split_point(messages: list[msg.Message], keep_turns: int) -> int:
    """Index where the last `keep_turns` user turns begin (never inside a tool exchange)."""
    starts = [i for i, m in enumerate(messages) if m["role"] == "user"]
    if len(starts) <= keep_turns:
        return 0
    return starts[-keep_turns]


def needs_compaction(tokens: int, reserve: int, context: int, threshold: float) -> bool:
    """Whether the prompt plus the answer reserve passes `threshold` of the context."""
    return tokens + reserve > threshold * context


def compact(
    llm: LLM, messages: list[msg.Message], keep_turns: int = 1
) -> tuple[list[msg.Message], str, int] | None:
    """New history (system + summary + recent turns), the summary, and how many were folded."""
    head = [m for m in messages[:1] if m["role"] == "system"]
    cut = split_point(messages, keep_turns)
    older = messages[len(head) : cut]
    if not older:
        return None
    transcript = [*head, *older, msg.user(SUMMARY_PROMPT)]
    summary = llm.chat(transcript, think=False).content.strip()
    folded = msg.user(f"{SUMMARY_PREFIX}\n{summary}")
    return [*head, folded, *messages[cut:]], summary, len(older)
