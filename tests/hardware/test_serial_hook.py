"""The hook contact on a serial status line, against pyserial's own ``loop://`` port.

There is no serial hardware here, so the layer below the adapter is pyserial's loopback, which
reads CTS as its own RTS and DSR as its DTR (CD always reads asserted, RI never). The test opens
that port for the contact and then sets RTS and DTR as a hook switch would close and open.
The contact's own code runs whole: thread, polling, debounce, reopening.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial

from hardware.interfaces import DeviceState, Handset, HookEvent, HookState
from hardware.serial_hook import SerialHookContact
from kiosk.core.clock import FakeClock
from tests.waiting import wait_until

PORT = "/dev/kiosk-handset"
OFF, ON = HookState.OFF_HOOK, HookState.ON_HOOK


class Wiring:
    """A USB-serial adapter with a hook contact, played through ``loop://``.

    Closing the contact raises RTS and DTR of the port the adapter opened, which ``loop://``
    reads back as CTS and DSR. Unplugging closes that port under the contact (its next read
    fails, as a vanished device's does) and makes opening fail until it is plugged in again.
    """

    def __init__(self) -> None:
        self.closed = False  # the contact
        self.plugged = True
        self.ports: list[serial.Serial] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def open(self, port: str, **kwargs: Any) -> serial.Serial:
        self.calls.append((port, kwargs))
        if not self.plugged:
            raise serial.SerialException(errno.ENOENT, f"could not open port {port}")
        opened = serial.serial_for_url("loop://", do_not_open=True, **kwargs)
        opened.rts = opened.dtr = self.closed  # as the contact is when plugged in
        opened.open()
        self.ports.append(opened)
        return opened

    def close_contact(self, closed: bool = True) -> None:
        self.closed = closed
        self.ports[-1].rts = self.ports[-1].dtr = closed

    def unplug(self) -> None:
        self.plugged = False
        self.ports[-1].close()


def contact_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("handset")]


def read_again(contact: SerialHookContact) -> None:
    """Wait until the contact has read the line once more, wholly after this call began."""
    # The poll under way may have read the line before the caller changed it: two more.
    seen = contact.stats.samples
    wait_until(lambda: contact.stats.samples >= seen + 2, 3.0)


def states(events: list[HookEvent]) -> list[HookState]:
    return [e.state for e in events]


@pytest.fixture
def wiring() -> Wiring:
    return Wiring()


@pytest.fixture
def make_contact(
    wiring: Wiring,
) -> Iterator[Callable[..., tuple[SerialHookContact, list[HookEvent]]]]:
    built: list[SerialHookContact] = []

    def make(start: bool = True, **kwargs: Any) -> tuple[SerialHookContact, list[HookEvent]]:
        kwargs.setdefault("open_serial", wiring.open)
        contact = SerialHookContact(PORT, **kwargs)
        built.append(contact)
        events: list[HookEvent] = []
        contact.subscribe(events.append)
        if start:
            contact.start()
            wait_until(lambda: contact.state is DeviceState.OK, 3.0)
            read_again(contact)  # the state read on open is taken
        return contact, events

    yield make
    for contact in built:
        contact.stop()
    assert contact_threads() == []
    assert all(not p.is_open for p in wiring.ports)


# -- the hook ---------------------------------------------------------------------------------


def test_lift_and_hang_up_give_two_events_in_order(make_contact, wiring: Wiring) -> None:
    contact, events = make_contact()
    assert contact.hook_state is ON
    assert events == []
    wiring.close_contact()
    wait_until(lambda: len(events) == 1, 3.0)
    assert contact.hook_state is OFF
    wiring.close_contact(False)
    wait_until(lambda: len(events) == 2, 3.0)
    read_again(contact)
    assert states(events) == [OFF, ON]
    assert contact.hook_state is ON
    assert contact.stats.changes == 2


def test_bounces_shorter_than_the_debounce_time_give_no_event(
    make_contact, wiring: Wiring, clock: FakeClock
) -> None:
    # Debounce times on a clock the test moves: no busy machine stretches them.
    contact, events = make_contact(clock=clock.monotonic)
    start = clock.monotonic()

    def to(offset: float) -> None:
        clock.advance(start + offset - clock.monotonic())

    def at(offset: float, closed: bool) -> None:
        to(offset)
        wiring.close_contact(closed)
        read_again(contact)

    # Every pair of (time, contact) the poller may see stays under 50 ms of being closed.
    at(0.000, True)
    at(0.020, False)
    at(0.030, True)
    at(0.070, True)
    at(0.075, False)
    to(10.0)
    read_again(contact)
    assert events == []
    assert contact.hook_state is ON
    assert contact.stats.bounces == 2

    # Lifted through its bounces: one change, once the contact has held closed for 50 ms.
    at(20.000, True)
    at(20.010, False)
    at(20.020, True)
    at(20.060, True)
    assert events == []
    to(20.080)
    wait_until(lambda: len(events) == 1, 3.0)
    assert states(events) == [OFF]
    assert events[0].at == start + 20.080
    assert contact.stats.bounces == 3


def test_closed_can_mean_on_hook(make_contact, wiring: Wiring) -> None:
    wiring.closed = True  # resting in its cradle, contact closed
    contact, events = make_contact(closed_means="on_hook")
    assert contact.hook_state is ON
    wiring.close_contact(False)
    wait_until(lambda: len(events) == 1, 3.0)
    assert states(events) == [OFF]


def test_reads_dsr(make_contact, wiring: Wiring, clock: FakeClock) -> None:
    contact, events = make_contact(line="DSR", clock=clock.monotonic)
    assert contact.line == "dsr"
    wiring.ports[-1].rts = True  # CTS: not the line read
    read_again(contact)
    clock.advance(1.0)
    read_again(contact)
    assert events == []
    wiring.ports[-1].dtr = True
    read_again(contact)
    clock.advance(1.0)
    wait_until(lambda: len(events) == 1, 3.0)
    assert contact.hook_state is OFF


@pytest.mark.parametrize(("line", "hook"), [("cd", OFF), ("ri", ON)])
def test_reads_the_line_named(make_contact, line: str, hook: HookState) -> None:
    contact, _ = make_contact(line=line)  # loop:// holds CD asserted and RI not
    assert contact.hook_state is hook


def test_lifted_when_started_is_one_change(make_contact, wiring: Wiring) -> None:
    wiring.closed = True
    contact, events = make_contact()
    assert contact.hook_state is OFF
    assert states(events) == [OFF]  # hook_state said on hook before: that changed


# -- hot-plug ---------------------------------------------------------------------------------


def test_unplugged_goes_missing_and_back_reports_the_hook_as_it_is_now(
    make_contact, wiring: Wiring
) -> None:
    contact, events = make_contact()
    wiring.unplug()
    wait_until(lambda: contact.state is DeviceState.MISSING, 2.0)
    assert contact.detail in (f"disconnected: {PORT}", f"not found: {PORT}")
    wait_until(lambda: contact.detail == f"not found: {PORT}", 3.0)  # reopening is tried, and fails
    assert contact.hook_state is ON

    wiring.closed = True  # lifted while the adapter was out
    wiring.plugged = True
    wait_until(lambda: contact.state is DeviceState.OK, 3.0)
    wait_until(lambda: len(events) == 1, 3.0)
    assert contact.hook_state is OFF
    assert contact.detail == f"open: {PORT}"
    assert contact.stats.reconnects == 1
    read_again(contact)
    assert states(events) == [OFF]


def test_replugged_as_it_was_gives_no_event(make_contact, wiring: Wiring) -> None:
    wiring.closed = True
    contact, events = make_contact()
    assert states(events) == [OFF]
    wiring.unplug()
    wait_until(lambda: contact.state is DeviceState.MISSING, 2.0)
    assert contact.hook_state is OFF  # a pulled cable hangs up nothing
    wiring.plugged = True
    wait_until(lambda: contact.stats.reconnects == 1, 3.0)
    read_again(contact)
    assert contact.state is DeviceState.OK
    assert states(events) == [OFF]


def test_not_plugged_in_when_started(make_contact, wiring: Wiring) -> None:
    wiring.plugged = False
    contact, events = make_contact(start=False)
    contact.start()
    wait_until(lambda: contact.detail == f"not found: {PORT}", 3.0)
    assert contact.state is DeviceState.MISSING
    wiring.plugged = True
    wait_until(lambda: contact.state is DeviceState.OK, 3.0)
    read_again(contact)
    assert events == []  # on hook, as it was said to be
    assert contact.stats.reconnects == 0  # the first open is not a reconnect
    assert wiring.calls[-1] == (PORT, {"exclusive": True})


def test_permission_denied_is_an_error(make_contact) -> None:
    def denied(port: str, **kwargs: Any) -> serial.Serial:
        raise serial.SerialException(errno.EACCES, f"could not open port {port}")

    contact, _ = make_contact(start=False, open_serial=denied)
    contact.start()
    wait_until(lambda: contact.state is DeviceState.ERROR, 3.0)
    assert contact.detail == f"permission denied: {PORT}"


# -- lifecycle --------------------------------------------------------------------------------


def test_stop_closes_the_port_and_start_again_works(make_contact, wiring: Wiring) -> None:
    contact, events = make_contact()
    contact.stop()
    assert contact_threads() == []
    assert not wiring.ports[0].is_open
    assert contact.state is DeviceState.MISSING
    assert contact.detail == f"stopped: {PORT}"
    contact.stop()  # twice is harmless

    wiring.closed = True
    contact.start()
    wait_until(lambda: len(events) == 1, 3.0)
    assert contact.hook_state is OFF


def test_events_come_on_the_contact_thread_and_unsubscribe(make_contact, wiring: Wiring) -> None:
    contact, events = make_contact()
    threads: list[str] = []
    unsubscribe = contact.subscribe(lambda e: threads.append(threading.current_thread().name))
    wiring.close_contact()
    wait_until(lambda: len(events) == 1, 3.0)
    unsubscribe()
    wiring.close_contact(False)
    wait_until(lambda: len(events) == 2, 3.0)
    assert threads == [f"handset {PORT}"]


def test_play_tone_does_nothing_and_says_so_once(
    make_contact, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hardware.serial_hook")
    handset: Handset
    handset, _ = make_contact(start=False)
    handset.play_tone("warning")
    handset.play_tone("warning")
    said = [r for r in caplog.records if "no speaker" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.DEBUG]


@pytest.mark.parametrize("line", ["rts", "dtr", "dcd", "txd", "", None])
def test_a_bad_line_is_refused_when_built(line: Any) -> None:
    with pytest.raises(ValueError, match=r"handset: .*(line|output).*cd, cts, dsr, ri"):
        SerialHookContact(PORT, line=line)


@pytest.mark.parametrize(
    "kwargs",
    [{"closed_means": "lifted"}, {"debounce_s": -0.01}, {"poll_interval_s": 0}],
)
def test_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="handset: "):
        SerialHookContact(PORT, **kwargs)


def test_rejects_no_port() -> None:
    with pytest.raises(ValueError, match="no serial port"):
        SerialHookContact("")
