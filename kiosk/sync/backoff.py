"""Reconnect delays: exponential, capped, with full jitter.

paho's own reconnect delay has no jitter: after a broker restart every kiosk of a fleet would
come back in the same instant. Full jitter (a uniform draw between 0 and the exponential
ceiling) spreads them out; see the contract's "reconnect" row.
"""

from __future__ import annotations

import random

from kiosk.contract.connection import RECONNECT_BASE_S, RECONNECT_CAP_S


class Backoff:
    def __init__(
        self,
        base_s: float = RECONNECT_BASE_S,
        cap_s: float = RECONNECT_CAP_S,
        rng: random.Random | None = None,
    ):
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()
        self._attempt = 0

    def ceiling(self) -> float:
        """The upper bound of the next delay: base doubling per failure, at most cap."""
        return min(self.cap_s, self.base_s * 2 ** min(self._attempt, 32))

    def next_delay(self) -> float:
        delay = self._rng.uniform(0, self.ceiling())
        self._attempt += 1
        return delay

    def reset(self) -> None:
        """A connection was made: the next failure starts again from ``base_s``."""
        self._attempt = 0
