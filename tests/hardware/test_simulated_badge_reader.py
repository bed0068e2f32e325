"""The simulated badge reader: debounce on a fake clock, subscriptions, and no badge in logs."""

from __future__ import annotations

import logging

import pytest

from hardware.interfaces import BadgeEvent, DeviceState
from hardware.simulated import SimulatedBadgeReader
from kiosk.core.clock import FakeClock

BADGE = "04A1B2C3D4"
OTHER = "123:45678"


@pytest.fixture
def reader(clock: FakeClock) -> SimulatedBadgeReader:
    r = SimulatedBadgeReader(clock=clock.monotonic)
    r.start()
    return r


def record(reader: SimulatedBadgeReader) -> list[BadgeEvent]:
    events: list[BadgeEvent] = []
    reader.subscribe(events.append)
    return events


def test_present_emits_a_badge_event(reader: SimulatedBadgeReader, clock: FakeClock) -> None:
    events = record(reader)
    assert reader.present(BADGE) is True
    assert [(e.badge_id, e.at) for e in events] == [(BADGE, clock.monotonic())]
    assert reader.state is DeviceState.OK


def test_same_badge_twice_within_two_seconds_counts_once(
    reader: SimulatedBadgeReader, clock: FakeClock
) -> None:
    events = record(reader)
    reader.present(BADGE)
    clock.advance(1.9)
    assert reader.present(BADGE) is False
    assert len(events) == 1


def test_same_badge_after_two_seconds_counts_twice(
    reader: SimulatedBadgeReader, clock: FakeClock
) -> None:
    events = record(reader)
    first = clock.monotonic()
    reader.present(BADGE)
    clock.advance(2.0)
    assert reader.present(BADGE) is True
    assert [e.at for e in events] == [first, first + 2.0]


def test_another_badge_is_not_debounced(reader: SimulatedBadgeReader, clock: FakeClock) -> None:
    events = record(reader)
    reader.present(BADGE)
    clock.advance(0.1)
    reader.present(OTHER)
    assert [e.badge_id for e in events] == [BADGE, OTHER]


def test_unsubscribe_stops_events(reader: SimulatedBadgeReader, clock: FakeClock) -> None:
    kept: list[BadgeEvent] = []
    dropped: list[BadgeEvent] = []
    reader.subscribe(kept.append)
    unsubscribe = reader.subscribe(dropped.append)
    reader.present(BADGE)
    unsubscribe()
    unsubscribe()  # twice is harmless
    clock.advance(5)
    reader.present(BADGE)
    assert len(kept) == 2
    assert len(dropped) == 1


def test_raising_listener_does_not_break_others_nor_leak_the_badge(
    reader: SimulatedBadgeReader, caplog: pytest.LogCaptureFixture
) -> None:
    def choke(event: BadgeEvent) -> None:
        raise RuntimeError(f"listener choked on {event.badge_id}")

    events: list[BadgeEvent] = []
    reader.subscribe(choke)
    reader.subscribe(events.append)
    with caplog.at_level(logging.DEBUG):
        reader.present(BADGE)

    assert [e.badge_id for e in events] == [BADGE]
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures, "the failing listener was not logged"
    assert "RuntimeError" in caplog.text
    assert "choke" in caplog.text
    assert BADGE not in caplog.text
    for r in caplog.records:
        assert BADGE not in r.getMessage()
        assert BADGE not in (r.exc_text or "")
        assert r.exc_info is None or BADGE not in str(r.exc_info[1])


def test_event_repr_hides_the_badge(reader: SimulatedBadgeReader) -> None:
    events = record(reader)
    reader.present(BADGE)
    assert BADGE not in repr(events[0])


def test_stopped_reader_emits_nothing(reader: SimulatedBadgeReader, clock: FakeClock) -> None:
    events = record(reader)
    reader.stop()
    assert reader.state is DeviceState.MISSING
    assert reader.present(BADGE) is False
    reader.start()
    assert reader.present(BADGE) is True  # the read while stopped did not arm the debounce
    assert len(events) == 1


def test_rejects_an_empty_badge(reader: SimulatedBadgeReader) -> None:
    with pytest.raises(ValueError):
        reader.present("")


def test_an_unplugged_reader_is_missing_and_reads_nothing_until_it_returns() -> None:
    from hardware.interfaces import DeviceState
    from hardware.simulated import SimulatedBadgeReader

    reader = SimulatedBadgeReader()
    events = []
    reader.subscribe(events.append)
    reader.start()
    reader.unplug()
    assert reader.state is DeviceState.MISSING
    assert not reader.present("04A1B2C3D4") and events == []
    reader.replug()
    assert reader.state is DeviceState.OK
    assert reader.present("04A1B2C3D4") and len(events) == 1
