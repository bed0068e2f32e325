"""Waiting in tests for something to happen: one poll loop, sync and async, that fails saying
what it waited for.

``what`` names the awaited thing in the failure; without it, the condition's own source text
(``lambda: len(events) == 2``) is shown, so a failure always says what never happened.
"""

from __future__ import annotations

import asyncio
import linecache
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

Described = str | Callable[[], str] | None

POLL_S = 0.01  # short next to any timeout here; long enough not to starve the code under test


def wait_until(
    condition: Callable[[], T], timeout: float, what: Described = None, *, every: float = POLL_S
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that; fail once
    ``timeout`` seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(_timed_out(condition, timeout, what))
        time.sleep(every)


async def until(
    condition: Callable[[], T], timeout: float, what: Described = None, *, every: float = POLL_S
) -> T:
    """:func:`wait_until` for a coroutine: the event loop runs on while it polls."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(_timed_out(condition, timeout, what))
        await asyncio.sleep(every)


def _timed_out(condition: Callable[[], object], timeout: float, what: Described) -> str:
    described = what() if callable(what) else what
    return f"timed out after {timeout:g} s waiting for {described or _source_of(condition)}"


def _source_of(condition: Callable[[], object]) -> str:
    """``condition`` as written in the test: a lambda's text, or a function's name."""
    name = getattr(condition, "__name__", "")
    code = getattr(condition, "__code__", None)
    if name != "<lambda>" or code is None:
        return name or repr(condition)
    # The lambda's body spans from its first instruction's position to its last one's.
    spans = [
        (line, col, end_line, end_col)
        for line, end_line, col, end_col in code.co_positions()
        if None not in (line, end_line, col, end_col) and (col, end_col) != (0, 0)
    ]
    if not spans:
        return repr(condition)
    first_line, first_col = min((line, col) for line, col, _, _ in spans)
    last_line, last_col = max((end_line, end_col) for _, _, end_line, end_col in spans)
    lines = [
        linecache.getline(code.co_filename, n).encode()  # positions count UTF-8 bytes
        for n in range(first_line, last_line + 1)
    ]
    if not all(lines):
        return repr(condition)
    lines[-1] = lines[-1][:last_col]
    lines[0] = lines[0][first_col:]
    body = b" ".join(lines).decode(errors="replace")
    return "lambda: " + " ".join(body.split())
