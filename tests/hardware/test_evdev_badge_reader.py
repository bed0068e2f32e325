"""The keyboard-wedge badge reader, fed recorded evdev captures through a stand-in event node.

The reader's own code runs whole (thread, select, grab, reopen); only the kernel's event node
is replaced by :mod:`tests.hardware.recordings`' player, as there is no uinput here.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import evdev
import pytest

from hardware.badge_tally import ReaderStats
from hardware.evdev_badge_reader import EvdevBadgeReader
from hardware.interfaces import BadgeEvent, DeviceState
from kiosk.core.clock import FakeClock
from tests.hardware import recordings as rec
from tests.hardware.recordings import Bus, Node
from tests.waiting import wait_until

PATH = "/dev/kiosk-badge"
# Every badge's text, in any spelling or part a log could show: none may reach a log record.
SECRETS = (
    rec.CARD_ID,
    rec.CARD_ID.lower(),
    rec.OTHER_ID,
    rec.KEYPAD_ID,
    rec.H10301_ID,
    rec.H10301_HEX,
    rec.H10301_BAD_PARITY_HEX,
    "5D17E",  # the half card
    "04A2",  # the lost-events card's halves
    "C31F",
)


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("badge-reader")]


def ids(events: list[BadgeEvent]) -> list[str]:
    return [e.badge_id for e in events]


@pytest.fixture(autouse=True)
def no_badge_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in SECRETS:
            assert secret not in text, f"a badge reached the log: {record.getMessage()[:60]}"


@pytest.fixture
def node(bus: Bus) -> Node:
    return bus.add(PATH, rec.WEDGE_READER)


@pytest.fixture
def make_reader(bus: Bus) -> Iterator[Callable[..., tuple[EvdevBadgeReader, list[BadgeEvent]]]]:
    built: list[EvdevBadgeReader] = []

    def make(
        device: str = PATH, start: bool = True, **kwargs: Any
    ) -> tuple[EvdevBadgeReader, list[BadgeEvent]]:
        kwargs.setdefault("open_device", bus.open)
        reader = EvdevBadgeReader(device, **kwargs)
        built.append(reader)
        events: list[BadgeEvent] = []
        reader.subscribe(events.append)
        if start:
            reader.start()
            wait_until(lambda: reader.state is DeviceState.OK, 3.0)
        return reader, events

    yield make
    for reader in built:
        reader.stop()
    assert reader_threads() == []
    assert all(h.closed for h in bus.handles())


# -- cards ------------------------------------------------------------------------------------


def test_reads_a_typed_card(make_reader, node: Node, clock: FakeClock) -> None:
    reader, events = make_reader(clock=clock.monotonic)
    assert reader.detail == f"open: {PATH}"
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.CARD_ID]
    assert events[0].at == clock.monotonic()
    assert reader.stats == ReaderStats(badges=1)


def test_grabs_before_reading_and_releases_on_stop(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    handle = node.handles[0]
    assert handle.calls[0] == "grab"  # before the first read: no digit escapes to the UI
    assert "read" in handle.calls
    began = time.monotonic()
    reader.stop()
    assert time.monotonic() - began < 0.5
    assert handle.calls[-2:] == ["ungrab", "close"]
    assert reader.state is DeviceState.MISSING
    assert reader.detail == f"stopped: {PATH}"
    assert reader_threads() == []


def test_keypad_digits_and_a_held_key(make_reader, node: Node) -> None:
    _reader, events = make_reader()
    node.play(rec.KEYPAD_CARD)  # the autorepeat of the held key types nothing more
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.KEYPAD_ID]


def test_a_burst_of_two_cards(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.BURST)
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [rec.CARD_ID, rec.OTHER_ID]
    assert reader.stats.bad_frames == 0


def test_h10301_cards(make_reader, node: Node) -> None:
    reader, events = make_reader(card_format="h10301")
    node.play(rec.H10301_BAD_PARITY)
    node.play(rec.H10301_CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.H10301_ID]
    assert reader.stats.bad_frames == 1


def test_auto_reads_uids_and_h10301(make_reader, node: Node) -> None:
    _reader, events = make_reader(card_format="auto")
    node.play(rec.CARD)
    node.play(rec.H10301_CARD)
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [rec.CARD_ID, rec.H10301_ID]


def test_a_card_of_another_format_is_bad_and_warned_once(
    make_reader, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    reader, events = make_reader(card_format="raw")
    node.play(rec.H10301_CARD)  # 7 hex digits: not a UID of whole bytes
    node.play(rec.H10301_CARD)
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert reader.stats.bad_frames == 2
    ignored = [r for r in caplog.records if "ignored a card" in r.getMessage()]
    assert [r.levelno for r in ignored] == [logging.WARNING, logging.DEBUG]


# -- half-read cards --------------------------------------------------------------------------


def test_half_card_then_a_pause_never_joins_the_next(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.HALF_THEN_CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.CARD_ID]
    assert reader.stats.dropped_partials == 1
    assert reader.stats.bad_frames == 0


def test_half_card_alone_is_dropped_once_the_keys_stop(make_reader, node: Node) -> None:
    reader, events = make_reader(inter_key_timeout=0.1)
    node.play(rec.HALF_CARD)
    wait_until(lambda: reader.stats.dropped_partials == 1, 3.0)
    node.play(rec.CARD, after_s=0.05)  # sooner than the timeout, in the recordings' time
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.CARD_ID]
    assert reader.stats.dropped_partials == 1


def test_lost_events_drop_the_card_being_read(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.CARD_WITH_LOST_EVENTS)  # what follows the loss is no card of its own
    node.play(rec.OTHER, after_s=0.5)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.OTHER_ID]
    assert reader.stats.dropped_partials == 1
    assert reader.stats.bad_frames == 0


# -- repeats ----------------------------------------------------------------------------------


def test_same_card_300ms_apart_counts_once(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.CARD_TWICE_300MS)
    wait_until(lambda: reader.stats.repeats == 1, 3.0)
    assert ids(events) == [rec.CARD_ID]


def test_same_card_2500ms_apart_counts_twice(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.CARD_TWICE_2500MS)
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [rec.CARD_ID, rec.CARD_ID]
    assert reader.stats.repeats == 0


def test_the_repeat_window_is_the_keys_time_not_the_listeners(make_reader, node: Node) -> None:
    reader, events = make_reader(repeat_window_s=0.2)
    # A listener busy for longer than the window must not turn a re-read into a new badge.
    reader.subscribe(lambda e: time.sleep(0.3))
    node.play(rec.CARD)
    node.play(rec.CARD, after_s=0.1)  # typed again 0.14 s after the first Enter
    wait_until(lambda: reader.stats.repeats == 1, 3.0)
    assert len(events) == 1


# -- hot-plug ---------------------------------------------------------------------------------


def test_pulled_mid_read_goes_missing_and_comes_back(make_reader, node: Node) -> None:
    reader, events = make_reader()
    node.play(rec.CARD_PULLED_MID_READ)
    wait_until(lambda: reader.state is DeviceState.MISSING, 3.0)
    assert reader.detail == f"disconnected: {PATH}"
    first = node.handles[0]
    assert first.closed
    wait_until(lambda: reader.detail == f"not found: {PATH}", 3.0)  # it tried to reopen
    assert reader.state is DeviceState.MISSING

    node.plug()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    second = node.handles[-1]
    assert second is not first
    assert second.calls[0] == "grab"  # grabbed again before anything is read
    node.play(rec.OTHER)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.OTHER_ID]  # the first card's half did not join it
    assert reader.stats == ReaderStats(badges=1, dropped_partials=1, reconnects=1)


def test_reader_plugged_in_after_start(make_reader, bus: Bus) -> None:
    node = bus.add(PATH, rec.WEDGE_READER, plugged=False)
    reader, events = make_reader(start=False)
    reader.start()
    wait_until(lambda: reader.detail == f"not found: {PATH}", 3.0)
    assert reader.state is DeviceState.MISSING
    node.plug()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert reader.stats.reconnects == 0  # the first open is not a reconnect


def test_opening_backs_off(bus: Bus) -> None:
    attempts: list[float] = []

    def absent(path: str) -> Any:
        attempts.append(time.monotonic())
        return bus.open(path)  # nothing there

    reader = EvdevBadgeReader(PATH, open_device=absent)
    reader.start()
    wait_until(lambda: len(attempts) == 3, 3.0)  # at 0, 0.5 and 1.5 s
    reader.stop()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 0.45 < gaps[0] < 0.9
    assert 0.95 < gaps[1] < 1.4
    assert reader_threads() == []  # the thread that tries is gone: stopped means no more tries
    assert len(attempts) == 3


def test_grabbed_by_another_program_is_an_error(make_reader, node: Node) -> None:
    node.grabbed_elsewhere = True
    reader, events = make_reader(start=False)
    reader.start()
    wait_until(lambda: reader.state is DeviceState.ERROR, 3.0)
    assert reader.detail == f"grabbed by another program: {PATH}"
    assert all(h.closed for h in node.handles)  # nothing read from a device shared with others
    assert all("read" not in h.calls for h in node.handles)
    node.grabbed_elsewhere = False
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)


def test_permission_denied_is_an_error(make_reader, node: Node) -> None:
    node.denied = True
    reader, _ = make_reader(start=False)
    reader.start()
    wait_until(lambda: reader.state is DeviceState.ERROR, 3.0)
    assert reader.detail == f"permission denied: {PATH}"


def test_found_by_vendor_and_product(
    make_reader, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = bus.add("/dev/input/event3", rec.WEDGE_READER_CONSUMER)
    keyboard = bus.add("/dev/input/event4", rec.WEDGE_READER)
    bus.add("/dev/input/event5", rec.HANDSET)
    monkeypatch.setattr(evdev, "list_devices", bus.list_devices)
    reader, events = make_reader("0c27:3BFA")
    assert reader.detail == "open: 0c27:3BFA at /dev/input/event4"  # the node with digit keys
    assert [h.calls for h in consumer.handles] == [["close"]]  # looked at, never grabbed
    keyboard.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [rec.CARD_ID]


def test_vendor_and_product_not_plugged_in(
    make_reader, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus.add("/dev/input/event3", rec.HANDSET)
    monkeypatch.setattr(evdev, "list_devices", bus.list_devices)
    reader, _ = make_reader("0c27:3bfa", start=False)
    reader.start()
    wait_until(lambda: reader.detail == "not found: 0c27:3bfa", 3.0)
    assert reader.state is DeviceState.MISSING


# -- listeners and lifecycle ------------------------------------------------------------------


def test_raising_listener_is_logged_and_reading_goes_on(
    make_reader, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    def choke(event: BadgeEvent) -> None:
        raise RuntimeError(f"listener choked on {event.badge_id}")

    reader, events = make_reader()
    reader.subscribe(choke)
    node.play(rec.BURST)
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [rec.CARD_ID, rec.OTHER_ID]
    assert "RuntimeError" in caplog.text
    assert reader.state is DeviceState.OK


def test_events_come_on_the_reader_thread(make_reader, node: Node) -> None:
    reader, _ = make_reader()
    threads: list[str] = []
    reader.subscribe(lambda e: threads.append(threading.current_thread().name))
    node.play(rec.CARD)
    wait_until(lambda: len(threads) == 1, 3.0)
    assert threads == [f"badge-reader {PATH}"]


def test_unsubscribe(make_reader, node: Node) -> None:
    reader, events = make_reader()
    dropped: list[BadgeEvent] = []
    unsubscribe = reader.subscribe(dropped.append)
    node.play(rec.CARD)
    wait_until(lambda: len(dropped) == 1, 3.0)
    unsubscribe()
    unsubscribe()  # twice is harmless
    node.play(rec.OTHER)
    wait_until(lambda: len(events) == 2, 3.0)
    assert len(dropped) == 1


def test_start_again_after_stop(make_reader, node: Node) -> None:
    reader, events = make_reader()
    reader.stop()
    reader.stop()  # twice is harmless
    assert node.handles[0].closed
    reader.start()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    node.play(rec.CARD)
    wait_until(lambda: len(events) == 1, 3.0)
    assert reader.stats.reconnects == 0  # a restart is not a reconnect


def test_building_opens_nothing(make_reader, bus: Bus, node: Node) -> None:
    reader, _ = make_reader(start=False)
    assert reader_threads() == []
    assert node.handles == []
    assert reader.state is DeviceState.MISSING
    assert reader.detail == f"not started: {PATH}"


@pytest.mark.parametrize(
    ("device", "kwargs"),
    [
        (PATH, {"card_format": "wiegand34"}),
        (PATH, {"inter_key_timeout": 0}),
        (PATH, {"repeat_window_s": -1}),
        ("", {}),
        ("event3", {}),
        ("0c27-3bfa", {}),
    ],
)
def test_rejects_bad_settings(device: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="badge reader"):
        EvdevBadgeReader(device, **kwargs)
