"""How many bits a second the kiosk's picture may take, so that a slow line carries all of it.

Two signals, as in libwebrtc's send-side estimate. The other side's estimate of what reaches it
(REMB, from the delay of its packets) is a ceiling, down to 150 kbit/s. The share of packets
lost, from each of its receiver reports, moves a second one: over 10 % lost, the rate sent is
cut by half the share lost; under 2 %, this ceiling rises 8 % at most once a second; in between,
it stays. The picture takes the lower of the two.

The size sent follows the rate: a 640x480 picture at a third of a megabit is a blur of blocks,
and its keyframes take a slow line most of a second; 320x240 at the same rate is sharp, and
its keyframes a quarter of that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

START_BPS = 500_000
MIN_BPS, MAX_BPS = 100_000, 1_500_000
# The other side's estimate rises slowly from a low rate (it is at most half again what reaches
# it, and nothing probes for more): below this, only losses, which are certain, take the rate.
ESTIMATE_FLOOR_BPS = 150_000
LOSS_HIGH, LOSS_LOW = 0.10, 0.02
GROWTH = 1.08
GROW_EVERY_S = 1.0
CUT_EVERY_S = 0.3  # a cut waits this long after the last, so one loss is not counted twice
# The share of the camera's size each rate carries well (the lowest rate for each, from the
# top), and how far over its floor the rate must climb before the size goes back up: each
# change of size costs a keyframe.
SIZES = ((450_000, 1.0), (250_000, 0.75), (0, 0.5))
SIZE_UP_MARGIN = 1.2
SIZE_UP_AFTER_S = 4.0


class SendRate:
    """Told the other side's estimates and losses; says the rate and size to send at."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.loss_bps = START_BPS
        self.estimate_bps: int | None = None
        self.cuts = 0
        self.reports = 0  # receiver reports heard
        self._cut_at = float("-inf")
        self._grown_at = float("-inf")
        self._scale = 1.0
        self._scaled_at = float("-inf")

    @property
    def target_bps(self) -> int:
        """What the picture may take now: the lower of the two ceilings."""
        ceiling = self.loss_bps
        if self.estimate_bps is not None:
            ceiling = min(ceiling, self.estimate_bps)
        return max(MIN_BPS, min(ceiling, MAX_BPS))

    def estimated(self, bps: int) -> None:
        """The other side's estimate of what reaches it (REMB)."""
        self.estimate_bps = max(ESTIMATE_FLOOR_BPS, int(bps))

    def lost(self, fraction: float) -> None:
        """A receiver report: the share (0 to 1) of the packets sent since the last one lost."""
        now = self._clock()
        self.reports += 1
        if fraction > LOSS_HIGH:
            if now - self._cut_at >= CUT_EVERY_S:
                before = self.target_bps
                self.loss_bps = max(MIN_BPS, round(before * (1 - fraction / 2)))
                self._cut_at, self.cuts = now, self.cuts + 1
                log.info(
                    "%.0f%% of the picture's packets lost: sending at %d instead of %d kbit/s",
                    fraction * 100,
                    self.loss_bps // 1000,
                    before // 1000,
                )
        elif fraction < LOSS_LOW and now - self._grown_at >= GROW_EVERY_S:
            self.loss_bps = min(MAX_BPS, round(self.loss_bps * GROWTH) + 1000)
            self._grown_at = now

    @property
    def scale(self) -> float:
        """The share of the camera's size to send at this rate: down at once, up only with a
        margin and a while after the last change (each change of size costs a keyframe)."""
        target, now = self.target_bps, self._clock()
        for floor, scale in SIZES:
            if scale <= self._scale and target >= floor:
                break
            if (
                scale > self._scale
                and target >= floor * SIZE_UP_MARGIN
                and now - self._scaled_at >= SIZE_UP_AFTER_S
            ):
                break
        else:
            return self._scale
        if scale != self._scale:
            self._scale, self._scaled_at = scale, now
        return self._scale
