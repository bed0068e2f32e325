"""Attempts to leave the kiosk, grouped into sequences: one ``tamper`` event per sequence.

Someone mashing Escape or Alt+F4 presses it many times a second; the cloud needs to know that
somebody tried, how often, and when, not one outbox record per key press. Presses of the same
kind less than :data:`SEQUENCE_GAP_S` apart are one sequence; its first press sends the event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

SEQUENCE_GAP_S = 5.0


class TamperLog:
    """Counts every press (``presses``) and every sequence (``sequences``), per kind."""

    def __init__(
        self, monotonic: Callable[[], float], event: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self._monotonic = monotonic
        self._event = event
        self.presses: Counter[str] = Counter()
        self.sequences: Counter[str] = Counter()
        self._last: dict[str, float] = {}

    def attempt(self, kind: str) -> bool:
        """Count one press; True when it began a new sequence (and its event was sent)."""
        now = self._monotonic()
        self.presses[kind] += 1
        last, self._last[kind] = self._last.get(kind), now
        if last is not None and now - last < SEQUENCE_GAP_S:
            return False
        self.sequences[kind] += 1
        self._event(
            "tamper",
            {"attempt": kind, "count": self.sequences[kind], "presses": self.presses[kind]},
        )
        return True
