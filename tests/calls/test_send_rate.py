"""The picture's rate on the line: cut when the other side reports losses, grown back slowly
when it reports none, never over the other side's own estimate; and the size sent follows."""

from __future__ import annotations

import itertools

from kiosk.calls.send_rate import (
    ESTIMATE_FLOOR_BPS,
    MAX_BPS,
    MIN_BPS,
    SIZE_UP_AFTER_S,
    START_BPS,
    SendRate,
)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def reports(rate: SendRate, clock: Clock, fraction: float, seconds: float) -> None:
    """A receiver report every second, each with ``fraction`` of the packets lost."""
    for _ in range(round(seconds)):
        clock.now += 1.0
        rate.lost(fraction)


def test_heavy_loss_cuts_the_rate_by_half_the_share_lost_until_the_line_carries_it() -> None:
    clock = Clock()
    rate = SendRate(clock=clock)
    assert rate.target_bps == START_BPS
    reports(rate, clock, 0.30, 1)
    assert rate.target_bps == round(START_BPS * 0.85)
    reports(rate, clock, 0.30, 1)
    assert rate.target_bps == round(round(START_BPS * 0.85) * 0.85)
    reports(rate, clock, 0.95, 10)
    assert rate.target_bps == MIN_BPS  # never below what a picture needs at all
    assert rate.cuts == 12


def test_one_loss_reported_twice_in_a_moment_is_cut_once() -> None:
    clock = Clock()
    rate = SendRate(clock=clock)
    rate.lost(0.3)
    clock.now += 0.1
    rate.lost(0.3)
    assert rate.cuts == 1


def test_some_loss_holds_the_rate_and_none_grows_it_eight_percent_a_second() -> None:
    clock = Clock()
    rate = SendRate(clock=clock)
    reports(rate, clock, 0.05, 10)
    assert rate.target_bps == START_BPS  # 2 to 10 %: a lossy line, but not an overfull one
    reports(rate, clock, 0.0, 1)
    grown = rate.target_bps
    assert START_BPS * 1.08 <= grown <= START_BPS * 1.08 + 1000
    clock.now += 0.2
    rate.lost(0.0)  # a second report within the second grows nothing
    assert rate.target_bps == grown
    reports(rate, clock, 0.0, 60)
    assert rate.target_bps == MAX_BPS


def test_the_other_sides_estimate_is_a_ceiling_down_to_a_floor_that_only_losses_pass() -> None:
    clock = Clock()
    rate = SendRate(clock=clock)
    rate.estimated(300_000)
    assert rate.target_bps == 300_000
    reports(rate, clock, 0.0, 30)
    assert rate.target_bps == 300_000  # no loss, but the other side says no more reaches it
    rate.estimated(900_000)
    assert rate.target_bps == 900_000  # and once it says more does, at once
    reports(rate, clock, 0.30, 1)
    assert rate.target_bps == round(900_000 * 0.85)  # a loss cuts what is sent, not a ceiling
    rate.estimated(1_000)
    assert rate.target_bps == ESTIMATE_FLOOR_BPS
    reports(rate, clock, 0.50, 3)
    assert rate.target_bps < ESTIMATE_FLOOR_BPS


def test_the_size_sent_follows_the_rate_and_grows_back_only_with_a_margin() -> None:
    clock = Clock()
    rate = SendRate(clock=clock)
    assert rate.scale == 1.0
    rate.estimated(400_000)
    assert rate.scale == 0.75
    rate.estimated(200_000)
    assert rate.scale == 0.5
    rate.estimated(MAX_BPS)
    assert rate.scale == 0.5  # a moment after the last change of size: not yet
    clock.now += SIZE_UP_AFTER_S
    assert rate.scale == 0.75
    rate.estimated(200_000)
    assert rate.scale == 0.5
    dropped_at = clock.now
    rate.estimated(MAX_BPS)
    climb: list[tuple[float, int, float]] = []
    for _ in range(30):
        reports(rate, clock, 0.0, 1)
        climb.append((clock.now, rate.target_bps, rate.scale))
    # Up only 20 % past the floor of the bigger size, and a while after the last change.
    assert all(scale == 0.5 for _at, bps, scale in climb if bps < 300_000)
    assert all(scale <= 0.75 for _at, bps, scale in climb if bps < 540_000)
    changes = [dropped_at] + [
        at for (at, _b, scale), (_a, _c, was) in zip(climb[1:], climb, strict=False) if scale != was
    ]
    assert all(b - a >= SIZE_UP_AFTER_S for a, b in itertools.pairwise(changes))
    assert climb[-1][2] == 1.0
