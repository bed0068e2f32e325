"""The factory: simulated devices from configuration, clear errors for anything else."""

from __future__ import annotations

import threading

import pytest

from hardware.factory import Devices, build_devices
from hardware.interfaces import BadgeEvent
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)

SIMULATED = {"camera": "simulated", "handset": "simulated", "badge_reader": "simulated"}


def test_builds_simulated_devices() -> None:
    devices = build_devices(SIMULATED)
    assert isinstance(devices, Devices)
    assert isinstance(devices.camera, SimulatedCamera)
    assert isinstance(devices.handset, SimulatedHandset)
    assert isinstance(devices.badge_reader, SimulatedBadgeReader)
    assert isinstance(devices.hotplug, SimulatedHotplug)


def test_building_starts_nothing() -> None:
    before = set(threading.enumerate())
    devices = build_devices(SIMULATED)
    assert set(threading.enumerate()) == before
    assert devices.camera.latest_frame() is None


def test_two_kiosks_get_their_own_devices() -> None:
    a, b = build_devices(SIMULATED), build_devices(SIMULATED)
    assert a.camera is not b.camera
    assert a.badge_reader is not b.badge_reader
    heard_by_b: list[BadgeEvent] = []
    b.badge_reader.subscribe(heard_by_b.append)
    assert isinstance(a.badge_reader, SimulatedBadgeReader)
    a.badge_reader.start()
    a.badge_reader.present("04A1B2C3D4")
    assert heard_by_b == []


def test_unknown_kind_names_device_and_known_kinds() -> None:
    with pytest.raises(ValueError) as raised:
        build_devices({**SIMULATED, "camera": "v4l3"})
    assert str(raised.value) == 'hardware.camera: unknown kind "v4l3" (known: simulated)'


@pytest.mark.parametrize("device", ["handset", "badge_reader"])
def test_unknown_kind_for_other_devices(device: str) -> None:
    with pytest.raises(ValueError, match=f'^hardware.{device}: unknown kind "serial"'):
        build_devices({**SIMULATED, device: "serial"})


def test_missing_device_is_an_error_not_a_silent_simulation() -> None:
    kinds = {k: v for k, v in SIMULATED.items() if k != "handset"}
    with pytest.raises(ValueError, match=r"^hardware\.handset: no kind configured"):
        build_devices(kinds)


def test_unknown_device_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^hardware\.camra: unknown device"):
        build_devices({**SIMULATED, "camra": "simulated"})
