"""The handset's hook switch, fed recorded evdev captures through a stand-in event node.

The handset's own code runs whole (thread, select, debounce, reopen); only the kernel's event
node is replaced by :mod:`tests.hardware.recordings`' player, as there is no uinput here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import evdev
import pytest
from evdev import ecodes

from hardware.evdev_handset import DEFAULT_HOOK_CODES, EvdevHandset, HandsetStats
from hardware.interfaces import DeviceState, HookEvent, HookState
from tests.hardware import recordings as rec
from tests.hardware.recordings import Bus, Node
from tests.waiting import wait_until

PATH = "/dev/kiosk-handset"
OFF, ON = HookState.OFF_HOOK, HookState.ON_HOOK


class Ticks:
    """A clock that moves on by one second each time it is read: events get distinct times.

    Not ``kiosk.core.clock.FakeClock``: that one moves only when the test moves it, and the
    test cannot step in between two events the handset's own thread reads."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def handset_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("handset")]


def states(events: list[HookEvent]) -> list[HookState]:
    return [e.state for e in events]


@pytest.fixture
def node(bus: Bus) -> Node:
    return bus.add(PATH, rec.HANDSET)


@pytest.fixture
def make_handset(bus: Bus) -> Iterator[Callable[..., tuple[EvdevHandset, list[HookEvent]]]]:
    built: list[EvdevHandset] = []

    def make(
        device: str = PATH, start: bool = True, **kwargs: Any
    ) -> tuple[EvdevHandset, list[HookEvent]]:
        kwargs.setdefault("open_device", bus.open)
        handset = EvdevHandset(device, **kwargs)
        built.append(handset)
        events: list[HookEvent] = []
        handset.subscribe(events.append)
        if start:
            handset.start()
            wait_until(lambda: handset.state is DeviceState.OK, 3.0)
        return handset, events

    yield make
    for handset in built:
        handset.stop()
    assert handset_threads() == []
    assert all(h.closed for h in bus.handles())


# -- the hook ---------------------------------------------------------------------------------


def test_lifted_and_put_back_through_bounces_and_a_knock(make_handset, node: Node) -> None:
    clock = Ticks()
    handset, events = make_handset(clock=clock)
    assert handset.hook_state is ON  # resting in its cradle until told otherwise
    node.play(rec.HANDSET_CALL)
    wait_until(lambda: len(events) == 2, 3.0)
    wait_until(node.all_read, 3.0)
    time.sleep(0.1)  # twice the debounce time, in real time: nothing more comes of the bounces
    assert states(events) == [OFF, ON]
    assert [e.at for e in events] == [1001.0, 1002.0]
    assert handset.hook_state is ON
    # Two bounces (lifting, hanging up) and a knock; the held key's autorepeat is no change.
    assert handset.stats == HandsetStats(changes=2, bounces=3)


def test_a_knock_while_lifted_hangs_up_nothing(make_handset, node: Node) -> None:
    handset, events = make_handset()
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: handset.hook_state is OFF, 3.0)
    node.play(rec.HANDSET_KNOCK, after_s=1.5)
    wait_until(lambda: handset.stats.bounces == 2, 3.0)
    wait_until(node.all_read, 3.0)
    time.sleep(0.1)  # longer than the debounce time: the knock did not hold
    assert states(events) == [OFF]
    assert handset.hook_state is OFF


def test_duplicate_reports_are_ignored(make_handset, node: Node) -> None:
    handset, events = make_handset()
    node.play(rec.HANDSET_DUPLICATES)
    wait_until(lambda: len(events) == 2, 3.0)
    wait_until(node.all_read, 3.0)
    time.sleep(0.1)  # twice the debounce time, in real time: no third change holds
    assert states(events) == [OFF, ON]
    assert handset.stats.duplicates == 2


def test_toggle_mode(make_handset, node: Node) -> None:
    handset, events = make_handset(mode="toggle")
    node.play(rec.HANDSET_TOGGLE)
    wait_until(lambda: len(events) == 2, 3.0)
    wait_until(node.all_read, 3.0)
    time.sleep(0.1)  # twice the debounce time, in real time: no third change holds
    assert states(events) == [OFF, ON]  # the bouncing second press flipped it once
    assert handset.stats.bounces == 1
    assert handset.hook_state is ON


def test_without_debounce_every_change_counts(make_handset, node: Node) -> None:
    _handset, events = make_handset(debounce_s=0)
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: len(events) == 3, 3.0)
    assert states(events) == [OFF, ON, OFF]


def test_only_the_configured_codes_are_watched(make_handset, node: Node) -> None:
    handset, events = make_handset(codes=["KEY_MUTE"])
    assert handset.codes == frozenset({ecodes.KEY_MUTE})
    node.play(rec.HANDSET_CALL)
    wait_until(node.all_read, 3.0)
    time.sleep(0.1)  # twice the debounce time, in real time: no change of another key holds
    assert events == []
    assert handset.hook_state is ON


def test_default_codes() -> None:
    assert ecodes.KEY_PHONE in DEFAULT_HOOK_CODES
    assert {ecodes.KEY_PICKUP_PHONE, ecodes.KEY_HANGUP_PHONE} <= set(DEFAULT_HOOK_CODES)
    handset = EvdevHandset(PATH, codes=[ecodes.KEY_PHONE, "KEY_MUTE"])
    assert handset.codes == frozenset({ecodes.KEY_PHONE, ecodes.KEY_MUTE})


# -- hot-plug ---------------------------------------------------------------------------------


def test_unplugged_while_lifted_ends_nothing(make_handset, node: Node) -> None:
    handset, events = make_handset()
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: handset.hook_state is OFF, 3.0)
    node.unplug()
    wait_until(lambda: handset.state is DeviceState.MISSING, 3.0)
    assert handset.detail == f"disconnected: {PATH}"
    assert handset.hook_state is OFF
    assert states(events) == [OFF]
    assert node.handles[0].closed

    node.plug()
    wait_until(lambda: handset.state is DeviceState.OK, 3.0)
    assert handset.detail == f"open: {PATH}"
    assert handset.hook_state is OFF  # still lifted: the kernel's key state is not trusted
    node.play(rec.HANDSET_HANG_UP)
    wait_until(lambda: len(events) == 2, 3.0)
    assert states(events) == [OFF, ON]
    assert handset.stats.reconnects == 1


def test_a_change_still_bouncing_when_pulled_is_not_taken(make_handset, node: Node) -> None:
    handset, events = make_handset()
    node.play(rec.HANDSET_LIFT.until_key(1).pulled())
    wait_until(lambda: handset.state is DeviceState.MISSING, 3.0)
    time.sleep(0.1)  # twice the debounce time, in real time: the bouncing change never holds
    assert events == []
    assert handset.hook_state is ON


def test_found_by_vendor_and_product(
    make_handset, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus.add("/dev/input/event3", rec.WEDGE_READER)
    node = bus.add("/dev/input/event7", rec.HANDSET)
    monkeypatch.setattr(evdev, "list_devices", bus.list_devices)
    handset, events = make_handset("1209:0001")
    assert handset.detail == "open: 1209:0001 at /dev/input/event7"
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: len(events) == 1, 3.0)


def test_handset_plugged_in_after_start(make_handset, bus: Bus) -> None:
    node = bus.add(PATH, rec.HANDSET, plugged=False)
    handset, events = make_handset(start=False)
    handset.start()
    wait_until(lambda: handset.detail == f"not found: {PATH}", 3.0)
    assert handset.state is DeviceState.MISSING
    node.plug()
    wait_until(lambda: handset.state is DeviceState.OK, 3.0)
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: len(events) == 1, 3.0)
    assert handset.stats.reconnects == 0


# -- the rest of the interface ----------------------------------------------------------------


def test_is_grabbed_and_stops_promptly(make_handset, node: Node) -> None:
    handset, _ = make_handset()
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: handset.hook_state is OFF, 3.0)
    began = time.monotonic()
    handset.stop()
    assert time.monotonic() - began < 0.5
    assert handset_threads() == []
    handle = node.handles[0]
    assert handle.calls[0] == "grab"  # its hook keys reach no other program
    assert handle.calls[-2:] == ["ungrab", "close"]
    assert handset.state is DeviceState.MISSING
    assert handset.detail == f"stopped: {PATH}"
    assert handset.hook_state is OFF  # stopping reads nothing into the hook


def test_play_tone_is_recorded(make_handset, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hardware.evdev_handset")
    handset, _ = make_handset(start=False)
    handset.play_tone("warning")
    handset.play_tone("warning")
    assert handset.tones == ("warning", "warning")
    assert [r.levelno for r in caplog.records if "tone" in r.getMessage()] == [logging.DEBUG] * 2


def test_raising_listener_is_logged_and_reading_goes_on(
    make_handset, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    def choke(event: HookEvent) -> None:
        raise RuntimeError("listener choked")

    handset, events = make_handset()
    handset.subscribe(choke)
    node.play(rec.HANDSET_CALL)
    wait_until(lambda: len(events) == 2, 3.0)
    assert "RuntimeError" in caplog.text
    assert handset.state is DeviceState.OK


def test_events_come_on_the_handset_thread_and_unsubscribe(make_handset, node: Node) -> None:
    handset, events = make_handset()
    threads: list[str] = []
    unsubscribe = handset.subscribe(lambda e: threads.append(threading.current_thread().name))
    node.play(rec.HANDSET_LIFT)
    wait_until(lambda: len(threads) == 1, 3.0)
    assert threads == [f"handset {PATH}"]
    unsubscribe()
    node.play(rec.HANDSET_HANG_UP)
    wait_until(lambda: len(events) == 2, 3.0)
    assert len(threads) == 1


def test_building_opens_nothing(make_handset, node: Node) -> None:
    handset, _ = make_handset(start=False)
    assert handset_threads() == []
    assert node.handles == []
    assert handset.state is DeviceState.MISSING
    assert handset.hook_state is ON


@pytest.mark.parametrize(
    ("device", "kwargs"),
    [
        (PATH, {"mode": "momentary"}),
        (PATH, {"debounce_s": -0.01}),
        (PATH, {"codes": ["KEY_NOPE"]}),
        (PATH, {"codes": ["EV_KEY"]}),
        (PATH, {"codes": []}),
        (PATH, {"codes": [True]}),
        ("", {}),
        ("1209:1", {}),
    ],
)
def test_rejects_bad_settings(device: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="handset"):
        EvdevHandset(device, **kwargs)
