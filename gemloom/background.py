"""Work run beside the caller's: a daemon thread whose outcome comes back in a Future."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def in_background(work: Callable[[], T], name: str) -> Future[T]:
    """`work()` started in a daemon thread named `name`: its result, or the exception it
    raised, in the Future. A daemon, so a process that ends meanwhile does not wait for it
    (what it was doing is only ever a head start on work the caller would do itself)."""
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(work())
        except BaseException as exc:  # handed to whoever waits on the Future, raised there
            done.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return done
