"""The one wait of the tests: it returns what it waited for, or fails saying what that was."""

from __future__ import annotations

import asyncio

import pytest

from tests.waiting import until, wait_until


def test_returns_what_the_condition_gave_once_it_holds() -> None:
    polls = iter([None, [], ["frame"]])
    assert wait_until(lambda: next(polls), 1.0) == ["frame"]


def test_a_timeout_names_the_awaited_thing_as_written() -> None:
    events: list[str] = []
    with pytest.raises(AssertionError, match=r"^timed out after 0.05 s waiting for lambda: "):
        wait_until(lambda: len(events) == 2, 0.05)
    with pytest.raises(AssertionError) as failed:
        wait_until(lambda: len(events) == 2, 0.05)
    assert str(failed.value).endswith("lambda: len(events) == 2")


def test_a_timeout_says_what_was_awaited_when_told() -> None:
    events: list[str] = []
    with pytest.raises(AssertionError, match=r"waiting for the badge event \(0 so far\)$"):
        wait_until(bool, 0.05, lambda: f"the badge event ({len(events)} so far)")
    with pytest.raises(AssertionError, match=r"waiting for the earpiece open$"):
        wait_until(lambda: False, 0.05, "the earpiece open")


def test_the_async_twin_lets_the_loop_run_while_it_waits() -> None:
    async def scenario() -> str:
        done: list[str] = []
        asyncio.get_running_loop().call_later(0.05, done.append, "rang")
        return (await until(lambda: done, 2.0))[0]

    assert asyncio.run(scenario()) == "rang"

    async def never() -> None:
        await until(lambda: False, 0.05, "a bell that never rings")

    with pytest.raises(AssertionError, match="waiting for a bell that never rings"):
        asyncio.run(never())
