"""Builds a kiosk's devices from its configuration.

Every call builds new adapters and the registries below are read-only: two kiosks in one
process each get their own devices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from hardware.interfaces import BadgeReader, Camera, Devices, Handset, Hotplug
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)

T = TypeVar("T")


@dataclass(frozen=True)
class DeviceSettings:
    """What the real adapters need besides their kind: where the device is, what to ask of it."""

    camera_source: str = "/dev/kiosk-camera"  # a V4L2 node (the udev rules' stable name) or file
    camera_width: int = 1280
    camera_height: int = 720
    camera_fps: float = 30.0
    # The reader's node (evdev), or its port (serial): /dev/serial/by-id/..., /dev/input/by-id/...
    # and the udev rules' stable name keep theirs; evdev also takes "vvvv:pppp" USB ids.
    badge_device: str = "/dev/kiosk-badge"
    badge_baudrate: int = 9600  # serial readers
    badge_format: str = "raw"  # raw | h10301 | auto
    handset_device: str = "/dev/kiosk-handset"
    handset_mode: str = "level"  # level (a key held while lifted) | toggle (each press flips)
    handset_codes: tuple[str, ...] = ()  # key names of the hook switch; () the usual ones
    handset_line: str = "cts"  # a serial hook contact's status line: cts | dsr | cd | ri
    handset_closed_means: str = "off_hook"  # what that contact closed means
    handset_audio: str | None = None  # the handset's ALSA device; None: a visit's test tone


def _opencv_camera(settings: DeviceSettings) -> Camera:
    # Imported here: a simulated kiosk need not load the V4L2 path.
    from hardware.opencv_camera import OpenCvCamera

    return OpenCvCamera(
        settings.camera_source,
        width=settings.camera_width,
        height=settings.camera_height,
        fps=settings.camera_fps,
    )


def _serial_badge_reader(settings: DeviceSettings) -> BadgeReader:
    from hardware.serial_badge_reader import SerialBadgeReader

    return SerialBadgeReader(
        settings.badge_device, baudrate=settings.badge_baudrate, card_format=settings.badge_format
    )


def _evdev_badge_reader(settings: DeviceSettings) -> BadgeReader:
    from hardware.evdev_badge_reader import EvdevBadgeReader

    return EvdevBadgeReader(settings.badge_device, card_format=settings.badge_format)


def _evdev_handset(settings: DeviceSettings) -> Handset:
    from hardware.evdev_handset import EvdevHandset

    return EvdevHandset(
        settings.handset_device,
        mode=settings.handset_mode,
        codes=list(settings.handset_codes) or None,
    )


def _serial_hook(settings: DeviceSettings) -> Handset:
    from hardware.serial_hook import SerialHookContact

    return SerialHookContact(
        settings.handset_device,
        line=settings.handset_line,
        closed_means=settings.handset_closed_means,
    )


# kind -> constructor, per device.
# The simulated camera films a generated person, as a kiosk's camera would: the login snapshot's
# face check and a visit's self-view then have someone to see.
_CAMERAS: Mapping[str, Callable[[DeviceSettings], Camera]] = MappingProxyType(
    {
        "simulated": lambda _settings: SimulatedCamera(scene="face"),
        "v4l2": _opencv_camera,  # a /dev node through OpenCV's V4L2 backend
        "file": _opencv_camera,  # a video file or stream, looped: demos and bench set-ups
    }
)
_HANDSETS: Mapping[str, Callable[[DeviceSettings], Handset]] = MappingProxyType(
    {
        "simulated": lambda _settings: SimulatedHandset(),
        "evdev": _evdev_handset,  # a USB HID handset's hook switch
        "serial": _serial_hook,  # a hook contact on a serial port's status line
    }
)
_BADGE_READERS: Mapping[str, Callable[[DeviceSettings], BadgeReader]] = MappingProxyType(
    {
        "simulated": lambda _settings: SimulatedBadgeReader(),
        "serial": _serial_badge_reader,  # a reader on a serial port
        "evdev": _evdev_badge_reader,  # a USB keyboard-wedge reader, grabbed exclusively
    }
)
_DEVICES = ("badge_reader", "camera", "handset")
# Where udev lists a kind's node when it is not the device's usual subsystem.
_SUBSYSTEMS: Mapping[str, str] = MappingProxyType({"serial": "tty"})
KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "camera": tuple(_CAMERAS),
        "handset": tuple(_HANDSETS),
        "badge_reader": tuple(_BADGE_READERS),
    }
)


def build_devices(kinds: Mapping[str, str], settings: DeviceSettings | None = None) -> Devices:
    """Build the devices ``kinds`` names, e.g. ``{"camera": "simulated", ...}``.

    Every device must be named: silently falling back to a simulated camera on a real kiosk
    would be worse than refusing to start. Raises ``ValueError`` naming the bad setting.
    """
    for device in kinds:
        if device not in _DEVICES:
            raise ValueError(f"hardware.{device}: unknown device (known: {', '.join(_DEVICES)})")
    settings = settings or DeviceSettings()
    return Devices(
        camera=_pick(kinds, "camera", _CAMERAS)(settings),
        handset=_pick(kinds, "handset", _HANDSETS)(settings),
        badge_reader=_pick(kinds, "badge_reader", _BADGE_READERS)(settings),
        hotplug=_hotplug(kinds, settings),
        **_handset_audio(settings),
    )


def _handset_audio(settings: DeviceSettings) -> dict[str, Any]:
    if not settings.handset_audio:
        return {}
    from hardware.alsa_audio import AlsaEarpiece, AlsaMicrophone

    return {
        "microphone": AlsaMicrophone(settings.handset_audio),
        "earpiece": AlsaEarpiece(settings.handset_audio),
    }


def _hotplug(kinds: Mapping[str, str], settings: DeviceSettings) -> Hotplug:
    """udev's notices for the real devices, found where their adapters open them; the simulated
    twin when no device has a node to watch (all simulated, or a camera playing a file)."""
    from hardware.device_match import rule_for_path

    paths = {
        "camera": settings.camera_source if kinds.get("camera") == "v4l2" else None,
        "handset": settings.handset_device if kinds.get("handset") != "simulated" else None,
        "badge_reader": settings.badge_device if kinds.get("badge_reader") != "simulated" else None,
    }
    rules = [
        rule
        for device, path in paths.items()
        if path is not None
        and (rule := rule_for_path(device, path, _SUBSYSTEMS.get(kinds[device]))) is not None
    ]
    if not rules:
        return SimulatedHotplug()
    from hardware.udev_hotplug import UdevHotplug

    return UdevHotplug(rules)


def _pick(kinds: Mapping[str, str], device: str, registry: Mapping[str, T]) -> T:
    known = ", ".join(sorted(registry))
    if device not in kinds:
        raise ValueError(f"hardware.{device}: no kind configured (known: {known})")
    kind = kinds[device]
    if kind not in registry:
        raise ValueError(f'hardware.{device}: unknown kind "{kind}" (known: {known})')
    return registry[kind]
