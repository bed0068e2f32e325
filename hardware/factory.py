"""Builds a kiosk's devices from its configuration.

Every call builds new adapters and the registries below are read-only: two kiosks in one
process each get their own devices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from hardware.interfaces import BadgeReader, Camera, Handset, Hotplug
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)

T = TypeVar("T")

# kind -> constructor, per device. Real V4L2, evdev and serial adapters will be added here.
# The simulated camera films a generated person, as a kiosk's camera would: the login snapshot's
# face check and a visit's self-view then have someone to see.
_CAMERAS: Mapping[str, Callable[[], Camera]] = MappingProxyType(
    {"simulated": lambda: SimulatedCamera(scene="face")}
)
_HANDSETS: Mapping[str, Callable[[], Handset]] = MappingProxyType({"simulated": SimulatedHandset})
_BADGE_READERS: Mapping[str, Callable[[], BadgeReader]] = MappingProxyType(
    {"simulated": SimulatedBadgeReader}
)
_DEVICES = ("badge_reader", "camera", "handset")


@dataclass
class Devices:
    """The adapters one kiosk runs on; built stopped, the kiosk starts them."""

    camera: Camera
    handset: Handset
    badge_reader: BadgeReader
    hotplug: Hotplug


def build_devices(kinds: Mapping[str, str]) -> Devices:
    """Build the devices ``kinds`` names, e.g. ``{"camera": "simulated", ...}``.

    Every device must be named: silently falling back to a simulated camera on a real kiosk
    would be worse than refusing to start. Raises ``ValueError`` naming the bad setting.
    """
    for device in kinds:
        if device not in _DEVICES:
            raise ValueError(f"hardware.{device}: unknown device (known: {', '.join(_DEVICES)})")
    return Devices(
        camera=_pick(kinds, "camera", _CAMERAS)(),
        handset=_pick(kinds, "handset", _HANDSETS)(),
        badge_reader=_pick(kinds, "badge_reader", _BADGE_READERS)(),
        # One implementation today; the pyudev monitor will be chosen here.
        hotplug=SimulatedHotplug(),
    )


def _pick(kinds: Mapping[str, str], device: str, registry: Mapping[str, T]) -> T:
    known = ", ".join(sorted(registry))
    if device not in kinds:
        raise ValueError(f"hardware.{device}: no kind configured (known: {known})")
    kind = kinds[device]
    if kind not in registry:
        raise ValueError(f'hardware.{device}: unknown kind "{kind}" (known: {known})')
    return registry[kind]
