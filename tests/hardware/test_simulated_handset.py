"""The simulated handset: starts on hook, emits only on a real change."""

from __future__ import annotations

import logging

import pytest

from hardware.interfaces import DeviceState, HookEvent, HookState
from hardware.simulated import SimulatedHandset
from kiosk.core.clock import FakeClock


@pytest.fixture
def handset(clock: FakeClock) -> SimulatedHandset:
    h = SimulatedHandset(clock=clock.monotonic)
    h.start()
    return h


def record(handset: SimulatedHandset) -> list[HookEvent]:
    events: list[HookEvent] = []
    handset.subscribe(events.append)
    return events


def test_starts_on_hook(handset: SimulatedHandset) -> None:
    assert handset.hook_state is HookState.ON_HOOK
    assert handset.state is DeviceState.OK


def test_emits_only_on_a_real_change(handset: SimulatedHandset, clock: FakeClock) -> None:
    events = record(handset)
    lifted_at = clock.monotonic()
    assert handset.hang_up() is False  # already resting
    assert handset.lift() is True
    clock.advance(1)
    assert handset.lift() is False  # duplicate report
    assert handset.hook_state is HookState.OFF_HOOK
    assert handset.hang_up() is True
    assert [(e.state, e.at) for e in events] == [
        (HookState.OFF_HOOK, lifted_at),
        (HookState.ON_HOOK, lifted_at + 1),
    ]


def test_toggle_flips_the_hook(handset: SimulatedHandset) -> None:
    events = record(handset)
    handset.toggle()
    assert handset.hook_state is HookState.OFF_HOOK
    handset.toggle()
    assert handset.hook_state is HookState.ON_HOOK
    assert [e.state for e in events] == [HookState.OFF_HOOK, HookState.ON_HOOK]


def test_unsubscribe_stops_events(handset: SimulatedHandset) -> None:
    events: list[HookEvent] = []
    unsubscribe = handset.subscribe(events.append)
    handset.lift()
    unsubscribe()
    handset.hang_up()
    assert [e.state for e in events] == [HookState.OFF_HOOK]


def test_raising_listener_is_logged_and_others_still_hear(
    handset: SimulatedHandset, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: HookEvent) -> None:
        raise KeyError("boom")

    events = []
    handset.subscribe(broken)
    handset.subscribe(events.append)
    with caplog.at_level(logging.ERROR):
        handset.lift()
    assert len(events) == 1
    assert "broken" in caplog.text
    assert "KeyError" in caplog.text


def test_listener_may_unsubscribe_itself_while_called(handset: SimulatedHandset) -> None:
    calls: list[HookEvent] = []
    others: list[HookEvent] = []

    def once(event: HookEvent) -> None:
        calls.append(event)
        unsubscribe()

    unsubscribe = handset.subscribe(once)
    handset.subscribe(others.append)
    handset.lift()
    handset.hang_up()
    assert len(calls) == 1
    assert len(others) == 2


def test_stopped_handset_keeps_its_position_but_emits_nothing(
    handset: SimulatedHandset,
) -> None:
    events = record(handset)
    handset.stop()
    assert handset.state is DeviceState.MISSING
    handset.lift()
    assert handset.hook_state is HookState.OFF_HOOK
    assert events == []


def test_an_unplugged_handset_is_missing_and_reports_no_hook_changes() -> None:
    from hardware.interfaces import DeviceState
    from hardware.simulated import SimulatedHandset

    handset = SimulatedHandset()
    events = []
    handset.subscribe(events.append)
    handset.start()
    handset.unplug()
    assert handset.state is DeviceState.MISSING
    handset.lift()  # physical: the hook moves, but nothing reaches the kiosk
    assert events == []
    handset.replug()
    assert handset.state is DeviceState.OK
    handset.hang_up()
    assert [e.state.value for e in events] == ["on_hook"]
