"""The simulated hotplug monitor: announcements become device events."""

from __future__ import annotations

import pytest

from hardware.interfaces import DeviceEvent, DeviceState
from hardware.simulated import SimulatedHotplug


@pytest.fixture
def hotplug() -> SimulatedHotplug:
    h = SimulatedHotplug()
    h.start()
    return h


def test_announce_emits_a_device_event(hotplug: SimulatedHotplug) -> None:
    events: list[DeviceEvent] = []
    hotplug.subscribe(events.append)
    assert hotplug.announce("camera", DeviceState.MISSING, "usb 1-2 removed") is True
    hotplug.announce("handset", DeviceState.OK)
    assert events == [
        DeviceEvent("camera", DeviceState.MISSING, "usb 1-2 removed"),
        DeviceEvent("handset", DeviceState.OK, ""),
    ]


def test_unsubscribe_stops_events(hotplug: SimulatedHotplug) -> None:
    events: list[DeviceEvent] = []
    unsubscribe = hotplug.subscribe(events.append)
    unsubscribe()
    hotplug.announce("camera", DeviceState.OK)
    assert events == []


def test_unknown_device_is_rejected(hotplug: SimulatedHotplug) -> None:
    with pytest.raises(ValueError, match="camra"):
        hotplug.announce("camra", DeviceState.OK)


def test_stopped_monitor_emits_nothing(hotplug: SimulatedHotplug) -> None:
    events: list[DeviceEvent] = []
    hotplug.subscribe(events.append)
    hotplug.stop()
    assert hotplug.announce("camera", DeviceState.ERROR) is False
    assert events == []
