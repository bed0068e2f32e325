"""The serial badge reader against a real pseudo-terminal: framing, formats, repeats, hot-plug.

The reader opens the pty's slave by path with pyserial, as it would ``/dev/ttyUSB0``; the test
plays the badge reader by writing to the master. Nothing of the reader itself is mocked.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from hardware.badge_formats import encode_h10301
from hardware.interfaces import BadgeEvent, DeviceState
from hardware.serial_badge_reader import SerialBadgeReader
from kiosk.core.clock import FakeClock
from tests.waiting import wait_until

BADGE = "04A1B2C3"
OTHER = "11223344"
THIRD = "DEADBEEF"
H_BADGE = "12:345"
H_FRAME = encode_h10301(12, 345)
# Every badge's text, in any spelling a test writes: none may ever reach a log record.
SECRETS = (BADGE, OTHER, THIRD, "04a1b2c3", "04A1", "CAFEBABE", H_BADGE, "200:65000", "ZZZZ")
GAP_S = 0.3  # the inter-key timeout of most tests: short, but far above scheduling noise


class UsbSerial:
    """A USB serial reader: a pty reached through a symlink (as in /dev/serial/by-id/).

    Unplugging closes the master, which hangs up the slave under the reader, and removes the
    link, so reopening fails as for a vanished device, until it is plugged in again.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self._master: int | None = None

    def plug(self) -> None:
        master, slave = os.openpty()
        self.link.symlink_to(os.ttyname(slave))
        os.close(slave)  # the reader opens it by path, like a real device
        self._master = master

    def unplug(self) -> None:
        assert self._master is not None
        self.link.unlink()
        os.close(self._master)
        self._master = None

    def write(self, data: bytes) -> None:
        assert self._master is not None
        os.write(self._master, data)

    def close(self) -> None:
        if self._master is not None:
            self.unplug()


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("badge-reader")]


@pytest.fixture(autouse=True)
def no_badge_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in SECRETS:
            assert secret not in text, f"a badge reached the log: {record.getMessage()[:60]}"


@pytest.fixture
def device(tmp_path: Path) -> Iterator[UsbSerial]:
    d = UsbSerial(tmp_path / "ttyBADGE")
    d.plug()
    yield d
    d.close()


@pytest.fixture
def ports() -> list[serial.Serial]:
    """Every port the readers of a test opened, to check they were closed."""
    return []


@pytest.fixture
def make_reader(
    device: UsbSerial, ports: list[serial.Serial]
) -> Iterator[Callable[..., tuple[SerialBadgeReader, list[BadgeEvent]]]]:
    built: list[SerialBadgeReader] = []

    def opener(*args: Any, **kwargs: Any) -> serial.Serial:
        port = serial.Serial(*args, **kwargs)
        ports.append(port)
        return port

    def make(start: bool = True, **kwargs: Any) -> tuple[SerialBadgeReader, list[BadgeEvent]]:
        kwargs.setdefault("inter_key_timeout", GAP_S)
        kwargs.setdefault("open_serial", opener)
        reader = SerialBadgeReader(str(device.link), **kwargs)
        built.append(reader)
        events: list[BadgeEvent] = []
        reader.subscribe(events.append)
        if start:
            reader.start()
            # Write only to an open port: before pyserial sets raw mode the tty would cook
            # the bytes (CR to LF, echo).
            wait_until(lambda: reader.state is DeviceState.OK, 3.0)
        return reader, events

    yield make
    for reader in built:
        reader.stop()
    assert reader_threads() == []


def ids(events: list[BadgeEvent]) -> list[str]:
    return [e.badge_id for e in events]


# -- cards ------------------------------------------------------------------------------------


def test_reads_a_raw_card(make_reader, device: UsbSerial, clock: FakeClock) -> None:
    reader, events = make_reader(clock=clock.monotonic)
    assert reader.detail == f"open: {device.link}"
    device.write(b"04a1b2c3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [BADGE]
    assert events[0].at == clock.monotonic()
    assert reader.stats.badges == 1


def test_reads_h10301_cards_as_readers_print_them(make_reader, device: UsbSerial) -> None:
    _reader, events = make_reader(card_format="h10301")
    other = encode_h10301(200, 65000)
    device.write(format(H_FRAME, "026b").encode() + b"\r\n")
    device.write(format(other, "07x").encode() + b"\r\n")
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [H_BADGE, "200:65000"]


def test_h10301_with_bad_parity_is_ignored(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader(card_format="h10301")
    device.write(format(H_FRAME ^ 1, "07X").encode() + b"\r")
    device.write(format(H_FRAME, "07X").encode() + b"\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [H_BADGE]
    assert reader.stats.bad_frames == 1


def test_auto_reads_both(make_reader, device: UsbSerial) -> None:
    _reader, events = make_reader(card_format="auto")
    device.write(b"04:A1:B2:C3\r" + format(H_FRAME, "07X").encode() + b"\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [BADGE, H_BADGE]


def test_burst_of_cards_in_one_write(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader()
    device.write(b"04A1B2C3\r\n11223344\nDEADBEEF\r\x02CAFEBABE\x03\x0204A1B2C3\x03\r\n")
    wait_until(lambda: len(events) == 5, 3.0)
    assert ids(events) == [BADGE, OTHER, THIRD, "CAFEBABE", BADGE]
    assert reader.stats.bad_frames == 0


def test_custom_terminator(make_reader, device: UsbSerial) -> None:
    _reader, events = make_reader(terminator=b";")
    device.write(b"04A1B2C3;11223344;DEADBEEF\n")
    wait_until(lambda: len(events) == 3, 3.0)
    assert ids(events) == [BADGE, OTHER, THIRD]


# -- framing ----------------------------------------------------------------------------------


def test_card_split_with_a_short_pause_is_joined(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader()
    device.write(b"04A1")
    time.sleep(GAP_S / 6)  # the short pause under test: the reader times key gaps in real time
    device.write(b"B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [BADGE]
    assert reader.stats.dropped_partials == 0


def test_card_split_with_a_long_pause_is_dropped(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader()
    device.write(b"DEADBE")  # a card cut short: it must never join the next one
    wait_until(lambda: reader.stats.dropped_partials == 1, 3.0)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [BADGE]
    assert reader.stats.bad_frames == 0


def test_a_new_stx_drops_a_half_read_frame(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader()
    device.write(b"\x02DEADBE\x0204A1B2C3\x03")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [BADGE]
    assert reader.stats.dropped_partials == 1


def test_garbage_is_counted_and_ignored(
    make_reader, device: UsbSerial, caplog: pytest.LogCaptureFixture
) -> None:
    reader, events = make_reader()
    device.write(b"ZZZZ\r\xff\xfe\x80\r04A1B2C\r\x00\x01\r")
    device.write(b"A" * 1000)  # a line that never ends: one bad frame, not a growing buffer
    device.write(b"BCD\r")  # its end is not a frame of its own
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert ids(events) == [BADGE]
    assert reader.stats.bad_frames == 5
    assert reader.state is DeviceState.OK
    ignored = [r for r in caplog.records if "ignored a card" in r.getMessage()]
    assert ignored[0].levelno == logging.WARNING  # the first is worth a warning
    assert all(r.levelno == logging.DEBUG for r in ignored[1:])  # the next ones not


def test_stalled_reader_resumes(make_reader, device: UsbSerial) -> None:
    reader, events = make_reader()
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    time.sleep(0.5)  # the quiet under test, in real time: several read timeouts, no bytes
    assert reader.state is DeviceState.OK
    device.write(b"11223344\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [BADGE, OTHER]
    assert reader.stats.dropped_partials == 0


# -- repeats ----------------------------------------------------------------------------------


def test_same_card_within_the_window_counts_once(
    make_reader, device: UsbSerial, clock: FakeClock
) -> None:
    reader, events = make_reader(clock=clock.monotonic)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    clock.advance(1.5)
    device.write(b"04a1b2c3\r")  # the same badge, spelled otherwise
    wait_until(lambda: reader.stats.repeats == 1, 3.0)
    assert len(events) == 1


def test_same_card_after_the_window_counts_twice(
    make_reader, device: UsbSerial, clock: FakeClock
) -> None:
    reader, events = make_reader(clock=clock.monotonic)
    first = clock.monotonic()
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    clock.advance(2.0)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert [e.at for e in events] == [first, first + 2.0]
    assert reader.stats.repeats == 0


def test_another_card_is_never_a_repeat(make_reader, device: UsbSerial, clock: FakeClock) -> None:
    _reader, events = make_reader(clock=clock.monotonic)
    device.write(b"04A1B2C3\r11223344\r04A1B2C3\r")
    wait_until(lambda: len(events) == 3, 3.0)
    assert ids(events) == [BADGE, OTHER, BADGE]


# -- hot-plug ---------------------------------------------------------------------------------


def test_unplugged_reader_goes_missing_and_comes_back(
    make_reader, device: UsbSerial, ports: list[serial.Serial]
) -> None:
    reader, events = make_reader()
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)

    device.write(b"DEAD")  # half a card as the cable is pulled
    device.unplug()
    wait_until(lambda: reader.state is DeviceState.MISSING, 3.0)
    assert str(device.link) in reader.detail
    assert not ports[0].is_open
    wait_until(lambda: reader.detail.startswith("not found"), 3.0)  # it tried to reopen
    assert reader.state is DeviceState.MISSING

    device.plug()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    device.write(b"11223344\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [BADGE, OTHER]  # the half card did not join the next one
    assert reader.stats.reconnects == 1
    assert reader.stats.bad_frames == 0

    reader.stop()
    assert reader_threads() == []
    assert all(not p.is_open for p in ports)
    assert reader.state is DeviceState.MISSING


def test_reader_plugged_in_after_start(make_reader, device: UsbSerial) -> None:
    device.unplug()
    reader, events = make_reader(start=False)
    reader.start()
    wait_until(lambda: reader.detail.startswith("not found"), 3.0)
    assert reader.state is DeviceState.MISSING
    assert str(device.link) in reader.detail
    device.plug()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    assert reader.stats.reconnects == 0  # the first open is not a reconnect


def test_opening_backs_off(tmp_path: Path) -> None:
    attempts: list[float] = []

    def absent(port: str, **kwargs: Any) -> serial.Serial:
        attempts.append(time.monotonic())
        raise serial.SerialException(errno.ENOENT, f"could not open port {port}")

    reader = SerialBadgeReader(str(tmp_path / "ttyNONE"), open_serial=absent)
    reader.start()
    wait_until(lambda: len(attempts) == 3, 3.0)  # at 0, 0.5 and 1.5 s
    reader.stop()
    assert reader.state is DeviceState.MISSING
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 0.45 < gaps[0] < 0.9
    assert 0.95 < gaps[1] < 1.4
    assert reader_threads() == []  # the thread that tries is gone: stopped means no more tries
    assert len(attempts) == 3


def test_permission_denied_is_an_error_not_missing(tmp_path: Path) -> None:
    def denied(port: str, **kwargs: Any) -> serial.Serial:
        raise serial.SerialException(errno.EACCES, f"could not open port {port}")

    reader = SerialBadgeReader(str(tmp_path / "ttyUSB0"), open_serial=denied)
    reader.start()
    try:
        wait_until(lambda: reader.state is DeviceState.ERROR, 3.0)
        assert reader.detail == f"permission denied: {tmp_path / 'ttyUSB0'}"
    finally:
        reader.stop()


# -- listeners and lifecycle ------------------------------------------------------------------


def test_raising_listener_is_logged_and_the_reader_goes_on(
    make_reader, device: UsbSerial, caplog: pytest.LogCaptureFixture
) -> None:
    def choke(event: BadgeEvent) -> None:
        raise RuntimeError(f"listener choked on {event.badge_id}")

    reader, events = make_reader()
    reader.subscribe(choke)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)
    device.write(b"11223344\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert ids(events) == [BADGE, OTHER]
    assert "RuntimeError" in caplog.text
    assert reader.state is DeviceState.OK


def test_events_come_on_the_reader_thread(make_reader, device: UsbSerial) -> None:
    reader, _ = make_reader()
    threads: list[str] = []
    reader.subscribe(lambda e: threads.append(threading.current_thread().name))
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(threads) == 1, 3.0)
    assert threads == [f"badge-reader {device.link}"]


def test_unsubscribe(make_reader, device: UsbSerial, clock: FakeClock) -> None:
    reader, events = make_reader(clock=clock.monotonic)
    dropped: list[BadgeEvent] = []
    unsubscribe = reader.subscribe(dropped.append)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(dropped) == 1, 3.0)
    unsubscribe()
    unsubscribe()  # twice is harmless
    device.write(b"11223344\r")
    wait_until(lambda: len(events) == 2, 3.0)
    assert len(dropped) == 1


def test_stop_is_prompt_closes_the_port_and_start_again_works(
    make_reader, device: UsbSerial, ports: list[serial.Serial]
) -> None:
    reader, events = make_reader()
    began = time.monotonic()
    reader.stop()
    assert time.monotonic() - began < 0.5
    assert reader_threads() == []
    assert not ports[0].is_open
    assert reader.state is DeviceState.MISSING
    assert reader.detail.startswith("stopped")
    reader.stop()  # twice is harmless

    reader.start()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    device.write(b"04A1B2C3\r")
    wait_until(lambda: len(events) == 1, 3.0)


def test_building_opens_nothing(make_reader, ports: list[serial.Serial]) -> None:
    reader, _ = make_reader(start=False)
    assert reader_threads() == []
    assert ports == []
    assert reader.state is DeviceState.MISSING


@pytest.mark.parametrize(
    "kwargs",
    [
        {"card_format": "wiegand34"},
        {"baudrate": 0},
        {"terminator": b""},
        {"terminator": b"A"},
        {"inter_key_timeout": 0},
        {"repeat_window_s": -1},
    ],
)
def test_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SerialBadgeReader("/dev/ttyUSB0", **kwargs)
