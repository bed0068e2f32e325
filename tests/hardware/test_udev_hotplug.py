"""The udev hotplug monitor: fakes only at the pyudev boundary, the asyncio reader path for real.

The fake monitor's file descriptor is a real pipe: an event is queued and a byte written, the
loop's ``add_reader`` wakes the hotplug, and ``poll(0)`` hands the queued device over.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from hardware.device_match import DEFAULT_RULES, DeviceRule
from hardware.interfaces import DeviceEvent, DeviceState
from hardware.udev_hotplug import PyudevContext, UdevHotplug
from tests.waiting import until

OK, MISSING, ERROR = DeviceState.OK, DeviceState.MISSING, DeviceState.ERROR
RULES = (
    DeviceRule("camera", "video4linux", vendor_id="046d", product_id="0825"),
    DeviceRule("badge_reader", "input", by_id="usb-RFIDeas_*-event-kbd"),
    DeviceRule("handset", "input", devnode="/dev/kiosk-handset"),
)


@dataclass(frozen=True)
class FakeDevice:
    """What pyudev hands over: the database's devices (no action) and a monitor's events."""

    sys_path: str
    subsystem: str
    device_node: str | None
    properties: Mapping[str, str] = field(default_factory=dict)
    device_links: tuple[str, ...] = ()
    action: str | None = None


CAMERA = FakeDevice(
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/video4linux/video0",
    "video4linux",
    "/dev/video0",
    {"ID_VENDOR_ID": "046D", "ID_MODEL_ID": "0825"},
)
BADGE = FakeDevice(
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0/input/input7/event5",
    "input",
    "/dev/input/event5",
    {"DEVLINKS": "/dev/input/by-id/usb-RFIDeas_USB_Keyboard-event-kbd"},
)
HANDSET = FakeDevice(
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.3/input/input9/event7",
    "input",
    "/dev/input/event7",
    device_links=("/dev/kiosk-handset",),
)
KEYBOARD = FakeDevice(  # the technician's keyboard: same subsystem, none of the kiosk's
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-5/1-5:1.0/input/input3/event2",
    "input",
    "/dev/input/event2",
    {"ID_VENDOR_ID": "046d", "ID_MODEL_ID": "c31c"},
    ("/dev/input/by-id/usb-Logitech_USB_Keyboard-event-kbd",),
)


def event(device: FakeDevice, action: str) -> FakeDevice:
    return replace(device, action=action)


class FakeMonitor:
    """pyudev.Monitor's surface over a real pipe, so the loop really selects on it."""

    def __init__(self, calls: list[str]) -> None:
        self._calls = calls
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._queue: deque[FakeDevice | Exception] = deque()
        self.filters: list[str] = []
        self.polls: list[float | None] = []

    def filter_by(self, subsystem: str) -> None:
        self._calls.append(f"filter_by {subsystem}")
        self.filters.append(subsystem)

    def start(self) -> None:
        self._calls.append("monitor.start")

    def fileno(self) -> int:
        return self._read_fd

    def poll(self, timeout: float | None = None) -> FakeDevice | None:
        self.polls.append(timeout)
        if self._queue:
            item = self._queue.popleft()
            if isinstance(item, Exception):
                raise item
            return item
        # Drained: empty the pipe so the loop stops reporting it readable.
        try:
            while os.read(self._read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        return None

    def send(self, *items: FakeDevice | Exception) -> None:
        """Queue events as the kernel would, and make the socket readable."""
        self._queue.extend(items)
        os.write(self._write_fd, b"!")

    def close(self) -> None:
        os.close(self._read_fd)
        os.close(self._write_fd)


class FakeContext:
    """pyudev's side of the boundary: a database to list, a monitor, udev's run folder."""

    def __init__(self, run_path: Path, database: list[FakeDevice]) -> None:
        self.run_path = str(run_path)
        self.database = database
        self.calls: list[str] = []
        self.monitor_ = FakeMonitor(self.calls)
        self.while_listing: Callable[[], None] | None = None

    def list_devices(self, **match: str) -> Iterator[FakeDevice]:
        self.calls.append(f"list {match['subsystem']}")
        if self.while_listing:
            self.while_listing()
        return iter([d for d in self.database if d.subsystem == match["subsystem"]])

    def monitor(self) -> FakeMonitor:
        self.calls.append("monitor")
        return self.monitor_


@pytest.fixture
def context(tmp_path: Path) -> Iterator[FakeContext]:
    (tmp_path / "udev").mkdir()
    ctx = FakeContext(tmp_path / "udev", [CAMERA, KEYBOARD])
    yield ctx
    ctx.monitor_.close()


def started(rules: tuple[DeviceRule, ...], context: FakeContext) -> tuple[UdevHotplug, list]:
    hotplug = UdevHotplug(rules, context_factory=lambda: context)
    events: list[DeviceEvent] = []
    hotplug.subscribe(events.append)
    hotplug.start()
    return hotplug, events


# -- udev ------------------------------------------------------------------------------------


def test_initial_state_is_read_from_the_database(context: FakeContext) -> None:
    async def body() -> None:
        hotplug, events = started(RULES, context)
        assert hotplug.using_udev
        assert hotplug.states() == {"camera": OK, "badge_reader": MISSING, "handset": MISSING}
        await asyncio.sleep(0.05)  # the loop runs a while: no event may come of the baseline
        assert events == []  # the baseline is states()'s, not an event
        hotplug.stop()

    asyncio.run(body())
    # Filtered in the kernel, listening before the database is read, nothing read after.
    assert context.calls == [
        "monitor",
        "filter_by input",
        "filter_by video4linux",
        "monitor.start",
        "list input",
        "list video4linux",
    ]


def test_unplug_and_replug_through_the_loop_reader(context: FakeContext) -> None:
    async def body() -> None:
        hotplug, events = started(RULES, context)
        monitor = context.monitor_
        monitor.send(event(CAMERA, "remove"))
        assert events == []  # nothing is read until the loop sees the pipe readable
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("camera", MISSING, "remove /dev/video0")]
        assert hotplug.states()["camera"] is MISSING

        monitor.send(event(CAMERA, "add"), event(BADGE, "add"), event(HANDSET, "add"))
        await until(lambda: len(events) == 4, 2.0)
        assert events[1:] == [
            DeviceEvent("camera", OK, "add /dev/video0"),
            DeviceEvent("badge_reader", OK, "add /dev/input/event5"),
            DeviceEvent("handset", OK, "add /dev/input/event7"),
        ]
        assert hotplug.states() == {"camera": OK, "badge_reader": OK, "handset": OK}
        assert set(monitor.polls) == {0}  # never a blocking read on the loop
        hotplug.stop()

    asyncio.run(body())


def test_only_state_changes_are_published(context: FakeContext) -> None:
    async def body() -> None:
        hotplug, events = started(RULES, context)
        metadata_node = replace(
            CAMERA, sys_path=CAMERA.sys_path[:-1] + "1", device_node="/dev/video1"
        )
        context.monitor_.send(
            event(metadata_node, "add"),  # a second node of the present camera
            event(CAMERA, "change"),  # still the camera
            event(KEYBOARD, "remove"),  # not a kiosk device
            event(KEYBOARD, "add"),
            event(CAMERA, "bind"),  # not a node event
        )
        await until(lambda: not context.monitor_._queue, 1.0)
        await asyncio.sleep(0.05)  # the loop runs a while: none of them may become an event
        assert events == []
        # One of the camera's two nodes going leaves it present.
        context.monitor_.send(event(CAMERA, "remove"))
        await until(lambda: not context.monitor_._queue, 1.0)
        await asyncio.sleep(0.05)  # the loop runs a while: the removal may not become an event
        assert events == []
        context.monitor_.send(event(metadata_node, "remove"))
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("camera", MISSING, "remove /dev/video1")]
        hotplug.stop()

    asyncio.run(body())


def test_a_change_that_drops_the_stable_name_makes_it_missing(context: FakeContext) -> None:
    context.database.append(HANDSET)

    async def body() -> None:
        hotplug, events = started(RULES, context)
        assert hotplug.states()["handset"] is OK
        context.monitor_.send(event(replace(HANDSET, device_links=()), "change"))
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("handset", MISSING, "change /dev/input/event7")]
        hotplug.stop()

    asyncio.run(body())


def test_an_event_while_the_database_is_read_is_not_lost(context: FakeContext) -> None:
    # The badge reader arrives after its subsystem was listed but before start() returned.
    context.while_listing = lambda: (
        context.monitor_.send(event(BADGE, "add")) if len(context.calls) == 6 else None
    )

    async def body() -> None:
        hotplug, events = started(RULES, context)
        assert hotplug.states()["badge_reader"] is MISSING
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("badge_reader", OK, "add /dev/input/event5")]
        hotplug.stop()

    asyncio.run(body())


def test_a_failing_read_resynchronises_from_the_database(
    context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        hotplug, events = started(RULES, context)
        context.database.remove(CAMERA)  # gone while the kernel dropped its event
        context.monitor_.send(OSError(105, "No buffer space available"))
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("camera", MISSING, "resynchronised after a lost udev event")]
        hotplug.stop()

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        asyncio.run(body())
    assert "reading the udev database again" in caplog.text


def test_a_raising_subscriber_does_not_silence_the_others(
    context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: DeviceEvent) -> None:
        raise RuntimeError("listener bug")

    async def body() -> None:
        hotplug = UdevHotplug(RULES, context_factory=lambda: context)
        events: list[DeviceEvent] = []
        hotplug.subscribe(broken)
        hotplug.subscribe(events.append)
        hotplug.start()
        context.monitor_.send(event(CAMERA, "remove"), event(BADGE, "add"))
        await until(lambda: len(events) == 2, 2.0)
        assert [e.device for e in events] == ["camera", "badge_reader"]
        hotplug.stop()

    with caplog.at_level(logging.ERROR):
        asyncio.run(body())
    failures = [r for r in caplog.records if r.name == "hardware.listeners"]
    assert len(failures) == 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failures)


def test_unsubscribe_and_stop(context: FakeContext) -> None:
    async def body() -> None:
        hotplug = UdevHotplug(RULES, context_factory=lambda: context)
        kept: list[DeviceEvent] = []
        dropped: list[DeviceEvent] = []
        hotplug.subscribe(kept.append)
        unsubscribe = hotplug.subscribe(dropped.append)
        hotplug.start()
        unsubscribe()
        context.monitor_.send(event(CAMERA, "remove"))
        await until(lambda: kept, 2.0)
        assert dropped == []

        hotplug.stop()
        assert not hotplug.using_udev
        # stop() took the reader off the loop: removing it again finds nothing.
        assert asyncio.get_running_loop().remove_reader(context.monitor_.fileno()) is False
        context.monitor_.send(event(CAMERA, "add"))
        await asyncio.sleep(0.05)  # the loop runs a while: a stopped hotplug reads nothing
        assert kept == [DeviceEvent("camera", MISSING, "remove /dev/video0")]
        assert hotplug.states()["camera"] is MISSING  # the last known state stays readable

    asyncio.run(body())


def test_a_restart_announces_what_changed_while_stopped(context: FakeContext) -> None:
    async def body() -> None:
        hotplug, events = started(RULES, context)
        hotplug.stop()
        context.database[:] = [BADGE]
        hotplug.start()
        assert [(e.device, e.state) for e in events] == [("badge_reader", OK), ("camera", MISSING)]
        hotplug.stop()

    asyncio.run(body())


def test_start_needs_a_loop() -> None:
    with pytest.raises(RuntimeError, match="running asyncio loop"):
        UdevHotplug(RULES, context_factory=lambda: pytest.fail("not reached")).start()


def test_start_on_a_given_loop_from_outside_it(context: FakeContext) -> None:
    loop = asyncio.new_event_loop()
    try:
        hotplug = UdevHotplug(RULES, loop=loop, context_factory=lambda: context)
        events: list[DeviceEvent] = []
        hotplug.subscribe(events.append)
        hotplug.start()
        context.monitor_.send(event(CAMERA, "remove"))
        loop.run_until_complete(until(lambda: events, 2.0))
        assert events == [DeviceEvent("camera", MISSING, "remove /dev/video0")]
        hotplug.stop()
    finally:
        loop.close()


# -- fallback scan ---------------------------------------------------------------------------


def no_udev() -> FakeContext:
    raise ImportError("No library named udev")


def scan_rules(tmp_path: Path) -> tuple[DeviceRule, ...]:
    (tmp_path / "by-id").mkdir()
    return (
        DeviceRule("camera", "video4linux", devnode=str(tmp_path / "kiosk-camera")),
        DeviceRule("badge_reader", "input", by_id=str(tmp_path / "by-id" / "usb-RFIDeas_*")),
        DeviceRule("handset", "input", devnode=str(tmp_path / "kiosk-handset")),
    )


def fallback_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "polling /dev" in r.getMessage()]


def test_fallback_scan_when_udev_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules = scan_rules(tmp_path)
    camera = tmp_path / "kiosk-camera"
    camera.touch()
    badge = tmp_path / "by-id" / "usb-RFIDeas_USB_Keyboard-event-kbd"

    async def body() -> None:
        hotplug = UdevHotplug(rules, scan_interval_s=0.02, context_factory=no_udev)
        events: list[DeviceEvent] = []
        hotplug.subscribe(events.append)
        hotplug.start()
        assert not hotplug.using_udev
        assert hotplug.states() == {"camera": OK, "badge_reader": MISSING, "handset": MISSING}

        camera.unlink()
        await until(lambda: events, 2.0)
        assert events == [DeviceEvent("camera", MISSING, "gone")]
        camera.touch()
        badge.touch()
        await until(lambda: len(events) == 3, 2.0)
        assert set(events[1:]) == {
            DeviceEvent("camera", OK, f"found {camera}"),
            DeviceEvent("badge_reader", OK, f"found {badge}"),
        }
        await asyncio.sleep(0.1)  # five more scans, in real time: no change, no event
        assert len(events) == 3
        assert hotplug.states() == {"camera": OK, "badge_reader": OK, "handset": MISSING}

        hotplug.stop()
        camera.unlink()
        await asyncio.sleep(0.1)  # five scans' time, in real time: the scan was cancelled
        assert len(events) == 3
        hotplug.start()  # the same kiosk restarting: no second warning
        assert events[3:] == [DeviceEvent("camera", MISSING, "gone")]
        hotplug.stop()

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        asyncio.run(body())
    warnings = fallback_warnings(caplog)
    assert len(warnings) == 1
    assert "No library named udev" in warnings[0]
    assert "every 0.02 s" in warnings[0]
    assert all(r.levelno == logging.WARNING for r in caplog.records if "polling" in r.message)


def test_a_dangling_stable_link_is_a_missing_device(tmp_path: Path) -> None:
    rules = scan_rules(tmp_path)
    (tmp_path / "kiosk-camera").symlink_to(tmp_path / "video0")  # udev left it; node gone

    async def body() -> None:
        hotplug = UdevHotplug(rules, context_factory=no_udev)
        hotplug.start()
        assert hotplug.states()["camera"] is MISSING
        hotplug.stop()

    asyncio.run(body())


def test_fallback_when_udev_is_not_running(
    tmp_path: Path, context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    # A container: pyudev loads and even opens a monitor, but no udevd fills /run/udev.
    context.run_path = str(tmp_path / "no-such-run-udev")

    async def body() -> None:
        hotplug = UdevHotplug(scan_rules(tmp_path), context_factory=lambda: context)
        hotplug.start()
        assert not hotplug.using_udev
        hotplug.stop()

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        asyncio.run(body())
    assert "no udev database at" in fallback_warnings(caplog)[0]


def test_fallback_when_the_monitor_cannot_be_created(
    tmp_path: Path, context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse() -> FakeMonitor:
        raise OSError("Could not create udev monitor")

    context.monitor = refuse  # type: ignore[method-assign]

    async def body() -> None:
        hotplug = UdevHotplug(scan_rules(tmp_path), context_factory=lambda: context)
        hotplug.start()
        assert not hotplug.using_udev
        hotplug.stop()

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        asyncio.run(body())
    assert "Could not create udev monitor" in fallback_warnings(caplog)[0]


def test_usb_ids_alone_cannot_be_scanned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules = (*scan_rules(tmp_path)[1:], RULES[0])  # the camera by vendor and product only

    async def body() -> None:
        hotplug = UdevHotplug(rules, context_factory=no_udev)
        hotplug.start()
        assert hotplug.states()["camera"] is ERROR
        hotplug.stop()

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        asyncio.run(body())
    assert "camera: USB ids cannot be checked without udev" in caplog.text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        UdevHotplug(())
    with pytest.raises(ValueError, match="scan_interval_s"):
        UdevHotplug(RULES, scan_interval_s=0)


# -- this machine ----------------------------------------------------------------------------


def test_this_machine_udev_or_the_fallback(caplog: pytest.LogCaptureFixture) -> None:
    """The real pyudev boundary: udev where this machine runs it, the /dev scan where not."""
    has_udev = os.path.isdir("/run/udev")
    context = PyudevContext()  # pyudev itself must load here, udevd or not
    assert list(context.list_devices(subsystem="mem")) or list(
        context.list_devices(subsystem="tty")
    )

    async def body() -> bool:
        hotplug = UdevHotplug(DEFAULT_RULES, scan_interval_s=0.05)
        hotplug.start()
        states = hotplug.states()
        assert set(states) == {"camera", "badge_reader", "handset"}
        assert set(states.values()) <= {OK, MISSING}
        await asyncio.sleep(0.1)  # two scans in real time: a fall-back from udev would show by now
        using_udev = hotplug.using_udev
        hotplug.stop()
        return using_udev

    with caplog.at_level(logging.WARNING, logger="hardware.udev_hotplug"):
        using_udev = asyncio.run(body())
    if has_udev:
        assert using_udev, caplog.text
        assert fallback_warnings(caplog) == []
    else:
        assert not using_udev
        assert ["no udev database at /run/udev" in w for w in fallback_warnings(caplog)] == [True]
