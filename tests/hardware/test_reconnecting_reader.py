"""The loop the serial and evdev adapters share, with a scripted device: its failures and stop.

The adapters' own tests run it against ptys, recorded event nodes and ``loop://``; these cover
what they cannot easily provoke: a bug in reading, an errno that is not a vanished device.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.interfaces import DeviceState
from hardware.reconnecting_reader import ReconnectingReader
from tests.waiting import wait_until

SPEC = "/dev/kiosk-thing"
SECRET = "04A1B2C3"


class Device:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Script:
    """What each open and read does, in turn; then reads idle."""

    def __init__(self) -> None:
        self.opens: list[Callable[[], Device]] = []
        self.reads: list[BaseException] = []
        self.devices: list[Device] = []
        self.calls: list[str] = []

    def open(self) -> Device:
        return self.opens.pop(0)() if self.opens else self.new()

    def new(self) -> Device:
        device = Device(len(self.devices))
        self.devices.append(device)
        return device

    def read(self, device: Device, stop: threading.Event) -> None:
        if self.reads:
            raise self.reads.pop(0)
        stop.wait(0.01)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def make_reader(script: Script) -> Iterator[Callable[..., ReconnectingReader[Device]]]:
    built: list[ReconnectingReader[Device]] = []

    def make(**kwargs: Any) -> ReconnectingReader[Device]:
        kwargs.setdefault("open_device", script.open)
        kwargs.setdefault("read_once", script.read)
        reader: ReconnectingReader[Device] = ReconnectingReader(
            SPEC,
            role="thing",
            thread_name="thing-reader",
            close_device=lambda d: d.close(),
            on_open=lambda reconnect: script.calls.append(f"open {reconnect}"),
            on_lost=lambda: script.calls.append("lost"),
            **kwargs,
        )
        built.append(reader)
        return reader

    yield make
    for reader in built:
        reader.stop()
    # A reader stopped from its own thread is not waited for: it ends a moment later.
    wait_until(lambda: [t for t in threading.enumerate() if t.name == "thing-reader"] == [], 3.0)


def test_a_bug_in_reading_is_an_error_logged_without_its_message_then_reopened(
    make_reader, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script.reads = [RuntimeError(f"choked on {SECRET}")]
    reader = make_reader()
    reader.start()
    wait_until(lambda: len(script.devices) == 2, 3.0)
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)
    assert script.devices[0].closed
    assert script.calls == ["open False", "lost", "open True"]
    assert "RuntimeError" in caplog.text
    assert SECRET not in caplog.text
    assert [r.levelno for r in caplog.records if "read failed" in r.getMessage()] == [
        logging.WARNING
    ]


@pytest.mark.parametrize(
    ("code", "state", "what"),
    [
        (errno.ENODEV, DeviceState.MISSING, "disconnected"),
        (errno.EINVAL, DeviceState.ERROR, "read failed"),
    ],
)
def test_which_errnos_mean_gone(
    make_reader, script: Script, code: int, state: DeviceState, what: str
) -> None:
    gate = threading.Event()

    def held() -> Device:  # the reopen waits, so the failure's state stays to be seen
        gate.wait(10.0)
        return script.new()

    script.reads = [OSError(code, "no")]
    script.opens = [script.new, held]
    reader = make_reader(gone_errnos=frozenset({errno.ENODEV}))
    reader.start()
    try:
        wait_until(lambda: reader.detail == f"{what}: {SPEC}", 3.0)
        assert reader.state is state
        assert script.devices[0].closed
    finally:
        gate.set()
    wait_until(lambda: reader.state is DeviceState.OK, 3.0)


def test_open_failures_say_what_is_wrong(
    make_reader, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(exc: BaseException) -> Callable[[], Device]:
        def open_device() -> Device:
            raise exc

        return open_device

    caplog.set_level(logging.INFO, logger="hardware.reconnecting_reader")
    script.opens = [refuse(OSError(errno.EBUSY, "busy")), refuse(ValueError(SECRET))]
    reader = make_reader(where=lambda d: f" at /dev/thing{d.n}")
    reader.start()
    wait_until(lambda: reader.state is DeviceState.OK, 10.0)
    assert reader.detail == f"open: {SPEC} at /dev/thing0"
    said = [r.getMessage() for r in caplog.records if r.name == "hardware.reconnecting_reader"]
    assert said == [
        f"thing {SPEC}: error (in use by another program: busy)",
        f"thing {SPEC}: error (cannot open (ValueError))",
        f"thing {SPEC}: ok (open)",
    ]


def test_stop_from_the_reader_thread_does_not_wait_for_itself(make_reader, script: Script) -> None:
    reader: ReconnectingReader[Device]

    def read(device: Device, stop: threading.Event) -> None:
        reader.stop()

    reader = make_reader(read_once=read)
    reader.start()
    wait_until(lambda: reader.detail == f"stopped: {SPEC}", 3.0)
    assert script.devices[0].closed
    assert script.calls == ["open False", "lost"]
