"""in_background: a daemon thread's result or exception, in a Future."""

from __future__ import annotations

import threading

import pytest

from gemloom.background import in_background


def test_the_result_and_the_thread_it_ran_in() -> None:
    ran: list[threading.Thread] = []
    found = in_background(lambda: ran.append(threading.current_thread()) or 42, "gemloom-test")
    assert found.result(timeout=5) == 42
    assert ran[0].name == "gemloom-test" and ran[0].daemon  # a process ending need not wait


def test_an_exception_is_raised_where_the_result_is_wanted() -> None:
    def broken() -> None:
        raise KeyError("gone")

    with pytest.raises(KeyError, match="gone"):
        in_background(broken, "gemloom-test").result(timeout=5)
