"""Helpers for Textual pilot tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds (instead of bare pauses)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
        await asyncio.sleep(0)
