"""Helpers for Textual pilot tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds (instead of bare pauses)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


async def ready(pilot) -> None:
    """Wait until the app knows whether the model answers (or shows why not)."""
    await wait_until(
        pilot, lambda: pilot.app.model_ok or pilot.app.query_one("#banner").has_class("shown")
    )


async def say(pilot, text: str) -> None:
    """Type a message into the prompt and press Enter."""
    pilot.app.query_one("#prompt").value = text
    pilot.app.query_one("#prompt").focus()
    await pilot.press("enter")


def answers(app) -> list[str]:
    """The assistant answers on screen."""
    from gemloom.workflows.tui.chat import AssistantMessage

    return [m.text for m in app.query(AssistantMessage)]


async def idle(pilot) -> None:
    """Wait until no agent turn or background worker runs."""
    await wait_until(pilot, lambda: not pilot.app.busy and not pilot.app.workers._workers)


async def approval_shown(pilot) -> None:
    """Wait for the approval dialog and for its type-ahead guard to pass."""
    from gemloom.workflows.tui.approval import ApprovalScreen

    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
    await wait_until(pilot, lambda: pilot.app.screen.armed)


@asynccontextmanager
async def running(app, size: tuple[int, int] = (120, 40)) -> AsyncIterator:
    """Run `app` headless at `size` until it knows whether the model answers; yield the pilot."""
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        yield pilot


def notified(app, text: str) -> bool:
    """Whether a notification (toast) holding `text` was shown."""
    return any(text in n.message for n in app._notifications)


def notes(app, kind: str = "") -> list[str]:
    """The lines in the chat that say why a turn ended (or what happened), of one kind or all."""
    from gemloom.workflows.tui.chat import TurnNote

    return [str(n.render()) for n in app.query(TurnNote) if not kind or n.has_class(kind)]


def user_texts(app) -> list[str]:
    """The person's messages on screen."""
    from gemloom.workflows.tui.chat import UserMessage

    return [str(m.render()) for m in app.query(UserMessage)]


async def streaming(pilot) -> None:
    """Wait until an answer has started to stream."""
    from gemloom.workflows.tui.chat import AssistantMessage

    await wait_until(pilot, lambda: any(m.text for m in pilot.app.query(AssistantMessage)))


def spy_activity(app) -> list[str]:
    """Every line the activity line under the chat shows (it clears itself when work ends)."""
    seen: list[str] = []
    show = app.show_activity

    def record(text: str) -> None:
        seen.append(text)
        show(text)

    app.show_activity = record
    return seen
