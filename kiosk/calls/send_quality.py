"""How much picture the kiosk can afford to send: when encoding takes most of the time, the
picture gets smaller, then comes less often, and the voice keeps its share of the processor.

The rule is libwebrtc's CPU-overuse detector's: the share of each second the sender spends
encoding and sending frames. Over 85 % for two seconds running, one step down; under 42 % for
long enough, one step back up. The wait before going up doubles each time a step up had to be
taken back within a short while, so a kiosk near its limit does not keep switching.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

OVERUSE, UNDERUSE = 0.85, 0.42
CHECK_EVERY_S = 1.0
OVERUSED_CHECKS = 2  # checks in a row over OVERUSE before a step down
UP_AFTER_S, UP_AFTER_MAX_S = 10.0, 80.0
FAILED_UP_WITHIN_S = 20.0  # a step down this soon after a step up: the step up failed


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: the share of the camera's size, and of the frame rate."""

    scale: float
    rate: float


LADDER = (Step(1.0, 1.0), Step(0.75, 1.0), Step(0.5, 1.0), Step(0.5, 0.5), Step(0.5, 1 / 3))


class SendQuality:
    """Told how long each frame kept the sender busy; says the size and rate to send at."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.level = 0
        self.usage = 0.0  # the share of the last check's second spent on frames
        self.changes = 0
        # The share of the camera's size the line's rate carries (kiosk.calls.send_rate).
        self.line_scale = 1.0
        self._bucket_start = clock()
        self._busy = 0.0
        self._over = 0
        self._under_since: float | None = None
        self._up_after_s = UP_AFTER_S
        self._went_up_at: float | None = None

    @property
    def step(self) -> Step:
        return LADDER[self.level]

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The size to send a ``width`` × ``height`` picture at (even sides, as codecs want):
        the smaller of what the processor and the line allow."""
        scale = min(self.step.scale, self.line_scale)
        if scale >= 1.0:
            return width, height
        return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)

    def fit_line(self, scale: float) -> None:
        """The line's rate carries pictures of ``scale`` times the camera's size at most."""
        if scale != self.line_scale:
            log.info("the line carries %.0f%% of the camera's size", scale * 100)
            self.line_scale = scale

    def busy(self, seconds: float) -> None:
        """One frame kept the sender busy ``seconds`` (encoding it and sending it)."""
        self._busy += max(0.0, seconds)
        now = self._clock()
        elapsed = now - self._bucket_start
        if elapsed >= CHECK_EVERY_S:
            self.usage = min(self._busy / elapsed, 1.0)
            self._busy, self._bucket_start = 0.0, now
            self._check(now)

    def _check(self, now: float) -> None:
        if self.usage > OVERUSE:
            self._under_since = None
            self._over += 1
            if self._over >= OVERUSED_CHECKS and self.level < len(LADDER) - 1:
                if self._went_up_at is not None and now - self._went_up_at < FAILED_UP_WITHIN_S:
                    self._up_after_s = min(self._up_after_s * 2, UP_AFTER_MAX_S)
                self._move(+1, now)
            return
        self._over = 0
        if self.usage >= UNDERUSE:
            self._under_since = None
            return
        if self._under_since is None:
            self._under_since = now
        elif now - self._under_since >= self._up_after_s and self.level > 0:
            self._move(-1, now)
            self._went_up_at = now

    def _move(self, direction: int, now: float) -> None:
        self.level += direction
        self.changes += 1
        self._over, self._under_since = 0, None
        step = self.step
        log.info(
            "sending at %.0f%% of the camera's size and %.0f%% of its rate: "
            "frames took %.0f%% of the time",
            step.scale * 100,
            step.rate * 100,
            self.usage * 100,
        )
